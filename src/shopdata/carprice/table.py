"""The probability table: every family's price probabilities for every possible car.

The input space is finite: 4 x 4 x 3 x 3 x 3 x 4 = 1,728 combinations of the six attributes.
``train`` writes, next to ``model.skops``, ``probabilities.json`` holding for each model family
fitted on all rows (the chosen one and the others) its ``predict_proba`` for every combination,
in :func:`combinations` order, as exact (round-tripping) JSON floats, together with the SHA-256
of ``model.skops``. ``model.json`` records the table's own SHA-256.

``predict`` answers from this table, marginals included (a marginal is a weighted average of
table rows, see :mod:`shopdata.carprice.predict`), so it needs neither scikit-learn nor skops:
the whole process takes a fraction of a second instead of seconds of imports. Before answering
it checks that ``model.skops`` and the table are the files ``model.json`` describes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopdata.carprice.data import CLASSES, FEATURES, LEVELS
from shopdata.carprice.persist import MODEL_FILE, Manifest, ModelError, read_manifest
from shopdata.carprice.predict import Scorer

TABLE_FILE = "probabilities.json"

_RADIX = [len(LEVELS[name]) for name in FEATURES]
_SIZE = math.prod(_RADIX)

_CODE = {name: {level: code for code, level in enumerate(LEVELS[name])} for name in FEATURES}


def combinations() -> list[dict[str, str]]:
    """Every complete car, in the table's order (the last attribute varies fastest)."""
    return [
        dict(zip(FEATURES, combo, strict=True))
        for combo in itertools.product(*(LEVELS[name] for name in FEATURES))
    ]


def position(row: Mapping[str, str]) -> int:
    """Index of a complete car in :func:`combinations` order."""
    index = 0
    for name, size in zip(FEATURES, _RADIX, strict=True):
        index = index * size + _CODE[name][row[name]]
    return index


@dataclass(frozen=True)
class ProbabilityTable:
    """The table as read from ``probabilities.json``."""

    chosen: str
    model_sha256: str
    families: dict[str, list[Sequence[float]]]
    """Family -> one probability tuple (``CLASSES`` order) per combination."""

    def scorer(self, family: str) -> Scorer:
        """A scorer looking complete rows up in ``family``'s column of the table."""
        column = self.families[family]

        def score(rows: Sequence[Mapping[str, str]]) -> list[Sequence[float]]:
            return [column[position(row)] for row in rows]

        return score


def table_payload(
    chosen: str, model_sha256: str, families: Mapping[str, Sequence[Sequence[float]]]
) -> str:
    """The JSON text of the table (one line per combination and family, for readable diffs)."""
    header = {
        "chosen": chosen,
        "model_sha256": model_sha256,
        "features": list(FEATURES),
        "classes": list(CLASSES),
        "order": "itertools.product of each feature's levels, in feature order",
    }
    head = json.dumps(header, indent=2)[:-2]
    parts = [head + ',\n  "families": {']
    blocks = []
    for name, rows in families.items():
        lines = ",\n".join("      " + json.dumps([float(p) for p in row]) for row in rows)
        blocks.append(f'\n    "{name}": [\n{lines}\n    ]')
    parts.append(",".join(blocks))
    parts.append("\n  }\n}\n")
    return "".join(parts)


def write_table(
    directory: Path,
    chosen: str,
    model_sha256: str,
    families: Mapping[str, Sequence[Sequence[float]]],
) -> str:
    """Write ``probabilities.json`` into ``directory``; return its SHA-256."""
    payload = table_payload(chosen, model_sha256, families).encode()
    (directory / TABLE_FILE).write_bytes(payload)
    return hashlib.sha256(payload).hexdigest()


def _refuse(path: Path, problem: str) -> ModelError:
    return ModelError(f"refusing to use {path}: {problem}; run `shopdata carprice train` again")


def _parse(raw: Any, path: Path) -> ProbabilityTable:
    size = _SIZE
    try:
        families: dict[str, list[Sequence[float]]] = {
            str(name): list(rows) for name, rows in raw["families"].items()
        }
        table = ProbabilityTable(
            chosen=str(raw["chosen"]), model_sha256=str(raw["model_sha256"]), families=families
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise _refuse(path, f"it lacks {error} or has another layout") from None
    for name, rows in families.items():
        # the hash check already rules out tampering; this catches a table of another layout
        if len(rows) != size or not all(
            isinstance(row, list) and len(row) == len(CLASSES) for row in rows
        ):
            raise _refuse(path, f"family {name} does not hold {size} rows of {len(CLASSES)}")
    if table.chosen not in families:
        raise _refuse(path, f"it has no probabilities of the chosen family {table.chosen}")
    return table


def load_table(directory: Path) -> tuple[ProbabilityTable, Manifest]:
    """The probability table of the model in ``directory``, after checking both files' hashes."""
    manifest = read_manifest(directory)
    model = directory / MODEL_FILE
    actual = hashlib.sha256(model.read_bytes()).hexdigest()
    if actual != manifest.sha256:
        raise ModelError(
            f"refusing to load {model}: its SHA-256 is {actual}, but model.json records "
            f"{manifest.sha256}; the file changed after training, "
            "run `shopdata carprice train` again"
        )
    path = directory / TABLE_FILE
    if not manifest.table_sha256 or not path.is_file():
        raise ModelError(
            f"no probability table {path} for this model (older `train`); "
            "run `shopdata carprice train` again"
        )
    payload = path.read_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    if digest != manifest.table_sha256:
        raise _refuse(
            path,
            f"its SHA-256 is {digest}, but model.json records {manifest.table_sha256}, "
            "so it changed after training",
        )
    try:
        raw = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _refuse(path, f"it is not valid JSON ({error})") from None
    table = _parse(raw, path)
    if table.model_sha256 != manifest.sha256 or table.chosen != manifest.model:
        raise _refuse(path, "it was written for another model than model.json describes")
    return table, manifest
