"""The diagrams are generated from code and the design document embeds them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "architecture_diagrams.py"
DOC = ROOT / "docs" / "architecture" / "image-processing.md"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_diagram_script_writes_both_pictures(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    names = ["image-processing.png", "image-processing-delivery.png"]
    assert result.stdout.splitlines() == [str(tmp_path / "architecture" / n) for n in names]
    for name in names:
        assert (tmp_path / "architecture" / name).read_bytes()[:8] == PNG_MAGIC


def test_diagram_script_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stderr) == (
        2,
        "usage: tools/architecture_diagrams.py DOCS_DIR\n",
    )


def test_document_embeds_committed_diagrams_and_covers_the_brief() -> None:
    text = DOC.read_text()
    for name in ("image-processing.png", "image-processing-delivery.png"):
        assert f"]({name})" in text
        assert (DOC.parent / name).read_bytes()[:8] == PNG_MAGIC
    assert "```mermaid" in text
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "Decision: AWS",
        "Assumptions",
        "End-to-end flow",
        "Requirements, concerns and best practices",
        "Cost at the assumed load, 10x and 100x",
        "Failure modes, RPO and RTO",
        "The 7-day purge: how it is guaranteed and verified",
        "Identity and access as teams grow",
        "CI/CD",
        "Infrastructure as code and its tests",
        "Open questions and limits",
    ]


def _table_after(text: str, marker: str) -> list[list[str]]:
    """Rows (cells) of the first markdown table after ``marker``, header and rule excluded."""
    lines = text[text.index(marker) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_cost_tables_add_up() -> None:
    """The stated totals are the sums of their rows (to the rounding the text admits)."""
    text = DOC.read_text()
    base = _table_after(text, "**Base load")
    items = [int(row[-1].replace(",", "")) for row in base if not row[0].startswith("**")]
    assert sum(items) == 1844
    assert base[-1][-1] == "**about 1,840** (= $0.20 per 1,000 images)"
    hundred = _table_after(text, "| Item | USD/month |")
    items = [int(row[-1].replace(",", "")) for row in hundred if not row[0].startswith("**")]
    assert sum(items) == 34_950
    assert hundred[-1][-1] == "**about 35,000** ($0.039 per 1,000 images)"


def _diagram_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("image_processing_diagram", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_diagram_names_every_endpoint_the_network_creates() -> None:
    from image_processing.network import _INTERFACE_ENDPOINTS

    module = _diagram_module()
    # A new endpoint in network.py fails here (KeyError) until the diagram names it.
    names = {
        "EcrApi": "ECR",
        "EcrDocker": "ECR Docker",
        "Logs": "Logs",
        "Monitoring": "Monitoring",
        "Sqs": "SQS",
        "Kms": "KMS",
        "Sts": "STS",
    }
    interface = tuple(names[n] for n in _INTERFACE_ENDPOINTS)
    assert ("S3", "DynamoDB", *interface) == module.ENDPOINTS
    assert module.endpoint_label() == (
        "VPC endpoints\nS3, DynamoDB (gateway)\nECR, ECR Docker, Logs, Monitoring,\nSQS, KMS, STS"
    )


def test_diagram_draws_the_purge_to_every_store_and_the_processor_reading_raw() -> None:
    module = _diagram_module()
    assert module.PURGE_TARGETS == ("raw", "processed", "results", "table", "queue")
    source = SCRIPT.read_text()
    assert 'raw >> Edge(color="#1f6feb", penwidth="2.0", label="read image") >> processor' in source
    assert (
        'bridge >> Edge(color="#6e7781", style="dashed", label="register\\n(expires_at)") >> table'
        in source
    )


def test_document_states_the_contract_the_config_enforces() -> None:
    from image_processing.config import PURGE_BOUND_MINUTES, RETENTION_DAYS

    text = DOC.read_text()
    contract = text[text.index("**Contract.**") : text.index("**How the bound is met.**")]
    assert f"**available for {RETENTION_DAYS} days after T**" in contract
    hours = PURGE_BOUND_MINUTES // 60
    assert f"**gone from every store by T + {RETENTION_DAYS} days + {hours} hours**" in contract
    assert "to confirm" not in contract.replace('"to confirm"', "")
    # Facts the review corrected stay corrected.
    assert "quarterly S3 Inventory" not in text
    assert "alarm history (kept 15 months" not in text
    assert "*history* is kept only 14 days" in text
    assert "Intelligent-Tiering\nhas no minimum storage duration" in text
