"""Terraform manages headwater: the seed001 configuration (tests/data/apps/seed001-terraform,
a copy of the project's seed application) through the real hashicorp/aws provider against
``headwater serve``: init (offline, from the provider mirror), apply, an empty plan, the
configuration's orders processed and a poisoned one dead-lettered, the mapping's batch size
and terraform-extras/more.tf's marked values changed in place, an empty plan again, destroy
and nothing left.

Resources of services headwater does not serve yet are left out of the configuration (and
the references to them replaced by the names they would have); the test says which. It
skips only where the terraform binary or the provider mirror is absent. The provider's own
waits (an SQS queue is polled for 25 s after it is created) make up most of its run time.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headwater.core.errors import AwsError
from headwater.wiring import service_class
from tests.conformance.server_process import ServerProcess, boto_client, headwater_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

APPS = Path(__file__).resolve().parents[1] / "data" / "apps"
APP = APPS / "seed001-terraform"
#: Resources seed001 does not use (alias, permission, queue policies, stream, log group...),
#: applied beside it: one provider run covers both.
EXTRAS = APPS / "terraform-extras" / "extras.tf"
#: What else users write beside such an app (DynamoDB indexes, TTL and streams, SNS topics'
#: policies and subscriptions, alarms, SSM parameters, Secrets Manager secrets, IAM users,
#: groups, policies and attachments, a layer, stream and fan-out mappings, an S3 bucket's
#: configurations and objects, EventBridge buses, rules and targets, a Step Functions state
#: machine, a Firehose delivery stream, a Cognito user pool with its client and group, data
#: sources...), in the same run; each line marked ``# update: <new value>`` takes its new
#: value in the update step.
MORE = APPS / "terraform-extras" / "more.tf"
#: Resources the update changes besides the marked ones: the seed's mapping (its batch size)
#: and the alias that follows more-function's newly published version.
ALSO_UPDATED = {"aws_lambda_event_source_mapping.sqs", "aws_lambda_alias.more"}
UPDATE_MARK = re.compile(r"^(\s*\S+\s*=\s*).*?\s*# update: (.*)$")
REGION = "us-east-1"
ACCOUNT = "000000000000"
MIRROR_CANDIDATES = (
    os.environ.get("HEADWATER_TF_MIRROR", ""),
    "/opt/tf-plugins",
    "/usr/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    os.path.expanduser("~/.terraform.d/plugins"),
)

#: Resource types of services headwater may not serve yet -> (service, the operations the
#: provider needs of it beyond its reads, the literal attributes of each resource of the
#: configuration, standing for the references to it).
OPTIONAL: dict[str, tuple[str, tuple[str, ...], dict[str, dict[str, str]]]] = {
    "aws_dynamodb_table": (
        "dynamodb",
        (),
        {"orders": {"name": "orders", "arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"}},
    ),
    "aws_sns_topic": (
        "sns",
        (),
        {"alerts": {"arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:orders-alerts"}},
    ),
    "aws_s3_bucket": (
        "s3",
        # force_destroy empties the bucket, versions included
        ("ListObjectVersions", "DeleteObjects"),
        {
            "dlq_archive": {
                "arn": "arn:aws:s3:::orders-dlq-archive-absent",
                "bucket": "orders-dlq-archive-absent",
            }
        },
    ),
    "aws_cloudwatch_metric_alarm": ("cloudwatch", (), {}),
    "aws_sns_topic_subscription": ("sns", (), {}),
    "aws_cloudwatch_log_group": ("logs", (), {}),
}


def provider_mirror() -> str | None:
    """A directory laid out as ``registry.terraform.io/hashicorp/aws/<version>/...``."""
    candidates = [c for c in MIRROR_CANDIDATES if c]
    candidates += [
        str(Path(p).parents[2]) for p in glob.glob("/*/*/registry.terraform.io/hashicorp/aws")
    ]
    for root in candidates:
        if Path(root, "registry.terraform.io", "hashicorp", "aws").is_dir():
            return root
    return None


TERRAFORM = shutil.which("terraform")
MIRROR = provider_mirror()
if TERRAFORM is None or MIRROR is None:
    pytest.skip(
        "needs the terraform binary and a filesystem mirror of the hashicorp/aws provider "
        f"(terraform: {TERRAFORM or 'not on PATH'}, mirror: {MIRROR or 'not found'})",
        allow_module_level=True,
    )


def served(service: str, operations: tuple[str, ...] = ()) -> bool:
    """Whether headwater serves ``service`` and implements ``operations`` of it."""
    try:
        implemented = service_class(service).operation_names()
    except AwsError:
        return False
    return set(operations) <= set(implemented)


def drop_blocks(text: str, resource_type: str) -> str:
    """The configuration without the ``resource "<type>" ...`` blocks (top-level, ``}``-closed)."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if not skipping and line.startswith(f'resource "{resource_type}" '):
            skipping = True
            continue
        if skipping:
            skipping = line.rstrip() != "}"
            continue
        out.append(line)
    return "".join(out)


