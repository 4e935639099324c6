"""The analysts' BI resource: Athena over the metadata files, through the Glue Data Catalog.

Workers write one JSON line per processed image to ``processed/metadata/dt=<upload day>/``. The
Glue table uses partition projection over the last ``retention_days`` (no crawler, nothing to
keep in sync). The Athena workgroup enforces encrypted results in a bucket the purge deleter
empties 30 minutes after each write (its 1-day lifecycle is only a backstop) and caps bytes
scanned per query (cost guard). The table holds no user identity: ``owner_sub`` stays in
DynamoDB, analysts see pseudonymous image ids only.

``quicksight_analyst_permissions``: in an account with QuickSight, the custom-permissions profile
given to every image analyst denies SPICE datasets (an import copy the purge cannot reach) and
file exports; dashboards query Athena directly, so nothing is copied out of the window.
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_quicksight as quicksight
from aws_cdk import aws_s3 as s3
from constructs import Construct

from image_processing.security import AccessControl
from image_processing.storage import private_bucket

COLUMNS = (
    ("image_id", "string"),
    ("source", "string"),
    ("content_type", "string"),
    ("bytes", "bigint"),
    ("width", "int"),
    ("height", "int"),
    ("received_at", "timestamp"),
    ("processed_at", "timestamp"),
    ("status", "string"),
    ("labels", "array<string>"),
)


#: QuickSight capabilities that would copy image metadata out of the purge's reach: SPICE (an
#: imported copy refreshed on its own schedule) and every file export, interactive or scheduled.
QUICKSIGHT_DENIED = (
    "create_spice_dataset",
    "export_to_csv",
    "export_to_csv_in_scheduled_reports",
    "export_to_excel",
    "export_to_excel_in_scheduled_reports",
    "export_to_pdf",
    "export_to_pdf_in_scheduled_reports",
    "include_content_in_scheduled_reports_email",
    "print_reports",
)


def quicksight_analyst_permissions(
    scope: Construct, construct_id: str, *, env_name: str
) -> quicksight.CfnCustomPermissions:
    """The QuickSight profile of image analysts: direct query only, no SPICE, no exports."""
    return quicksight.CfnCustomPermissions(
        scope,
        construct_id,
        aws_account_id=Aws.ACCOUNT_ID,
        custom_permissions_name=f"image-analysts-{env_name}",
        capabilities=quicksight.CfnCustomPermissions.CapabilitiesProperty(
            **dict.fromkeys(QUICKSIGHT_DENIED, "DENY")
        ),
    )


class ImageAnalytics(Construct):
    """Glue database and table, Athena workgroup, results bucket and the analyst role."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        processed_bucket: s3.IBucket,
        access_logs_bucket: s3.IBucket,
        key: kms.IKey,
        retention_days: int,
        results_days: int,
        bytes_scanned_cutoff: int,
        quicksight_enabled: bool,
        removal: RemovalPolicy,
        access: AccessControl,
    ) -> None:
        super().__init__(scope, construct_id)
        if quicksight_enabled:
            self.quicksight_permissions = quicksight_analyst_permissions(
                self, "QuickSightAnalysts", env_name=env_name
            )
        self.results = private_bucket(
            self,
            "QueryResults",
            key=key,
            expire_days=results_days,
            removal=removal,
            access_logs=access_logs_bucket,
        )
        database_name = f"images_{env_name}"
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database_name, description="Image metadata of the last 7 days"
            ),
        )
        location = f"s3://{processed_bucket.bucket_name}/metadata/"
        self.table = glue.CfnTable(
            self,
            "MetadataTable",
            catalog_id=Aws.ACCOUNT_ID,
            database_name=database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name="image_metadata",
                table_type="EXTERNAL_TABLE",
                partition_keys=[glue.CfnTable.ColumnProperty(name="dt", type="string")],
                parameters={
                    "classification": "json",
                    "projection.enabled": "true",
                    "projection.dt.type": "date",
                    "projection.dt.format": "yyyy-MM-dd",
                    "projection.dt.range": f"NOW-{retention_days}DAYS,NOW",
                    "projection.dt.interval": "1",
                    "projection.dt.interval.unit": "DAYS",
                    "storage.location.template": location + "dt=${dt}/",
                },
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe"
                    ),
                    columns=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in COLUMNS],
                ),
            ),
        )
        self.table.node.add_dependency(self.database)
        glue.CfnDataCatalogEncryptionSettings(
            self,
            "CatalogEncryption",
            catalog_id=Aws.ACCOUNT_ID,
            data_catalog_encryption_settings=glue.CfnDataCatalogEncryptionSettings.DataCatalogEncryptionSettingsProperty(
                encryption_at_rest=glue.CfnDataCatalogEncryptionSettings.EncryptionAtRestProperty(
                    catalog_encryption_mode="SSE-KMS", sse_aws_kms_key_id=key.key_arn
                ),
                connection_password_encryption=glue.CfnDataCatalogEncryptionSettings.ConnectionPasswordEncryptionProperty(
                    return_connection_password_encrypted=True, kms_key_id=key.key_arn
                ),
            ),
        )
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=f"image-analysts-{env_name}",
            description="Analysts' queries over image metadata; results encrypted, 30-min life",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=bytes_scanned_cutoff,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results.bucket_name}/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=key.key_arn
                    ),
                ),
            ),
        )
        prefix = f"arn:{Aws.PARTITION}"
        workgroup_arn = (
            f"{prefix}:athena:{Aws.REGION}:{Aws.ACCOUNT_ID}:workgroup/{self.workgroup.name}"
        )
        glue_prefix = f"{prefix}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        self.analyst_role = iam.Role(
            self,
            "AnalystRole",
            description="Assumed through IAM Identity Center by the ImageAnalyst permission set",
            assumed_by=iam.AccountPrincipal(Aws.ACCOUNT_ID),
        )
        role = self.analyst_role
        access.grant(
            role,
            [
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
                "athena:StopQueryExecution",
                "athena:GetWorkGroup",
            ],
            [workgroup_arn],
            "QueryInWorkGroup",
        )
        access.grant(
            role,
            ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
            [
                f"{glue_prefix}:catalog",
                f"{glue_prefix}:database/{database_name}",
                f"{glue_prefix}:table/{database_name}/image_metadata",
            ],
            "ReadCatalog",
        )
        access.grant(
            role,
            ["s3:GetObject"],
            [processed_bucket.arn_for_objects("metadata/*")],
            "ReadMetadataFiles",
        )
        access.grant(
            role,
            ["s3:ListBucket", "s3:GetBucketLocation"],
            [processed_bucket.bucket_arn, self.results.bucket_arn],
            "ListForAthena",
        )
        access.grant(
            role,
            ["s3:GetObject", "s3:PutObject"],
            [self.results.arn_for_objects("*")],
            "ReadWriteQueryResults",
        )
        access.grant(role, ["kms:Decrypt", "kms:GenerateDataKey"], [key.key_arn], "UseDataKey")
