"""Promise: every elastic part scales within explicit bounds, per environment."""

from __future__ import annotations

from infra_helpers import Synth, ref_id

BOUNDS = {
    "dev": {"KafkaBridge/Service/Service": (1, 2), "Processor/Service/Service": (1, 4)},
    "prod": {"KafkaBridge/Service/Service": (2, 6), "Processor/Service/Service": (2, 40)},
}


def _service_of(target: dict) -> str:
    parts = target["Properties"]["ResourceId"]["Fn::Join"][1]
    (service,) = [ref_id(p) for p in parts if isinstance(p, dict) and "Fn::GetAtt" in p]
    return service or ""


def test_fargate_services_scale_between_configured_bounds(synth: Synth) -> None:
    bounds = {
        synth.path_of(_service_of(t)): (
            t["Properties"]["MinCapacity"],
            t["Properties"]["MaxCapacity"],
        )
        for t in synth.resources("AWS::ApplicationAutoScaling::ScalableTarget").values()
    }
    assert bounds == BOUNDS[synth.env]
    desired = {
        synth.path_of(k): s["Properties"]["DesiredCount"]
        for k, s in synth.resources("AWS::ECS::Service").items()
    }
    assert desired == {name: low for name, (low, _) in BOUNDS[synth.env].items()}


def test_processor_scales_on_queue_backlog_and_cpu(synth: Synth) -> None:
    policies = {
        synth.path_of(k): p["Properties"]
        for k, p in synth.resources("AWS::ApplicationAutoScaling::ScalingPolicy").items()
    }
    assert sorted(policies) == [
        "KafkaBridge/Service/TaskCount/Target/Cpu/Resource",
        "Processor/Service/TaskCount/Target/Backlog/LowerPolicy/Resource",
        "Processor/Service/TaskCount/Target/Backlog/UpperPolicy/Resource",
        "Processor/Service/TaskCount/Target/Cpu/Resource",
    ]
    upper = policies["Processor/Service/TaskCount/Target/Backlog/UpperPolicy/Resource"]
    steps = upper["StepScalingPolicyConfiguration"]["StepAdjustments"]
    assert [(s.get("MetricIntervalLowerBound"), s["ScalingAdjustment"]) for s in steps] == [
        (0, 1),
        (450, 5),
        (1950, 10),
    ]
    cpu = policies["Processor/Service/TaskCount/Target/Cpu/Resource"]
    tracking = cpu["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 70
    alarms = [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and a["Properties"]["Namespace"] == "AWS/SQS"
        and "AlarmActions" in a["Properties"]
        and a["Properties"]["Threshold"] == 50
    ]
    assert len(alarms) == 1


def test_capacity_mixes_on_demand_base_with_spot(synth: Synth) -> None:
    strategies = {
        synth.path_of(k): s["Properties"]["CapacityProviderStrategy"]
        for k, s in synth.resources("AWS::ECS::Service").items()
    }
    for service in synth.resources("AWS::ECS::Service").values():
        deployment = service["Properties"]["DeploymentConfiguration"]
        assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
        assert deployment["MinimumHealthyPercent"] == 100
    low = BOUNDS[synth.env]["Processor/Service/Service"][0]
    assert strategies["Processor/Service/Service"] == [
        {"Base": low, "CapacityProvider": "FARGATE", "Weight": 1},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 3},
    ]


def test_lambdas_and_api_are_throttled(synth: Synth) -> None:
    concurrency = {
        synth.path_of(k): f["Properties"]["ReservedConcurrentExecutions"]
        for k, f in synth.resources("AWS::Lambda::Function").items()
    }
    assert concurrency == {
        "UploadApi/UploadUrl/Resource": {"dev": 20, "prod": 100}[synth.env],
        "PurgeAudit/Function/Resource": 1,
    }
    (stage,) = synth.resources("AWS::ApiGateway::Stage").values()
    (settings,) = stage["Properties"]["MethodSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == {
        "dev": (50, 100),
        "prod": (200, 400),
    }[synth.env]
    (workgroup,) = synth.resources("AWS::Athena::WorkGroup").values()
    configuration = workgroup["Properties"]["WorkGroupConfiguration"]
    assert configuration["BytesScannedCutoffPerQuery"] == 10 * 1024**3
    assert configuration["EnforceWorkGroupConfiguration"] is True


def test_kafka_brokers_span_every_az(synth: Synth) -> None:
    (cluster,) = synth.resources("AWS::MSK::Cluster").values()
    props = cluster["Properties"]
    expected = {
        "dev": (2, "kafka.t3.small", 100),
        "prod": (3, "kafka.m7g.large", 500),
    }[synth.env]
    broker = props["BrokerNodeGroupInfo"]
    assert (
        props["NumberOfBrokerNodes"],
        broker["InstanceType"],
        broker["StorageInfo"]["EBSStorageInfo"]["VolumeSize"],
    ) == expected


def test_prod_keeps_data_on_stack_deletion_and_dev_does_not(synth: Synth) -> None:
    policy = {"dev": "Delete", "prod": "Retain"}[synth.env]
    for type_ in ("AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::MSK::Cluster"):
        for resource in synth.resources(type_).values():
            assert resource["DeletionPolicy"] == policy
    (table,) = synth.resources("AWS::DynamoDB::Table").values()
    assert table["Properties"].get("DeletionProtectionEnabled", False) is (synth.env == "prod")