def configuration(text: str) -> tuple[str, list[str]]:
    """A configuration without the resources of unserved services, and their types."""
    left_out = []
    for resource_type, (service, operations, resources) in OPTIONAL.items():
        if served(service, operations):
            continue
        left_out.append(resource_type)
        text = drop_blocks(text, resource_type)
        for name, attributes in resources.items():
            for attribute, value in attributes.items():
                reference = f"{resource_type}.{name}.{attribute}"
                text = text.replace("${" + reference + "}", value).replace(reference, f'"{value}"')
    return text, left_out


def lambda_zip(target: Path) -> None:
    """build.sh's zip: the three modules at the zip's root."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        for source in sorted((APP / "src").glob("*.py.txt")):
            archive.writestr(source.name.removesuffix(".txt"), source.read_text("utf-8"))


class Terraform:
    def __init__(self, workdir: Path, server: ServerProcess) -> None:
        self.workdir = workdir
        rc = workdir / "mirror.tfrc"
        rc.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{MIRROR}"\n'
            '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
        )
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
        self.env.update(
            {
                "TF_CLI_CONFIG_FILE": str(rc),
                "TF_IN_AUTOMATION": "1",
                "TF_DATA_DIR": str(workdir / ".terraform"),
                "AWS_ENDPOINT_URL": server.endpoint,
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_REGION": REGION,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_MAX_ATTEMPTS": "2",
                "CHECKPOINT_DISABLE": "1",
            }
        )

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(TERRAFORM), *args, "-no-color", "-input=false"],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode in ok, (
            f"terraform {args[0]} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
        return done

    def output(self, name: str) -> str:
        done = subprocess.run(
            [str(TERRAFORM), "output", "-raw", name],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout


def updated(text: str) -> tuple[str, set[str]]:
    """``text`` with each marked line's new value, and the resources those lines are in."""
    lines: list[str] = []
    resources: set[str] = set()
    resource = ""
    for line in text.splitlines(keepends=True):
        if line.startswith("resource "):
            resource = ".".join(part.strip('"') for part in line.split()[1:3])
        marked = UPDATE_MARK.match(line.rstrip("\n"))
        if marked:
            resources.add(resource)
        lines.append(f"{marked[1]}{marked[2]}\n" if marked else line)
    return "".join(lines), resources


