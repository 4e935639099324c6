"""CDK entry point: ``python infra/app.py [OUTDIR]`` synthesises dev and prod templates offline.

The account comes from the deploying credentials (``CDK_DEFAULT_ACCOUNT``, set by the cdk CLI);
left unset, the templates are account-agnostic, which is what the tests and linters check.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aws_cdk import App
from image_processing.config import ENVIRONMENTS
from image_processing.stack import ImageProcessingStack

CDK_JSON = Path(__file__).resolve().parent / "cdk.json"


def feature_flags() -> dict[str, object]:
    """cdk.json's context, so `python infra/app.py` and the cdk CLI synthesise the same thing."""
    context: dict[str, object] = json.loads(CDK_JSON.read_text())["context"]
    return context


def build(outdir: str | None = None) -> App:
    """The app with one stack per environment in ``ENVIRONMENTS``."""
    app = App(outdir=outdir, context=feature_flags())
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    # The pipeline deploys a built image with `cdk deploy -c image_tag=<git sha>`.
    image_tag = app.node.try_get_context("image_tag")
    for name, config in ENVIRONMENTS.items():
        if image_tag:
            config = replace(config, image_tag=str(image_tag))
        ImageProcessingStack(app, f"ImageProcessing-{name}", config=config, account=account)
    return app


if __name__ == "__main__":
    build(sys.argv[1] if len(sys.argv) > 1 else None).synth()
