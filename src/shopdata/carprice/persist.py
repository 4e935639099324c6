"""Saving and loading the fitted model without trusting pickles.

The model is written with skops (``model.skops``), which stores the object graph as data and, on
load, instantiates only types we list. Next to it ``model.json`` records the file's SHA-256, the
scikit-learn and skops versions that wrote it and the data the model was trained on. Loading
refuses, with a message saying what to do, when

* the file's SHA-256 differs from the manifest (changed or corrupted after training),
* the running scikit-learn version differs (fitted estimators are not portable across versions),
* the file needs a type outside :data:`TRUSTED_TYPES`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from shopdata.carprice.data import Row

MODEL_FILE = "model.skops"
MANIFEST_FILE = "model.json"
METRICS_FILE = "metrics.json"
"""Written by ``train`` (see :mod:`shopdata.carprice.train`), read by ``evaluate``."""

TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "shopdata.carprice.models.ThermometerEncoder",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.tree._tree.Tree",
    }
)
"""Types beyond skops' defaults that our pipelines need; anything else is refused."""


class ModelError(RuntimeError):
    """The model cannot be used; the message says why and what to run."""


@dataclass(frozen=True)
class Manifest:
    """What ``model.json`` records about ``model.skops``."""

    model: str
    sha256: str
    sklearn_version: str
    skops_version: str
    data_source: str
    data_sha256: str
    seed: int
    checked_max_probability: float
    """Highest probability the model family gave to any held-out row in cross-validation."""
    table_sha256: str = ""
    """SHA-256 of ``probabilities.json`` (see :mod:`shopdata.carprice.table`); empty if none."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_model(
    model: Any,
    directory: Path,
    manifest_fields: dict[str, Any],
    probabilities: Mapping[str, Sequence[Sequence[float]]] | None = None,
) -> Manifest:
    """Write ``model.skops``, the probability table if given, and ``model.json``.

    ``probabilities`` maps each family to its probabilities for every combination (see
    :mod:`shopdata.carprice.table`); the table records the model's SHA-256 and the manifest the
    table's, so neither can be swapped unnoticed.
    """
    import sklearn
    import skops
    import skops.io as sio

    from shopdata.carprice.table import write_table

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    sio.dump(model, path)
    digest = _sha256(path)
    table = (
        write_table(directory, manifest_fields["model"], digest, probabilities)
        if probabilities is not None
        else ""
    )
    manifest = Manifest(
        sha256=digest,
        sklearn_version=sklearn.__version__,
        skops_version=skops.__version__,
        table_sha256=table,
        **manifest_fields,
    )
    (directory / MANIFEST_FILE).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return manifest


def read_manifest(directory: Path) -> Manifest:
    """The manifest of the model in ``directory``; :class:`ModelError` when absent or broken."""
    path = directory / MANIFEST_FILE
    if not (directory / MODEL_FILE).exists() or not path.exists():
        raise ModelError(
            f"no trained model in {directory} (expected {MODEL_FILE} and {MANIFEST_FILE}); "
            "run `shopdata carprice train` first"
        )
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _bad_manifest(path, str(error)) from None
    if not isinstance(raw, dict):
        raise _bad_manifest(path, f"it holds a JSON {type(raw).__name__}, not an object")
    try:
        manifest = Manifest(**raw)
    except TypeError as error:
        raise _bad_manifest(path, str(error)) from None
    for field in fields(Manifest):
        value = getattr(manifest, field.name)
        wanted = _FIELD_TYPES[field.type]
        if isinstance(value, bool) or not isinstance(value, wanted):
            raise _bad_manifest(
                path,
                f"{field.name} is {value!r}, expected a {' or '.join(t.__name__ for t in wanted)}",
            )
    return manifest


_FIELD_TYPES: dict[object, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (float, int),
}
"""``Manifest`` field annotations (strings, under ``from __future__ import annotations``)."""


def _bad_manifest(path: Path, problem: str) -> ModelError:
    return ModelError(
        f"{path} is not a valid model manifest ({problem}); "
        "run `shopdata carprice train` to rewrite it"
    )


def load_model(directory: Path) -> tuple[Any, Manifest]:
    """Load the model in ``directory`` after checking its hash, versions and types."""
    import sklearn
    import skops.io as sio

    manifest = read_manifest(directory)
    path = directory / MODEL_FILE
    actual = _sha256(path)
    if actual != manifest.sha256:
        raise ModelError(
            f"refusing to load {path}: its SHA-256 is {actual}, but {MANIFEST_FILE} records "
            f"{manifest.sha256}; the file changed after training, "
            "run `shopdata carprice train` again"
        )
    if manifest.sklearn_version != sklearn.__version__:
        raise ModelError(
            f"refusing to load {path}: it was written with scikit-learn "
            f"{manifest.sklearn_version}, this is scikit-learn {sklearn.__version__}; "
            "run `shopdata carprice train` again"
        )
    needed = set(sio.get_untrusted_types(file=path))
    untrusted = sorted(needed - TRUSTED_TYPES)
    if untrusted:
        raise ModelError(
            f"refusing to load {path}: it contains types outside the trusted list: "
            f"{', '.join(untrusted)}"
        )
    return sio.load(path, trusted=sorted(needed)), manifest


def training_data(manifest: Manifest) -> tuple[Row, ...]:
    """The table the model was trained on, verified by its SHA-256.

    Marginalisation weights and nearest rows come from this table, so it must be the same one
    the model saw: the recorded file if it is still there and unchanged, else the bundled copy
    if that is the same data.
    """
    from shopdata.carprice.data import CarDataError, bundled_path, load_car_data

    for candidate in (Path(manifest.data_source), bundled_path()):
        if candidate.is_file():
            try:
                data = load_car_data(candidate)
            except CarDataError:
                continue  # overwritten with something else: not the data the model saw
            if data.sha256 == manifest.data_sha256:
                return data.rows
    raise ModelError(
        f"the data the model was trained on ({manifest.data_source}, sha256 "
        f"{manifest.data_sha256}) is gone or changed; run `shopdata carprice train` again"
    )
