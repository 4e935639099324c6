"""Synthesise the image-processing CDK app once per session, offline, for every infra test.

jsii starts a Node process and synthesis takes ~15 s, so templates are built once and shared.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest
from infra_helpers import Synth

INFRA_DIR = Path(__file__).resolve().parents[2] / "infra"
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.pop("CDK_DEFAULT_ACCOUNT", None)
if str(INFRA_DIR) not in sys.path:
    sys.path.insert(0, str(INFRA_DIR))


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synth]:
    """dev and prod templates synthesised into a temporary cloud assembly."""
    from aws_cdk.assertions import Template

    # Loaded under a unique name: a top-level module called "app" could shadow another one.
    spec = importlib.util.spec_from_file_location("image_processing_app", INFRA_DIR / "app.py")
    assert spec is not None and spec.loader is not None
    cdk_app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cdk_app)

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk_app.build(str(outdir))
    app.synth()
    result = {}
    from aws_cdk import CfnElement, Stack

    for stack in app.node.children:
        if not isinstance(stack, Stack):
            continue
        name = stack.node.id.removeprefix("ImageProcessing-")
        path = outdir / f"{stack.node.id}.template.json"
        paths = {
            stack.resolve(child.logical_id): child.node.path.split("/", 1)[1]
            for child in stack.node.find_all()
            if isinstance(child, CfnElement)
        }
        result[name] = Synth(
            env=name,
            path=path,
            template=json.loads(path.read_text()),
            assertions=Template.from_stack(stack),
            paths=paths,
        )
    return result


@pytest.fixture(params=["dev", "prod"])
def synth(request: pytest.FixtureRequest, synthesized: dict[str, Synth]) -> Synth:
    """Each environment in turn: every promise must hold in dev and in prod."""
    return synthesized[request.param]