def check_more_applied(endpoint: str) -> None:
    """What more.tf asked for is what the services hold (beyond the provider's read back)."""
    ddb = boto_client(endpoint, "dynamodb", REGION)
    table = ddb.describe_table(TableName="more-events")["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by-customer"]
    assert [i["IndexName"] for i in table["LocalSecondaryIndexes"]] == ["by-created"]
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    ttl = ddb.describe_time_to_live(TableName="more-events")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    backups = ddb.describe_continuous_backups(TableName="more-events")
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    key = {"pk": {"S": "CUSTOMER#1"}, "sk": {"S": "PROFILE"}}
    assert ddb.get_item(TableName="more-events", Key=key)["Item"]["tags"] == {"SS": ["a", "b"]}

    ssm = boto_client(endpoint, "ssm", REGION)
    secret = ssm.get_parameter(Name="/more/secret/token", WithDecryption=True)["Parameter"]
    assert (secret["Type"], secret["Value"]) == ("SecureString", "s3cr3t")
    batch = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": ["/more/config/batch"]}]
    )["Parameters"]
    assert [(p["Tier"], p["AllowedPattern"]) for p in batch] == [("Standard", "^[0-9]+$")]

    sfn = boto_client(endpoint, "stepfunctions", REGION)
    (flow,) = sfn.list_state_machines()["stateMachines"]
    assert flow["name"] == "more-flow"
    definition = json.loads(
        sfn.describe_state_machine(stateMachineArn=flow["stateMachineArn"])["definition"]
    )
    assert definition["States"]["Call"]["Resource"].endswith(":function:more-function")

    firehose = boto_client(endpoint, "firehose", REGION)
    hose = firehose.describe_delivery_stream(DeliveryStreamName="more-events")
    (destination,) = hose["DeliveryStreamDescription"]["Destinations"]
    s3_destination = destination["ExtendedS3DestinationDescription"]
    assert (s3_destination["Prefix"], s3_destination["CompressionFormat"]) == ("events/", "GZIP")
    assert s3_destination["BucketARN"] == "arn:aws:s3:::more-artifacts"

    secrets = boto_client(endpoint, "secretsmanager", REGION)
    login = secrets.get_secret_value(SecretId="more/db-credentials")
    assert json.loads(login["SecretString"]) == {"username": "app", "password": "first"}
    assert (
        "ReadByTheAccount" in secrets.get_resource_policy(SecretId=login["ARN"])["ResourcePolicy"]
    )
    (binary,) = secrets.list_secrets(Filters=[{"Key": "name", "Values": ["more-binary-"]}])[
        "SecretList"
    ]
    assert (
        secrets.get_secret_value(SecretId=binary["ARN"], VersionStage="initial")["SecretBinary"]
        == b"binary key"
    )
    idp = boto_client(endpoint, "cognito-idp", REGION)
    (pool,) = idp.list_user_pools(MaxResults=10)["UserPools"]
    described = idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert described["Name"] == "more-users" and described["UsernameAttributes"] == ["email"]
    assert described["Policies"]["PasswordPolicy"]["MinimumLength"] == 10
    assert [a["Name"] for a in described["SchemaAttributes"]] == ["custom:tenant"]
    (client,) = idp.list_user_pool_clients(UserPoolId=pool["Id"])["UserPoolClients"]
    client = idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])
    assert client["UserPoolClient"]["ClientSecret"]
    (group,) = idp.list_groups(UserPoolId=pool["Id"])["Groups"]
    assert (group["GroupName"], group["Precedence"]) == ("more-admins", 1)
    kms = boto_client(endpoint, "kms", REGION)
    key_id = kms.describe_key(KeyId="alias/more-orders")["KeyMetadata"]["KeyId"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    sealed = kms.encrypt(KeyId="alias/more-orders", Plaintext=b"order")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=sealed)["Plaintext"] == b"order"
    ses = boto_client(endpoint, "ses", REGION)
    assert sorted(ses.list_identities()["Identities"]) == [
        "more.example.org",
        "orders@example.com",
    ]
    apis = boto_client(endpoint, "apigatewayv2", REGION)
    (api,) = [a for a in apis.get_apis()["Items"] if a["Name"] == "more-http"]
    assert api["CorsConfiguration"]["AllowOrigins"] == ["http://localhost:3000"]
    (route,) = apis.get_routes(ApiId=api["ApiId"])["Items"]
    assert route["RouteKey"] == "POST /orders/{id}"
    integration_id = route["Target"].removeprefix("integrations/")
    integration = apis.get_integration(ApiId=api["ApiId"], IntegrationId=integration_id)
    assert integration["IntegrationUri"].endswith(":function:more-function")
    assert apis.get_stage(ApiId=api["ApiId"], StageName="$default")["AutoDeploy"] is True

    lam = boto_client(endpoint, "lambda", REGION)
    function = lam.get_function_configuration(FunctionName="more-function")
    url = lam.get_function_url_config(FunctionName="more-function", Qualifier="current")
    assert (url["AuthType"], url["Cors"]["MaxAge"]) == ("NONE", 60)
    assert [layer["Arn"] for layer in function["Layers"]] == [
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:more-shared:1"
    ]
    policy = json.loads(
        lam.get_layer_version_policy(LayerName="more-shared", VersionNumber=1)["Policy"]
    )
    assert [(s["Sid"], s["Principal"]) for s in policy["Statement"]] == [("everyone", "*")]
    provisioned = lam.get_provisioned_concurrency_config(
        FunctionName="more-function", Qualifier="current"
    )
    assert provisioned["RequestedProvisionedConcurrentExecutions"] == 2
    logs = boto_client(endpoint, "logs", REGION)
    (errors,) = logs.describe_metric_filters(logGroupName="/aws/lambda/more-function")[
        "metricFilters"
    ]
    assert (errors["filterName"], errors["filterPattern"]) == ("more-errors", "ERROR")
    assert errors["metricTransformations"][0]["defaultValue"] == 0.0
    (archive,) = logs.describe_subscription_filters(logGroupName="/more/archive")[
        "subscriptionFilters"
    ]
    assert (archive["filterName"], archive["filterPattern"]) == ("more-archive-errors", "ERROR")
    assert archive["destinationArn"] == function["FunctionArn"]
    listed = lam.list_event_source_mappings(FunctionName="more-function")["EventSourceMappings"]
    mappings = {
        "consumer" if "/consumer/" in m["EventSourceArn"] else m["EventSourceArn"].split(":")[2]: m
        for m in listed
    }
    assert mappings["dynamodb"]["BisectBatchOnFunctionError"] is True
    assert mappings["dynamodb"]["DestinationConfig"]["OnFailure"]["Destination"] == (
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:extra-queue-dlq"
    )
    assert mappings["kinesis"]["TumblingWindowInSeconds"] == 60
    s3 = boto_client(endpoint, "s3", REGION)
    assert s3.get_bucket_versioning(Bucket="more-artifacts")["Status"] == "Enabled"
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket="more-artifacts")
    assert [r["ID"] for r in lifecycle["Rules"]] == ["expire-tmp", "old-versions"]
    assert lifecycle["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    notifications = s3.get_bucket_notification_configuration(Bucket="more-artifacts")
    kinds = ("QueueConfigurations", "LambdaFunctionConfigurations", "TopicConfigurations")
    assert [len(notifications.get(kind, [])) for kind in kinds] == [1, 1, 1]
    iam = boto_client(endpoint, "iam", REGION)
    readers = iam.list_entities_for_policy(
        PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"
    )
    assert [u["UserName"] for u in readers["PolicyUsers"]] == ["more-deployer"]
    assert [g["GroupName"] for g in readers["PolicyGroups"]] == ["more-deployers"]
    assert readers["PolicyRoles"] == []
    linked = iam.get_role(RoleName="AWSServiceRoleForAutoScaling_more")["Role"]
    assert linked["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    consumers = boto_client(endpoint, "kinesis", REGION).list_stream_consumers(
        StreamARN=f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/more-stream"
    )["Consumers"]
    assert mappings["consumer"]["EventSourceArn"] == consumers[0]["ConsumerARN"]
    events = boto_client(endpoint, "events", REGION)
    orders = events.describe_rule(Name="more-orders", EventBusName="more-bus")
    assert json.loads(orders["EventPattern"]) == {
        "source": ["more.shop"],
        "detail-type": ["Order Placed"],
    }
    (target,) = events.list_targets_by_rule(Rule="more-orders", EventBusName="more-bus")["Targets"]
    assert (target["Id"], target["InputPath"]) == ("more-function", "$.detail")
    tick = events.describe_rule(Name="more-tick")
    assert (tick["ScheduleExpression"], tick["State"]) == ("rate(5 minutes)", "ENABLED")
    scheduler = boto_client(endpoint, "scheduler", REGION)
    nightly = scheduler.get_schedule(Name="more-nightly", GroupName="more-jobs")
    assert (nightly["ScheduleExpression"], nightly["ScheduleExpressionTimezone"]) == (
        "cron(30 1 * * ? *)",
        "Europe/Paris",
    )
    assert nightly["Target"]["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 3600,
        "MaximumRetryAttempts": 3,
    }
    group_arn = scheduler.get_schedule_group(Name="more-jobs")["Arn"]
    assert scheduler.list_tags_for_resource(ResourceArn=group_arn)["Tags"] == [
        {"Key": "team", "Value": "orders"}
    ]


def check_more_updated(endpoint: str) -> None:
    """The update step's new values, as the services hold them."""
    ddb = boto_client(endpoint, "dynamodb", REGION)
    table = ddb.describe_table(TableName="more-events")["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 10
    on_demand = ddb.describe_table(TableName="more-on-demand")["Table"]
    assert on_demand["OnDemandThroughput"]["MaxReadRequestUnits"] == 200
    (by_kind,) = on_demand["GlobalSecondaryIndexes"]
    assert by_kind["OnDemandThroughput"] == {"MaxReadRequestUnits": 10, "MaxWriteRequestUnits": 10}
    tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("team", "orders"), ("tier", "gold")]
    ssm = boto_client(endpoint, "ssm", REGION)
    regions = ssm.get_parameter(Name="/more/config/regions")["Parameter"]["Value"]
    assert regions == "us-east-1,eu-west-1,ap-south-1"
    lam = boto_client(endpoint, "lambda", REGION)
    assert lam.get_function_configuration(FunctionName="more-function")["TracingConfig"] == {
        "Mode": "Active"
    }
    assert lam.get_alias(FunctionName="more-function", Name="current")["FunctionVersion"] == "2"
    logs = boto_client(endpoint, "logs", REGION)
    (errors,) = logs.describe_metric_filters(filterNamePrefix="more-")["metricFilters"]
    assert errors["filterPattern"] == "?ERROR ?FATAL"
    invoke_config = lam.get_function_event_invoke_config(FunctionName="more-function")
    assert invoke_config["MaximumEventAgeInSeconds"] == 7200
    url = lam.get_function_url_config(FunctionName="more-function", Qualifier="current")
    assert url["Cors"]["MaxAge"] == 120
    stream = boto_client(endpoint, "kinesis", REGION).describe_stream_summary(
        StreamName="more-stream"
    )
    assert stream["StreamDescriptionSummary"]["RetentionPeriodHours"] == 48
    s3 = boto_client(endpoint, "s3", REGION)
    bucket_tags = s3.get_bucket_tagging(Bucket="more-artifacts")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in bucket_tags) == [
        ("team", "orders"),
        ("tier", "gold"),
    ]
    assert s3.get_bucket_cors(Bucket="more-artifacts")["CORSRules"][0]["MaxAgeSeconds"] == 600
    keys = boto_client(endpoint, "iam", REGION).list_access_keys(UserName="more-deployer")
    assert [k["Status"] for k in keys["AccessKeyMetadata"]] == ["Inactive"]
    events = boto_client(endpoint, "events", REGION)
    orders = events.describe_rule(Name="more-orders", EventBusName="more-bus")
    assert orders["Description"] == "orders placed or changed"
    assert events.describe_rule(Name="more-tick")["ScheduleExpression"] == "rate(10 minutes)"
    # PutRule's update kept the rule's targets
    assert len(events.list_targets_by_rule(Rule="more-tick")["Targets"]) == 1
    nightly = boto_client(endpoint, "scheduler", REGION).get_schedule(
        Name="more-nightly", GroupName="more-jobs"
    )
    assert (nightly["ScheduleExpression"], nightly["Description"]) == (
        "cron(45 1 * * ? *)",
        "the nightly job, later",
    )
    hose = boto_client(endpoint, "firehose", REGION).describe_delivery_stream(
        DeliveryStreamName="more-events"
    )["DeliveryStreamDescription"]
    (destination,) = hose["Destinations"]
    hints = destination["ExtendedS3DestinationDescription"]["BufferingHints"]
    assert (hose["VersionId"], hints["IntervalInSeconds"]) == ("2", 120)
    login = boto_client(endpoint, "secretsmanager", REGION).describe_secret(
        SecretId="more/db-credentials"
    )
    assert login["Description"] == "the database login, rotated by hand"
    idp = boto_client(endpoint, "cognito-idp", REGION)
    (pool,) = idp.list_user_pools(MaxResults=10)["UserPools"]
    policy = idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["Policies"]
    assert policy["PasswordPolicy"]["MinimumLength"] == 12
    key = boto_client(endpoint, "kms", REGION).describe_key(KeyId="alias/more-orders")
    assert key["KeyMetadata"]["Description"] == "the orders data key, rotated"


