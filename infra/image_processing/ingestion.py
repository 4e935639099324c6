"""The upload API: Cognito-authenticated REST endpoint that hands out presigned S3 uploads.

``POST /uploads`` -> WAF (managed rules + per-IP rate limit) -> API Gateway (throttled stage,
access logs 7 days, no cache) -> ``UploadUrl`` Lambda in the private subnets -> presigned POST.
The image bytes then go from the client straight to the raw bucket over TLS.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Fn, IgnoreMode, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_signer as signer
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from image_processing.compliance import log_group, retention, skip_cfn_lint, skip_checkov
from image_processing.security import AccessControl

RUNTIME_DIR = Path(__file__).parent / "runtime"
#: Every Lambda bundle is the ``runtime`` package (handlers + the shared purge contract), so the
#: handlers import ``..contract`` in the bundle exactly as the tests import it here.
#: gitignore syntax: a leading "/" anchors a name to the bundle root, so runtime's own
#: ``__init__.py`` files stay in.
BUNDLE_EXCLUDES = [
    *(f"/{p.name}" for p in RUNTIME_DIR.parent.iterdir() if p.name != "runtime"),
    "__pycache__/",
    "*.pyc",
]
VPC_ACCESS_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


def signed_code(scope: Construct, *, enforce: bool) -> lambda_.CodeSigningConfig:
    """Lambda code-signing: the CD pipeline signs artefacts with this profile (AWS Signer)."""
    profile = signer.SigningProfile(
        scope, "SigningProfile", platform=signer.Platform.AWS_LAMBDA_SHA384_ECDSA
    )
    return lambda_.CodeSigningConfig(
        scope,
        "CodeSigning",
        signing_profiles=[profile],
        untrusted_artifact_on_deployment=(
            lambda_.UntrustedArtifactOnDeployment.ENFORCE
            if enforce
            else lambda_.UntrustedArtifactOnDeployment.WARN
        ),
    )


def vpc_function(
    scope: Construct,
    construct_id: str,
    *,
    handler_dir: str,
    description: str,
    role: iam.Role,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    security_group: ec2.ISecurityGroup,
    key: kms.IKey,
    logs_key: kms.IKey,
    log_days: int,
    removal: RemovalPolicy,
    concurrency: int,
    environment: dict[str, str],
    code_signing: lambda_.ICodeSigningConfig,
    access: AccessControl,
    timeout: Duration = Duration.seconds(10),
) -> lambda_.Function:
    """A Python Lambda in the private subnets with its own 7-day, KMS-encrypted log group."""
    logs = log_group(scope, f"{construct_id}Logs", key=logs_key, days=log_days, removal=removal)
    access.grant(
        role,
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        [logs.log_group_arn],
        f"{construct_id}WriteOwnLogs",
    )
    # What AWSLambdaVPCAccessExecutionRole grants, written out and pinned to the region: Lambda
    # creates the function's network interfaces with the function's role.
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid=f"{construct_id}NetworkInterfaces",
            actions=list(VPC_ACCESS_ACTIONS),
            resources=["*"],
            conditions={"StringEquals": {"aws:RequestedRegion": Stack.of(scope).region}},
        )
    )
    function = lambda_.Function(
        scope,
        construct_id,
        description=description,
        runtime=lambda_.Runtime.PYTHON_3_12,
        architecture=lambda_.Architecture.ARM_64,
        handler=f"runtime.{handler_dir}.handler.handler",
        code=lambda_.Code.from_asset(
            str(RUNTIME_DIR.parent), exclude=BUNDLE_EXCLUDES, ignore_mode=IgnoreMode.GIT
        ),
        role=role,
        vpc=vpc,
        vpc_subnets=subnets,
        security_groups=[security_group],
        environment=environment,
        environment_encryption=key,
        log_group=logs,
        reserved_concurrent_executions=concurrency,
        timeout=timeout,
        memory_size=256,
        # X-Ray keeps traces 30 days (not configurable) and traces carry client IPs: off.
        tracing=lambda_.Tracing.DISABLED,
        code_signing_config=code_signing,
    )
    skip_cfn_lint(
        function,
        {
            "W3005": "CDK adds DependsOn on the role's policy so the function never starts "
            "without its permissions; the extra DependsOn on the role itself is harmless.",
        },
    )
    return function


class UploadApi(Construct):
    """User pool, WAF, REST API and the presigning Lambda."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        raw_bucket: s3.IBucket,
        table_arn: str,
        table_name: str,
        key: kms.IKey,
        logs_key: kms.IKey,
        retention_days: int,
        log_days: int,
        max_image_bytes: int,
        url_ttl_seconds: int,
        rate_limit_rps: int,
        burst_limit: int,
        concurrency: int,
        code_signing: lambda_.ICodeSigningConfig,
        removal: RemovalPolicy,
        deletion_protection: bool,
        access: AccessControl,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            self_sign_up_enabled=True,
            feature_plan=cognito.FeaturePlan.LITE,
            sign_in_aliases=cognito.SignInAliases(email=True),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_digits=True, require_symbols=True
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=deletion_protection,
            removal_policy=removal,
        )
        self.user_pool.add_client(
            "WebApp", generate_secret=False, prevent_user_existence_errors=True
        )
        role = iam.Role(
            self,
            "UploadUrlRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Presign uploads into raw/uploads and register them in the metadata table",
        )
        security_group = ec2.SecurityGroup(
            self,
            "UploadUrlSecurityGroup",
            vpc=vpc,
            description="Upload-URL Lambda: no inbound, HTTPS out to VPC endpoints",
            allow_all_outbound=False,
        )
        security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to VPC endpoints (no internet route)"
        )
        self.function = vpc_function(
            self,
            "UploadUrl",
            handler_dir="upload_url",
            description="Validate an upload request and return a presigned S3 POST",
            role=role,
            vpc=vpc,
            subnets=subnets,
            security_group=security_group,
            key=key,
            logs_key=logs_key,
            log_days=log_days,
            removal=removal,
            concurrency=concurrency,
            environment={
                "RAW_BUCKET": raw_bucket.bucket_name,
                "TABLE_NAME": table_name,
                "RETENTION_DAYS": str(retention_days),
                "MAX_IMAGE_BYTES": str(max_image_bytes),
                "URL_TTL_SECONDS": str(url_ttl_seconds),
            },
            code_signing=code_signing,
            access=access,
        )
        access.grant(
            role, ["s3:PutObject"], [raw_bucket.arn_for_objects("uploads/*")], "PresignRawUploads"
        )
        access.grant(role, ["dynamodb:PutItem"], [table_arn], "RegisterUpload")
        access.grant(role, ["kms:Decrypt", "kms:GenerateDataKey"], [key.key_arn], "UseDataKey")
        skip_checkov(
            self.function,
            {
                "CKV_AWS_116": "Invoked synchronously by API Gateway: a failed call returns an "
                "error to the client, there is no asynchronous event to dead-letter.",
            },
        )
        access_logs = log_group(self, "AccessLogs", key=logs_key, days=log_days, removal=removal)
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"image-uploads-{env_name}",
            description="Issues presigned uploads of images into the raw bucket",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The account-level CloudWatch role is owned by the account baseline, not this stack.
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name="v1",
                throttling_rate_limit=rate_limit_rps,
                throttling_burst_limit=burst_limit,
                # Off for the same reason as the Lambda: 30-day X-Ray retention vs 7-day purge.
                tracing_enabled=False,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        # API Gateway would create its execution-log group itself, with no expiry; declaring it
        # first gives it the 7-day retention and the logs key like every other group.
        execution_logs = logs_.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=Fn.join(
                "", ["API-Gateway-Execution-Logs_", self.api.rest_api_id, "/v1"]
            ),
            encryption_key=logs_key,
            retention=retention(log_days),
            removal_policy=removal,
        )
        self.api.deployment_stage.node.add_dependency(execution_logs)
        authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[self.user_pool]
        )
        self.api.root.add_resource("uploads").add_method(
            "POST",
            apigw.LambdaIntegration(self.function),
            authorizer=authorizer,
            authorization_type=apigw.AuthorizationType.COGNITO,
        )
        stage = self.api.deployment_stage
        skip_checkov(
            stage,
            {
                "CKV_AWS_120": "No API cache on purpose: responses are per-user presigned URLs "
                "and a cache would hold personal metadata outside the purge.",
                "CKV_AWS_73": "X-Ray tracing is off on purpose: X-Ray retains traces for 30 days, "
                "which would outlive the 7-day purge of request metadata (client IPs).",
            },
        )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("image-uploads"),
            rules=[
                _managed_rule("AWSManagedRulesCommonRuleSet", 0),
                _managed_rule("AWSManagedRulesKnownBadInputsRuleSet", 1),
                wafv2.CfnWebACL.RuleProperty(
                    name="per-ip-rate-limit",
                    priority=2,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP", limit=300
                        )
                    ),
                    visibility_config=_visibility("per-ip-rate-limit"),
                ),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=False
    )


def _managed_rule(name: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=name
            )
        ),
        visibility_config=_visibility(name),
    )
