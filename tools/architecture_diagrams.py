"""Architecture diagrams of the image-processing platform, drawn from code with ``diagrams``.

``python tools/architecture_diagrams.py DOCS_DIR`` (part of ``make docs``) writes into
``DOCS_DIR/architecture/``:

* ``image-processing.png``: the runtime architecture, one node per construct of the CDK app
  (same names as ``infra/image_processing``), grouped by account, VPC and subnet tier.
* ``image-processing-delivery.png``: accounts, identities and the CI/CD path into them.

Graphviz ``dot`` must be installed (``make system-deps``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from diagrams import Cluster, Diagram, Edge
from diagrams.aws.analytics import Athena, GlueDataCatalog, ManagedStreamingForKafka, Quicksight
from diagrams.aws.compute import ECR, Fargate, Lambda
from diagrams.aws.database import Dynamodb
from diagrams.aws.devtools import CloudDevelopmentKit
from diagrams.aws.integration import SNS, SQS, Eventbridge
from diagrams.aws.management import (
    Cloudformation,
    Cloudtrail,
    CloudwatchAlarm,
    CloudwatchLogs,
    ControlTower,
    Organizations,
    OrganizationsAccount,
)
from diagrams.aws.network import APIGateway, Endpoint
from diagrams.aws.security import (
    KMS,
    WAF,
    Cognito,
    IAMPermissions,
    IAMRole,
    SingleSignOn,
)
from diagrams.aws.storage import SimpleStorageServiceS3Bucket
from diagrams.onprem.ci import GithubActions
from diagrams.onprem.client import Users

GRAPH = {"fontsize": "22", "pad": "0.4", "nodesep": "0.55", "ranksep": "0.9", "splines": "spline"}
DATA = Edge(color="#1f6feb", penwidth="2.0")
CONTROL = Edge(color="#6e7781", style="dashed")
PURGE_COLOR = "#cf222e"
#: The VPC endpoints the Network construct creates: gateway (S3, DynamoDB) then interface
#: endpoints, named as in network.py (tests/infra/test_infra_docs.py keeps the two in step).
ENDPOINTS = ("S3", "DynamoDB", "ECR", "ECR Docker", "Logs", "Monitoring", "SQS", "KMS", "STS")
#: Every store the purge deleter deletes from (the diagram draws one red arrow to each); "queue"
#: is the ImageEvents box, whose dead-letter queue the deleter reads.
PURGE_TARGETS = ("raw", "processed", "results", "table", "queue")


def endpoint_label() -> str:
    """The endpoints box: gateway endpoints on one line, interface endpoints below."""
    gateway, interface = ENDPOINTS[:2], ENDPOINTS[2:]
    return (
        f"VPC endpoints\n{', '.join(gateway)} (gateway)\n"
        f"{', '.join(interface[:4])},\n{', '.join(interface[4:])}"
    )


def purge_edge() -> Edge:
    return Edge(color=PURGE_COLOR, style="dashed", label="delete at T + 7 d")


def architecture(outdir: Path) -> Path:
    """The runtime picture: ingest (API + Kafka) -> archive -> process -> analyse, and purge."""
    target = outdir / "image-processing"
    with Diagram(
        "Image processing on AWS (eu-west-1, one account per environment)",
        filename=str(target),
        show=False,
        direction="LR",
        outformat="png",
        graph_attr=GRAPH,
    ):
        users = Users("Upload web app\nusers")
        producer = Users("Producer web app\n(Kafka client)")
        analysts = Users("Analysts")
        with Cluster("Workload account: image-<env>"):
            with Cluster("Edge (regional)"):
                waf = WAF("WebAcl\nmanaged rules\n+ per-IP rate")
                api = APIGateway("UploadApi\nPOST /uploads\nthrottled")
                pool = Cognito("Users\n(user pool)")
            with Cluster("VPC: isolated subnets in 2-3 AZs, no NAT, no IGW"):
                with Cluster("processing subnets"):
                    upload_url = Lambda("UploadUrl\npresigned POST")
                    bridge = Fargate("KafkaBridge\n1-6 tasks")
                    processor = Fargate("Processor\n1-40 tasks\n(Fargate + Spot)")
                    audit = Lambda("PurgeAudit\ndeleter, every 15 min")
                with Cluster("data subnets"):
                    kafka = ManagedStreamingForKafka(
                        "KafkaStream (MSK)\nIAM auth, TLS\n24 h retention"
                    )
                endpoints = Endpoint(endpoint_label())
            with Cluster("Archive: keys carry upload time T, unversioned, SSE-KMS, TLS only"):
                raw = SimpleStorageServiceS3Bucket("Raw\nuploads/<T day>/\nkafka/<T day>/")
                processed = SimpleStorageServiceS3Bucket(
                    "Processed\nderived/<T day>/\nmetadata/dt=<T day>/"
                )
            table = Dynamodb("Metadata table\nexpires_at = T + 7 d\nno PITR")
            with Cluster("ImageEvents"):
                bus = Eventbridge("ObjectCreated\nrule")
                queue = SQS("WorkQueue 2 d\n+ DLQ 3 d")
            with Cluster("Analytics"):
                catalog = GlueDataCatalog("Glue table\n(projection 7 d)")
                athena = Athena("Athena workgroup\n10 GiB/query cap")
                results = SimpleStorageServiceS3Bucket(
                    "QueryResults\ndeleted 30 min\nafter writing"
                )
            with Cluster("Security & operations"):
                keys = KMS("Keys: data,\nlogs, stream")
                boundary = IAMPermissions("Workload\nboundary")
                logs = CloudwatchLogs("Log groups\n5 days, KMS")
                alarms = CloudwatchAlarm("OpsAlarms")
                topic = SNS("On-call topic")
            registry = ECR("ECR\nimmutable tags")
        bi = Quicksight("QuickSight\ndirect query,\nno SPICE, no exports")

        users >> DATA >> waf >> DATA >> api >> DATA >> upload_url
        api >> CONTROL >> pool
        upload_url >> Edge(color="#6e7781", style="dashed", label="register\n(expires_at)") >> table
        users >> Edge(color="#1f6feb", penwidth="2.0", label="image bytes\n(presigned POST)") >> raw
        producer >> DATA >> kafka >> DATA >> bridge >> DATA >> raw
        bridge >> Edge(color="#6e7781", style="dashed", label="register\n(expires_at)") >> table
        raw >> DATA >> bus >> DATA >> queue >> DATA >> processor
        raw >> Edge(color="#1f6feb", penwidth="2.0", label="read image") >> processor
        processor >> DATA >> processed
        processor >> CONTROL >> table
        processed >> DATA >> catalog >> DATA >> athena >> DATA >> results
        analysts >> DATA >> bi >> DATA >> athena
        stores = {
            "raw": raw,
            "processed": processed,
            "results": results,
            "table": table,
            "queue": queue,
        }
        for name in PURGE_TARGETS:
            audit >> purge_edge() >> stores[name]
        registry >> CONTROL >> processor
        # Lay the security row out left to right instead of stacking it.
        hidden = Edge(style="invis")
        endpoints >> hidden >> keys >> hidden >> boundary >> hidden >> logs
        logs >> hidden >> alarms >> CONTROL >> topic
        audit >> CONTROL >> alarms
    return target.with_suffix(".png")


def delivery(outdir: Path) -> Path:
    """Accounts, people and pipelines: who can change what, and how code reaches prod."""
    target = outdir / "image-processing-delivery"
    with Diagram(
        "Accounts, identities and delivery",
        filename=str(target),
        show=False,
        direction="LR",
        outformat="png",
        graph_attr=GRAPH,
    ):
        engineers = Users("Engineers,\nanalysts, on-call")
        github = GithubActions("GitHub Actions\nmake test, build,\nsign, cdk diff")
        with Cluster("AWS Organization"):
            org = Organizations("Management\n(SCPs only)")
            tower = ControlTower("Control Tower\nguardrails")
            sso = SingleSignOn("IAM Identity Center\npermission sets")
            with Cluster("Security OU"):
                log_archive = OrganizationsAccount("log-archive\nCloudTrail org trail")
                trail = Cloudtrail("CloudTrail\n(management events)")
            with Cluster("Infrastructure OU"):
                tooling = OrganizationsAccount("tooling\nECR, Signer")
                deploy = IAMRole("GitHub OIDC\ndeploy role")
            with Cluster("Workloads OU"):
                dev = OrganizationsAccount("image-dev")
                prod = OrganizationsAccount("image-prod")
                stack = Cloudformation("ImageProcessing-<env>\nchange set")
        cdk = CloudDevelopmentKit("infra/app.py\n(synth offline)")

        engineers >> DATA >> sso
        sso >> CONTROL >> dev
        sso >> CONTROL >> prod
        org >> CONTROL >> tower
        tower >> CONTROL >> log_archive
        trail >> CONTROL >> log_archive
        engineers >> DATA >> github
        github >> Edge(label="OIDC, no keys") >> deploy
        cdk >> CONTROL >> github
        deploy >> DATA >> tooling
        deploy >> DATA >> stack
        stack >> DATA >> dev
        stack >> Edge(label="manual approval", color="#cf222e") >> prod
    return target.with_suffix(".png")


def write(docs: Path) -> list[Path]:
    """Write both PNGs into ``docs/architecture``; return their paths."""
    outdir = docs / "architecture"
    outdir.mkdir(parents=True, exist_ok=True)
    return [architecture(outdir), delivery(outdir)]


def main(argv: list[str]) -> int:
    """Write both PNGs under the docs folder given as the only argument."""
    if len(argv) != 1:
        print("usage: tools/architecture_diagrams.py DOCS_DIR", file=sys.stderr)
        return 2
    for path in write(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