def check_more_destroyed(endpoint: str) -> None:
    """Nothing more.tf created is left."""
    assert boto_client(endpoint, "dynamodb", REGION).list_tables()["TableNames"] == []
    sns = boto_client(endpoint, "sns", REGION)
    assert sns.list_topics()["Topics"] == []
    assert sns.list_subscriptions()["Subscriptions"] == []
    alarms = boto_client(endpoint, "cloudwatch", REGION).describe_alarms()
    assert alarms["MetricAlarms"] == []
    assert boto_client(endpoint, "ssm", REGION).describe_parameters()["Parameters"] == []
    iam = boto_client(endpoint, "iam", REGION)
    assert iam.list_users()["Users"] == []
    assert iam.list_groups()["Groups"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert iam.list_instance_profiles()["InstanceProfiles"] == []
    lam = boto_client(endpoint, "lambda", REGION)
    assert lam.list_layer_versions(LayerName="more-shared")["LayerVersions"] == []
    assert boto_client(endpoint, "kinesis", REGION).list_streams()["StreamNames"] == []
    logs = boto_client(endpoint, "logs", REGION)
    assert logs.describe_log_groups(logGroupNamePrefix="/more/")["logGroups"] == []
    assert logs.describe_metric_filters()["metricFilters"] == []
    assert boto_client(endpoint, "s3", REGION).list_buckets()["Buckets"] == []
    events = boto_client(endpoint, "events", REGION)
    assert events.list_rules()["Rules"] == []
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default"]
    sfn = boto_client(endpoint, "stepfunctions", REGION)
    assert sfn.list_state_machines()["stateMachines"] == []
    scheduler = boto_client(endpoint, "scheduler", REGION)
    assert scheduler.list_schedules()["Schedules"] == []
    assert [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]] == ["default"]
    secrets = boto_client(endpoint, "secretsmanager", REGION)
    assert secrets.list_secrets()["SecretList"] == []
    firehose = boto_client(endpoint, "firehose", REGION)
    assert firehose.list_delivery_streams()["DeliveryStreamNames"] == []
    idp = boto_client(endpoint, "cognito-idp", REGION)
    assert idp.list_user_pools(MaxResults=10)["UserPools"] == []
    assert boto_client(endpoint, "ses", REGION).list_identities()["Identities"] == []
    kms = boto_client(endpoint, "kms", REGION)
    # the provider's read of the table's encryption made alias/aws/dynamodb, as on AWS
    aliases = [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    assert [a for a in aliases if not a.startswith("alias/aws/")] == []
    # deletion_window_in_days = 7: scheduled for deletion, not gone
    customer = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]]
    states = [m["KeyState"] for m in customer if m["KeyManager"] == "CUSTOMER"]
    assert states == ["PendingDeletion"]
    # recovery_window_in_days = 7: scheduled for deletion, not gone
    planned = secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"]
    assert [(s["Name"].startswith("more-binary-"), "DeletedDate" in s) for s in planned] == [
        (True, True)
    ]


