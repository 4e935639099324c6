"""Promises: customer-managed encryption, TLS only, nothing public, private processing, and IAM
without wildcards on data stores, every role capped by the workload boundary."""

from __future__ import annotations

from typing import Any

from image_processing.security import PLATFORM_ACTIONS, TAMPER_ACTIONS
from infra_helpers import DATA_STORE_PREFIXES, Synth, as_list, policy_statements, ref_id


def _keys(synth: Synth) -> set[str]:
    return set(synth.resources("AWS::KMS::Key"))


def _key_paths(synth: Synth) -> dict[str, str]:
    return {k: synth.path_of(k) for k in _keys(synth)}


def test_keys_are_customer_managed_rotated_and_retained(synth: Synth) -> None:
    assert sorted(_key_paths(synth).values()) == [
        "Keys/Data/Resource",
        "Keys/Logs/Resource",
        "Keys/Stream/Resource",
    ]
    for key in synth.resources("AWS::KMS::Key").values():
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["DeletionPolicy"] == "Retain"


def test_data_buckets_use_the_data_key_and_only_the_log_bucket_is_sse_s3(synth: Synth) -> None:
    encryption = {}
    for logical_id, bucket in synth.resources("AWS::S3::Bucket").items():
        (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        default = rule["ServerSideEncryptionByDefault"]
        key = _key_paths(synth).get(ref_id(default.get("KMSMasterKeyID")) or "", None)
        encryption[synth.path_of(logical_id)] = (default["SSEAlgorithm"], key)
    assert encryption == {
        # S3 server access log delivery cannot write to SSE-KMS buckets (documented exception).
        "Archive/AccessLogs/Resource": ("AES256", None),
        "Archive/Raw/Resource": ("aws:kms", "Keys/Data/Resource"),
        "Archive/Processed/Resource": ("aws:kms", "Keys/Data/Resource"),
        "Analytics/QueryResults/Resource": ("aws:kms", "Keys/Data/Resource"),
    }


def test_every_other_store_is_encrypted_with_a_stack_key(synth: Synth) -> None:
    keys = _key_paths(synth)

    def key_of(value: Any) -> str:
        return keys[ref_id(value) or ""]

    (table,) = synth.resources("AWS::DynamoDB::Table").values()
    sse = table["Properties"]["SSESpecification"]
    assert (sse["SSEEnabled"], sse["SSEType"]) == (True, "KMS")
    assert key_of(sse["KMSMasterKeyId"]) == "Keys/Data/Resource"
    for queue in synth.resources("AWS::SQS::Queue").values():
        assert key_of(queue["Properties"]["KmsMasterKeyId"]) == "Keys/Data/Resource"
    for topic in synth.resources("AWS::SNS::Topic").values():
        assert key_of(topic["Properties"]["KmsMasterKeyId"]) == "Keys/Data/Resource"
    for group in synth.resources("AWS::Logs::LogGroup").values():
        assert key_of(group["Properties"]["KmsKeyId"]) == "Keys/Logs/Resource"
    for function in synth.resources("AWS::Lambda::Function").values():
        assert key_of(function["Properties"]["KmsKeyArn"]) == "Keys/Data/Resource"
    for repository in synth.resources("AWS::ECR::Repository").values():
        config = repository["Properties"]["EncryptionConfiguration"]
        assert config["EncryptionType"] == "KMS"
        assert key_of(config["KmsKey"]) == "Keys/Data/Resource"
    (cluster,) = synth.resources("AWS::MSK::Cluster").values()
    encryption = cluster["Properties"]["EncryptionInfo"]
    assert key_of(encryption["EncryptionAtRest"]["DataVolumeKMSKeyId"]) == "Keys/Stream/Resource"
    (workgroup,) = synth.resources("AWS::Athena::WorkGroup").values()
    results = workgroup["Properties"]["WorkGroupConfiguration"]["ResultConfiguration"]
    assert results["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    assert key_of(results["EncryptionConfiguration"]["KmsKey"]) == "Keys/Data/Resource"
    (catalog,) = synth.resources("AWS::Glue::DataCatalogEncryptionSettings").values()
    at_rest = catalog["Properties"]["DataCatalogEncryptionSettings"]["EncryptionAtRest"]
    assert at_rest["CatalogEncryptionMode"] == "SSE-KMS"
    assert key_of(at_rest["SseAwsKmsKeyId"]) == "Keys/Data/Resource"


def _denies_insecure_transport(statements: list[dict[str, Any]]) -> bool:
    return any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_every_bucket_queue_and_topic_refuses_plain_http(synth: Synth) -> None:
    bucket_policies = {
        ref_id(p["Properties"]["Bucket"]): p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("AWS::S3::BucketPolicy").values()
    }
    assert set(bucket_policies) == set(synth.resources("AWS::S3::Bucket"))
    for statements in bucket_policies.values():
        assert _denies_insecure_transport(statements)
        assert any(
            s["Effect"] == "Deny"
            and s.get("Condition") == {"NumericLessThan": {"s3:TlsVersion": 1.2}}
            for s in statements
        )
    queue_policies: dict[str, list[dict[str, Any]]] = {}
    for policy in synth.resources("AWS::SQS::QueuePolicy").values():
        for queue in policy["Properties"]["Queues"]:
            queue_policies[ref_id(queue) or ""] = policy["Properties"]["PolicyDocument"][
                "Statement"
            ]
    assert set(queue_policies) == set(synth.resources("AWS::SQS::Queue"))
    assert all(_denies_insecure_transport(s) for s in queue_policies.values())
    topic_policies = {
        ref_id(t): p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("AWS::SNS::TopicPolicy").values()
        for t in p["Properties"]["Topics"]
    }
    assert set(topic_policies) == set(synth.resources("AWS::SNS::Topic"))
    assert all(_denies_insecure_transport(s) for s in topic_policies.values())
    (cluster,) = synth.resources("AWS::MSK::Cluster").values()
    assert cluster["Properties"]["EncryptionInfo"]["EncryptionInTransit"] == {
        "ClientBroker": "TLS",
        "InCluster": True,
    }


def test_nothing_is_public(synth: Synth) -> None:
    for bucket in synth.resources("AWS::S3::Bucket").values():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert bucket["Properties"]["OwnershipControls"] == {
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
        }
    # Ingress comes from the VPC CIDR (a Fn::GetAtt) or other security groups, never the world.
    open_ranges = ["0.0.0.0/0", "::/0"]
    for group in synth.resources("AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") not in open_ranges, rule
            assert "CidrIpv6" not in rule
    for rule in synth.resources("AWS::EC2::SecurityGroupIngress").values():
        assert rule["Properties"].get("CidrIp") not in open_ranges
    types = {r["Type"] for r in synth.template["Resources"].values()}
    assert not types & {
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::EIP",
        "AWS::Lambda::Url",
        "AWS::EC2::Route",
    }
    for subnet in synth.resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    (cluster,) = synth.resources("AWS::MSK::Cluster").values()
    broker = cluster["Properties"]["BrokerNodeGroupInfo"]
    assert broker["ConnectivityInfo"] == {"PublicAccess": {"Type": "DISABLED"}}
    assert cluster["Properties"]["ClientAuthentication"] == {
        "Sasl": {"Iam": {"Enabled": True}},
        "Unauthenticated": {"Enabled": False},
    }
    for permission in synth.resources("AWS::Lambda::Permission").values():
        assert permission["Properties"]["Principal"] != "*"
        assert "SourceArn" in permission["Properties"]


def _subnet_group(synth: Synth, subnet: Any) -> str:
    tags = synth.template["Resources"][ref_id(subnet) or ""]["Properties"]["Tags"]
    values = {t["Key"]: t["Value"] for t in tags}
    assert values["aws-cdk:subnet-type"] == "Isolated"
    return values["aws-cdk:subnet-name"]


def test_processing_runs_only_in_isolated_subnets(synth: Synth) -> None:
    azs = {"dev": 2, "prod": 3}[synth.env]
    for service in synth.resources("AWS::ECS::Service").values():
        network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"
        groups = [_subnet_group(synth, s) for s in network["Subnets"]]
        assert groups == ["processing"] * azs
    for function in synth.resources("AWS::Lambda::Function").values():
        groups = [_subnet_group(synth, s) for s in function["Properties"]["VpcConfig"]["SubnetIds"]]
        assert groups == ["processing"] * azs
    (cluster,) = synth.resources("AWS::MSK::Cluster").values()
    subnets = cluster["Properties"]["BrokerNodeGroupInfo"]["ClientSubnets"]
    assert [_subnet_group(synth, s) for s in subnets] == ["data"] * azs
    for task in synth.resources("AWS::ECS::TaskDefinition").values():
        (container,) = task["Properties"]["ContainerDefinitions"]
        assert container["ReadonlyRootFilesystem"] is True
        assert container["Privileged"] is False
        assert container["User"] == "10001"
        assert container["MountPoints"] == [
            {"ContainerPath": "/tmp", "ReadOnly": False, "SourceVolume": "scratch"}
        ]
        assert task["Properties"]["Volumes"] == [{"Name": "scratch"}]


def _is_data_action(action: str) -> bool:
    return action.startswith(DATA_STORE_PREFIXES)


def test_no_wildcard_actions_and_no_star_resources_on_data_stores(synth: Synth) -> None:
    checked = 0
    for logical_id, statement in policy_statements(synth.template):
        if statement["Effect"] != "Allow":
            continue
        actions = as_list(statement["Action"])
        resources = as_list(statement["Resource"])
        for action in actions:
            assert "*" not in action, f"{synth.path_of(logical_id)}: wildcard action {action}"
            if "*" in resources:
                assert not _is_data_action(action), (
                    f"{synth.path_of(logical_id)}: {action} on every resource"
                )
        for resource in resources:
            assert resource != "*" or not any(map(_is_data_action, actions))
            if isinstance(resource, str):
                assert not resource.endswith(":::*"), f"bucket wildcard {resource}"
        checked += 1
    assert checked > 30


def test_every_role_is_capped_by_the_workload_boundary(synth: Synth) -> None:
    (boundary_id,) = synth.resources("AWS::IAM::ManagedPolicy")
    roles = synth.resources("AWS::IAM::Role")
    assert sorted(synth.path_of(r) for r in roles) == [
        "Analytics/AnalystRole/Resource",
        "KafkaBridge/Task/ExecutionRole/Resource",
        "KafkaBridge/Task/TaskRole/Resource",
        "KafkaStream/ProducerRole/Resource",
        "Network/Vpc/FlowLog/IAMRole/Resource",
        "Processor/Task/ExecutionRole/Resource",
        "Processor/Task/TaskRole/Resource",
        "PurgeAudit/Role/Resource",
        "UploadApi/UploadUrlRole/Resource",
    ]
    for role in roles.values():
        assert ref_id(role["Properties"]["PermissionsBoundary"]) == boundary_id
        assert "ManagedPolicyArns" not in role["Properties"]


def test_boundary_admits_every_granted_action_and_denies_purge_tampering(synth: Synth) -> None:
    (boundary,) = synth.resources("AWS::IAM::ManagedPolicy").values()
    statements = {s["Sid"]: s for s in boundary["Properties"]["PolicyDocument"]["Statement"]}
    assert sorted(statements) == [
        "DataPlaneOfThisEnvironment",
        "NeverWeakenPurgeEncryptionOrAccess",
        "PlatformCallsWithoutResourceScope",
    ]
    allowed = set(as_list(statements["DataPlaneOfThisEnvironment"]["Action"]))
    allowed |= set(as_list(statements["PlatformCallsWithoutResourceScope"]["Action"]))
    assert set(as_list(statements["PlatformCallsWithoutResourceScope"]["Action"])) == set(
        PLATFORM_ACTIONS
    )
    assert "*" not in as_list(statements["DataPlaneOfThisEnvironment"]["Resource"])
    deny = statements["NeverWeakenPurgeEncryptionOrAccess"]
    assert deny["Effect"] == "Deny"
    assert set(as_list(deny["Action"])) == set(TAMPER_ACTIONS)
    granted = {
        action
        for logical_id, statement in policy_statements(synth.template)
        if logical_id not in synth.resources("AWS::IAM::ManagedPolicy")
        for action in as_list(statement["Action"])
    }
    assert granted - allowed == set()
    assert granted & set(TAMPER_ACTIONS) == set()
    assert {"s3:PutLifecycleConfiguration", "dynamodb:UpdateTimeToLive"} <= set(TAMPER_ACTIONS)


PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "1" * 12}


def _resolve_worst_case(value: Any) -> Any:
    """Replace CloudFormation functions by long stand-ins to size a policy after deployment.

    A resource ARN stands in as 128 characters: longer than a log-group ARN with the stack's
    generated name (~105) or an MSK cluster ARN (~110).
    """
    if isinstance(value, dict):
        if "Fn::Join" in value:
            return "".join(_resolve_worst_case(p) for p in value["Fn::Join"][1])
        if value.get("Ref") in PSEUDO:
            return PSEUDO[value["Ref"]]
        if "Fn::Select" in value:
            return "x" * 40
        if {"Ref", "Fn::GetAtt"} & set(value):
            return "x" * 128
        return {k: _resolve_worst_case(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_worst_case(v) for v in value]
    return value


def test_boundary_fits_the_iam_managed_policy_size_limit(synth: Synth) -> None:
    """IAM rejects managed policies over 6,144 characters (whitespace excluded) at deploy time."""
    import json

    (boundary,) = synth.resources("AWS::IAM::ManagedPolicy").values()
    document = _resolve_worst_case(boundary["Properties"]["PolicyDocument"])
    size = len(json.dumps(document, separators=(",", ":")))
    assert size < 6_144, size