def eventually(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s: {what}")


def order_message(order_type: str, order_id: str) -> str:
    """The producer's message shape (seed001-python/producer.py), with the order data the
    handler reads."""
    now = "2026-01-01T00:00:00"
    return json.dumps(
        {
            "type": order_type,
            "data": {
                "order_id": order_id,
                "customer_id": "CUST-001",
                "items": [{"sku": "SKU-001", "quantity": 2}],
                "total": 40,
                "status": "shipped",
                "timestamp": now,
            },
            "timestamp": now,
            "correlation_id": str(uuid.uuid4()),
        }
    )


def test_terraform_apply_plan_update_orders_destroy(tmp_path: Path) -> None:
    workdir = tmp_path / "app"
    workdir.mkdir()
    text, left_out = configuration((APP / "main.tf").read_text("utf-8"))
    (workdir / "main.tf").write_text(text)
    extras, _ = configuration(EXTRAS.read_text("utf-8"))
    (workdir / "extras.tf").write_text(extras)
    more, _ = configuration(MORE.read_text("utf-8"))
    (workdir / "more.tf").write_text(more)
    lambda_zip(workdir / "build" / "lambda.zip")
    print(f"resources left out (their service or operations not served yet): {left_out or 'none'}")

    with headwater_server(tmp_path / "server", ["--time-scale", "60"]) as server:
        tf = Terraform(workdir, server)
        tf.run("init")
        applied = tf.run("apply", "-auto-approve")
        assert "Apply complete!" in applied.stdout

        tf.run("plan", "-detailed-exitcode")  # exit 0: what was applied is what is read back
        check_more_applied(server.endpoint)
        # the function's answer to aws_lambda_invocation, then what the data sources read
        assert tf.output("more_read_back").startswith(
            '{"batchItemFailures": []} 000000000000 us-east-1 s3cr3t '
        )

        lam = boto_client(server.endpoint, "lambda", REGION)
        alias = lam.get_alias(FunctionName="extra-function", Name="live")
        assert alias["FunctionVersion"] == "1"
        extra_mapping = lam.list_event_source_mappings(FunctionName="extra-function")
        assert [m["FunctionArn"] for m in extra_mapping["EventSourceMappings"]] == [
            alias["AliasArn"]
        ]
        policy = json.loads(
            lam.get_policy(FunctionName="extra-function", Qualifier="live")["Policy"]
        )
        assert [s["Sid"] for s in policy["Statement"]] == ["AllowAlerts"]

        sqs = boto_client(server.endpoint, "sqs", REGION)
        queue_url = tf.output("queue_url")
        fifo_url = tf.output("fifo_queue_url")
        dlq_url = tf.output("dlq_url")
        good = [f"ORD-{n}" for n in range(3)]
        for order_id in good:
            sqs.send_message(
                QueueUrl=queue_url, MessageBody=order_message("order_created", order_id)
            )
        fifo = [f"ORD-F{n}" for n in range(2)]
        for order_id in fifo:
            sqs.send_message(
                QueueUrl=fifo_url,
                MessageBody=order_message("order_created", order_id),
                MessageGroupId="CUST-001",
                MessageDeduplicationId=order_id,
            )
        # order_updated always fails (the seed's key mismatch): retried, then dead-lettered
        poison = sqs.send_message(
            QueueUrl=queue_url, MessageBody=order_message("order_updated", "ORD-0")
        )["MessageId"]

        if served("dynamodb"):
            table = boto_client(server.endpoint, "dynamodb", REGION)

            def stored() -> bool:
                return all(
                    "Item" in table.get_item(TableName="orders", Key={"pk": {"S": f"ORDER#{o}"}})
                    for o in good + fifo
                )

            eventually(stored, 60, "the orders are in the orders table")
        if served("s3", OPTIONAL["aws_s3_bucket"][1]):
            s3 = boto_client(server.endpoint, "s3", REGION)
            bucket = tf.output("dlq_bucket")
            eventually(
                lambda: s3.list_objects_v2(Bucket=bucket, Prefix=f"failed/{poison}").get(
                    "KeyCount"
                ),
                90,
                "the poisoned order archived by the DLQ processor",
            )
        else:

            def dead_lettered() -> bool:
                messages = sqs.receive_message(
                    QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1
                ).get("Messages", [])
                return any(m["MessageId"] == poison for m in messages)

            eventually(dead_lettered, 90, "the poisoned order in the dead-letter queue")

        main_tf = workdir / "main.tf"
        changed = re.sub(
            r"(function_name\s+= aws_lambda_function\.processor\.arn\n\s+batch_size\s+= )10\n"
            r"(\s+maximum_batching_window_in_seconds)",
            r"\g<1>5\n\g<2>",
            main_tf.read_text(),
        )
        assert changed != main_tf.read_text()
        main_tf.write_text(changed)
        more_tf = workdir / "more.tf"
        more_changed, more_resources = updated(more_tf.read_text())
        more_tf.write_text(more_changed)
        update = tf.run("apply", "-auto-approve")
        in_place = set(re.findall(r"# (\S+) will be updated in-place", update.stdout))
        assert in_place == more_resources | ALSO_UPDATED, update.stdout
        assert f"Resources: 0 added, {len(in_place)} changed, 0 destroyed." in update.stdout
        tf.run("plan", "-detailed-exitcode")  # the updates read back as written too
        check_more_updated(server.endpoint)
        mappings = lam.list_event_source_mappings(
            EventSourceArn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-queue"
        )
        assert [m["BatchSize"] for m in mappings["EventSourceMappings"]] == [5]

        destroyed = tf.run("destroy", "-auto-approve")
        assert "Destroy complete!" in destroyed.stdout
        assert lam.list_functions()["Functions"] == []
        assert lam.list_event_source_mappings()["EventSourceMappings"] == []
        assert sqs.list_queues().get("QueueUrls", []) == []
        assert boto_client(server.endpoint, "iam", REGION).list_roles()["Roles"] == []
        check_more_destroyed(server.endpoint)
