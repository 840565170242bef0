"""A SAM application the way users write them, beyond the seed, deployed three ways.

tests/data/apps/sam-extras uses the common resource types and properties the seed does not:
every event source with its options (SQS filter, scaling and partial batches, FIFO, Kinesis
and DynamoDB with bisect, retries and an on-failure queue, S3 with a key filter, SNS with a
filter policy, an EventBridge pattern, a schedule), Globals, AutoPublishAlias with
EventInvokeConfig, a function DLQ, policy templates, a SimpleTable, a table with GSI, TTL
and stream, an SNS subscription with a filter policy, an SSM parameter, a log group with a
CloudWatchLogs subscription, an alarm, an IAM role and policy, a function URL on a
published alias (FunctionUrlConfig, served and called) and the alias behind an HTTP API and
a REST API (HttpApi and Api events, served and called), whose new version on an update
reaches it through a CodeDeploy canary (DeploymentPreference with a PreTraffic hook that
reports through the server), Conditions, Mappings, constrained and NoEcho parameters, a
state machine (AWS::Serverless::StateMachine with DefinitionSubstitutions and a policy
template), and exports that consumer.yaml (plain CloudFormation) imports.
``headwater deploy``, ``aws cloudformation package/deploy`` and ``sam deploy`` each deploy
it against ``headwater serve``; boto3 checks what was made.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.server_process import (
    AWS_CLI,
    ServerProcess,
    boto_client,
    headwater_server,
)
from tests.integration.deploy_tools import function_log, run_tool, tool

pytestmark = pytest.mark.integration

APP = Path(__file__).resolve().parents[1] / "data" / "apps" / "sam-extras"
HEADWATER = [sys.executable, "-c", "from headwater.cli.main import main; main()"]
REGION = "us-west-2"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # the work queue's 2 s batching window passes at once; function timeouts stay real
    with headwater_server(tmp_path_factory.mktemp("extras"), ["--time-scale", "60"]) as running:
        yield running


@pytest.fixture
def app(tmp_path: Path) -> Path:
    target = tmp_path / "sam-extras"
    shutil.copytree(APP, target)
    return target


def run(server: ServerProcess, app: Path, command: list[str], *, ok: bool = True) -> str:
    return run_tool(server, app, command, region=REGION, ok=ok, COLUMNS="200")


def client(server: ServerProcess, service: str) -> Any:
    return boto_client(server.endpoint, service, REGION)


def outputs(server: ServerProcess, stack: str) -> dict[str, str]:
    found = client(server, "cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def physical_ids(server: ServerProcess, stack: str) -> dict[str, str]:
    pages = client(server, "cloudformation").get_paginator("list_stack_resources")
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for page in pages.paginate(StackName=stack)
        for r in page["StackResourceSummaries"]
    }


def arn_of(server: ServerProcess, queue_url: str) -> str:
    attributes = client(server, "sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]
    return str(attributes["QueueArn"])


def check_configured(server: ServerProcess, stack: str) -> None:
    """Every resource of the application exists as the template configures it."""
    cfn = client(server, "cloudformation")
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]} == {
        "Stage": "dev",
        "ApiToken": "****",  # NoEcho
        "ReadCapacity": "5",
    }
    out = outputs(server, stack)
    assert "ProdQueue" not in out and out["DevNote"] == "dev"  # conditional outputs
    ids = physical_ids(server, stack)
    assert "ProdOnlyQueue" not in ids  # Condition: IsProd
    lam = client(server, "lambda")

    mappings = {
        m["EventSourceArn"].split(":")[2]
        + ("-fifo" if m["EventSourceArn"].endswith(".fifo") else ""): m
        for m in lam.list_event_source_mappings(FunctionName=out["RecordsFnName"])[
            "EventSourceMappings"
        ]
    }
    failures_arn = arn_of(server, ids["StreamFailures"])
    work = mappings["sqs"]
    assert work["BatchSize"] == 5 and work["MaximumBatchingWindowInSeconds"] == 2
    assert work["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert work["ScalingConfig"] == {"MaximumConcurrency": 3}
    assert work["FilterCriteria"] == {"Filters": [{"Pattern": '{"body": {"kind": ["work"]}}'}]}
    assert mappings["sqs-fifo"]["BatchSize"] == 1
    kinesis = mappings["kinesis"]
    assert kinesis["StartingPosition"] == "TRIM_HORIZON" and kinesis["BatchSize"] == 50
    assert kinesis["BisectBatchOnFunctionError"] is True
    assert kinesis["MaximumRetryAttempts"] == 2
    assert kinesis["MaximumRecordAgeInSeconds"] == 3600
    assert kinesis["ParallelizationFactor"] == 2
    assert kinesis["DestinationConfig"] == {"OnFailure": {"Destination": failures_arn}}
    table_changes = mappings["dynamodb"]
    assert (
        table_changes["EventSourceArn"]
        == client(server, "dynamodb").describe_table(TableName=out["TableName"])["Table"][
            "LatestStreamArn"
        ]
    )
    assert table_changes["StartingPosition"] == "LATEST"
    assert table_changes["FilterCriteria"] == {
        "Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]
    }
    assert table_changes["DestinationConfig"] == {"OnFailure": {"Destination": failures_arn}}

    upload = lam.get_function(FunctionName=out["UploadFnName"])
    config = upload["Configuration"]
    assert config["Runtime"] == "python3.12" and config["MemorySize"] == 256  # Globals
    assert config["Environment"]["Variables"] == {
        "STAGE": "dev",
        "TABLE_NAME": out["TableName"],
        "TABLE_ARN": out["TableArn"],
        "SETTINGS_TABLE": ids["SettingsTable"],
        "TOKEN_PARAMETER": f"/{stack}/dev/api-token-hint",
    }
    assert config["DeadLetterConfig"] == {"TargetArn": arn_of(server, ids["FunctionDLQ"])}
    assert upload["Tags"]["app"] == "sam-extras"
    (alias,) = lam.list_aliases(FunctionName=out["UploadFnName"])["Aliases"]
    assert alias["AliasArn"] == out["UploadFnAlias"] and alias["FunctionVersion"] == "1"
    invoke_config = lam.get_function_event_invoke_config(
        FunctionName=out["UploadFnName"], Qualifier="live"
    )
    assert invoke_config["MaximumRetryAttempts"] == 1
    assert invoke_config["MaximumEventAgeInSeconds"] == 600
    policy = json.loads(
        lam.get_policy(FunctionName=out["UploadFnName"], Qualifier="live")["Policy"]
    )
    assert [s["Principal"] for s in policy["Statement"]] == [{"Service": "s3.amazonaws.com"}]

    (notification,) = client(server, "s3").get_bucket_notification_configuration(
        Bucket=out["BucketName"]
    )["LambdaFunctionConfigurations"]
    assert notification["LambdaFunctionArn"] == out["UploadFnAlias"]
    assert notification["Events"] == ["s3:ObjectCreated:*"]
    assert notification["Filter"] == {
        "Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}
    }

    dynamodb = client(server, "dynamodb")
    table = dynamodb.describe_table(TableName=out["TableName"])["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by-stage"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert dynamodb.describe_time_to_live(TableName=out["TableName"])["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expiresAt",
    }
    settings = dynamodb.describe_table(TableName=ids["SettingsTable"])["Table"]
    assert settings["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert settings["ProvisionedThroughput"]["ReadCapacityUnits"] == 5

    sqs = client(server, "sqs")
    work_queue = sqs.get_queue_attributes(QueueUrl=ids["WorkQueue"], AttributeNames=["All"])
    assert json.loads(work_queue["Attributes"]["RedrivePolicy"]) == {
        "deadLetterTargetArn": arn_of(server, ids["WorkDLQ"]),
        "maxReceiveCount": 4,
    }
    fifo = sqs.get_queue_attributes(QueueUrl=ids["OrderedQueue"], AttributeNames=["All"])
    assert fifo["Attributes"]["FifoQueue"] == "true"
    assert fifo["Attributes"]["ContentBasedDeduplication"] == "true"

    sns = client(server, "sns")
    filters = {}
    for subscription in sns.list_subscriptions_by_topic(TopicArn=ids["NoticesTopic"])[
        "Subscriptions"
    ]:
        attributes = sns.get_subscription_attributes(
            SubscriptionArn=subscription["SubscriptionArn"]
        )["Attributes"]
        filters[subscription["Protocol"]] = json.loads(attributes["FilterPolicy"])
        if subscription["Protocol"] == "sqs":
            assert attributes["RawMessageDelivery"] == "true"
    assert filters == {"sqs": {"kind": ["urgent"]}, "lambda": {"severity": ["high", "critical"]}}

    (alarm,) = client(server, "cloudwatch").describe_alarms(AlarmNames=[ids["ErrorsAlarm"]])[
        "MetricAlarms"
    ]
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": out["UploadFnName"]}]
    assert alarm["Threshold"] == 5.0  # Mappings: dev
    assert alarm["AlarmActions"] == [ids["NoticesTopic"]]
    (group,) = client(server, "logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{out['UploadFnName']}"
    )["logGroups"]
    assert group["retentionInDays"] == 7
    (subscription,) = client(server, "logs").describe_subscription_filters(
        logGroupName=group["logGroupName"]
    )["subscriptionFilters"]
    assert subscription["filterPattern"] == "REPORT"
    assert subscription["destinationArn"].endswith(f":function:{out['RecordsFnName']}")
    parameter = client(server, "ssm").get_parameter(Name=ids["ApiTokenParameter"])["Parameter"]
    assert parameter["Value"] == f"token of {stack} in {REGION}"
    iam = client(server, "iam")
    assert iam.get_role(RoleName=ids["ReaderRole"])["Role"]["Path"] == "/sam-extras/"
    assert iam.list_role_policies(RoleName=ids["ReaderRole"])["PolicyNames"] == ["read-uploads"]
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    assert exports[f"{stack}-uploads-table"] == out["TableName"]
    check_function_url(server, stack)
    check_state_machine_runs(server, stack)


def check_state_machine_runs(server: ServerProcess, stack: str) -> None:
    """SAM's state machine runs, its DefinitionSubstitutions put in."""
    ids = physical_ids(server, stack)
    sfn = client(server, "stepfunctions")
    execution = sfn.start_execution(stateMachineArn=ids["Workflow"])["executionArn"]
    deadline = time.monotonic() + 20
    described = sfn.describe_execution(executionArn=execution)
    while described["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
        described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"stage": "dev", "table": ids["SettingsTable"]}


def check_traffic_shifted(server: ServerProcess, stack: str) -> None:
    """DeploymentPreference: the new version reached HttpFn's alias through a CodeDeploy
    canary deployment whose PreTraffic hook (a function calling
    PutLifecycleEventHookExecutionStatus through the server) passed."""
    out = outputs(server, stack)
    lam = client(server, "lambda")
    alias = lam.get_alias(FunctionName=out["HttpFnName"], Name="live")
    assert alias["FunctionVersion"] == "2"
    assert "RoutingConfig" not in alias or not alias["RoutingConfig"].get(
        "AdditionalVersionWeights"
    )
    codedeploy = client(server, "codedeploy")
    ids = physical_ids(server, stack)
    found = codedeploy.list_deployments(
        applicationName=ids["ServerlessDeploymentApplication"],
        deploymentGroupName=ids["HttpFnDeploymentGroup"],
    )["deployments"]
    (deployment,) = found
    info = codedeploy.get_deployment(deploymentId=deployment)["deploymentInfo"]
    assert info["status"] == "Succeeded"
    assert info["deploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"


def check_function_url(server: ServerProcess, stack: str) -> None:
    """FunctionUrlConfig: a URL on the alias, answered through the server (by its path
    form: ``*.localhost`` names may not resolve where the test runs)."""
    out = outputs(server, stack)
    lam = client(server, "lambda")
    config = lam.get_function_url_config(FunctionName=out["HttpFnName"], Qualifier="live")
    assert config["FunctionUrl"] == out["HttpUrl"]
    assert config["Cors"] == {"AllowOrigins": ["http://localhost:3000"], "AllowMethods": ["GET"]}
    port = server.endpoint.rsplit(":", 1)[1]
    host, _, _ = out["HttpUrl"].removeprefix("http://").partition("/")
    url_id, _, rest = host.partition(".")
    assert rest == f"lambda-url.{REGION}.localhost:{port}"
    path_form = f"{server.endpoint}/_headwater/function-url/{url_id}/hello?x=1"
    with urllib.request.urlopen(path_form, timeout=30) as response:
        answered = json.loads(response.read())
    assert answered == {"path": "/hello", "query": {"x": "1"}, "stage": "dev"}
    check_apis(server, out)


def check_apis(server: ServerProcess, out: dict[str, str]) -> None:
    """HttpApi and Api events: the HTTP API at the root of its $default stage, the REST API
    under Prod, both reached by their path form; the outputs name AWS's hosts."""
    http_id = out["HttpApiUrl"].removeprefix("https://").split(".", 1)[0]
    rest_id = out["RestApiUrl"].removeprefix("https://").split(".", 1)[0]
    assert out["RestApiUrl"].endswith(f".execute-api.{REGION}.amazonaws.com/Prod/")
    for path in (f"{http_id}/hello?x=1", f"{rest_id}/Prod/hello?x=1"):
        with urllib.request.urlopen(
            f"{server.endpoint}/_headwater/execute-api/{path}", timeout=30
        ) as response:
            answered = json.loads(response.read())
        assert answered == {"path": "/hello", "query": {"x": "1"}, "stage": "dev"}, path
    # Globals' Api Cors: SAM's OPTIONS mock answers the preflight, no function runs
    preflight = urllib.request.Request(
        f"{server.endpoint}/_headwater/execute-api/{rest_id}/Prod/hello", method="OPTIONS"
    )
    with urllib.request.urlopen(preflight, timeout=30) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert response.headers["Access-Control-Allow-Headers"] == "content-type"


def check_work_flows_through_the_table(server: ServerProcess, stack: str) -> None:
    """A work message passes the SQS filter, the function stores it, and the table's stream
    brings the INSERT back through the DynamoDB filter; other messages are filtered out."""
    out = outputs(server, stack)
    sqs = client(server, "sqs")
    sqs.send_message(QueueUrl=out["WorkQueueUrl"], MessageBody='{"kind": "other", "id": "skip"}')
    sqs.send_message(QueueUrl=out["WorkQueueUrl"], MessageBody='{"kind": "work", "id": "job-1"}')
    deadline = time.monotonic() + 60
    log = ""
    while time.monotonic() < deadline and "table INSERT job-1" not in log:
        time.sleep(0.2)
        log = function_log(server, out["RecordsFnName"], REGION)
    assert "stored work job-1" in log and "table INSERT job-1" in log, log
    assert "skip" not in log
    items = client(server, "dynamodb").scan(TableName=out["TableName"])["Items"]
    assert items == [{"pk": {"S": "job-1"}, "stage": {"S": "dev"}}]


def check_events_reach_the_function(server: ServerProcess, stack: str) -> None:
    """The EventBridgeRule event's rule sends matching events' detail to the function
    (asynchronously); the disabled Schedule event's rule is there, disabled."""
    out = outputs(server, stack)
    events = client(server, "events")
    rules = {r["Name"]: r for r in events.list_rules(NamePrefix=stack)["Rules"]}
    nightly = next(r for name, r in rules.items() if "Nightly" in name)
    assert (nightly["State"], nightly["ScheduleExpression"]) == ("DISABLED", "cron(0 3 * * ? *)")
    assert nightly["Description"] == f"nightly compaction of {stack}"
    orders = next(name for name in rules if "Orders" in name)
    (target,) = events.list_targets_by_rule(Rule=orders)["Targets"]
    assert (target["Id"], target["InputPath"]) == ("OrdersToRecords", "$.detail")
    answer = events.put_events(
        Entries=[
            {"Source": "sam-extras.orders", "DetailType": "Order", "Detail": json.dumps(d)}
            for d in ({"total": 0, "order": "free"}, {"total": 12, "order": "paid"})
        ]
    )
    assert answer["FailedEntryCount"] == 0
    deadline = time.monotonic() + 60
    log = ""
    while time.monotonic() < deadline and "paid" not in log:
        time.sleep(0.2)
        log = function_log(server, out["RecordsFnName"], REGION)
    assert 'event {"order": "paid", "total": 12}' in log, log
    assert "free" not in log


def check_uploads_reach_the_function(server: ServerProcess, stack: str) -> None:
    """An object put under the S3 event's prefix invokes the upload function (through its
    alias, asynchronously) with S3's event, and it stores the object's item; a key outside
    the prefix invokes nothing."""
    out = outputs(server, stack)
    s3 = client(server, "s3")
    s3.put_object(Bucket=out["BucketName"], Key="elsewhere/skip.csv", Body=b"no")
    s3.put_object(Bucket=out["BucketName"], Key="incoming/report 1.csv", Body=b"a,b\n")
    dynamodb = client(server, "dynamodb")
    key = {"pk": {"S": "incoming/report 1.csv"}}
    deadline = time.monotonic() + 60
    item = None
    while time.monotonic() < deadline and item is None:
        time.sleep(0.2)
        item = dynamodb.get_item(TableName=out["TableName"], Key=key).get("Item")
    assert item == {
        **key,
        "bucket": {"S": out["BucketName"]},
        "size": {"N": "4"},
        "stage": {"S": "dev"},
    }
    skipped = {"pk": {"S": "elsewhere/skip.csv"}}
    assert "Item" not in dynamodb.get_item(TableName=out["TableName"], Key=skipped)
    # the upload function's REPORT line reaches the records function (its CloudWatchLogs
    # event: a subscription filter on the upload function's log group)
    delivered = f"1 log events from /aws/lambda/{out['UploadFnName']}"
    log = ""
    while time.monotonic() < deadline and delivered not in log:
        time.sleep(0.2)
        log = function_log(server, out["RecordsFnName"], REGION)
    assert delivered in log, log
    for name in ("elsewhere/skip.csv", "incoming/report 1.csv"):  # the stack deletes it
        s3.delete_object(Bucket=out["BucketName"], Key=name)


def check_exporter_cannot_go_first(server: ServerProcess, stack: str) -> None:
    cfn = client(server, "cloudformation")
    assert cfn.list_imports(ExportName=f"{stack}-uploads-table")["Imports"] == [f"{stack}-consumer"]
    cfn.delete_stack(StackName=stack)
    found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert found["StackStatus"] == "DELETE_FAILED"
    assert found["StackStatusReason"] == (
        f"Export {stack}-uploads-table cannot be deleted as it is in use by {stack}-consumer"
    )
    assert (
        outputs(server, f"{stack}-consumer")["ImportedTable"] == outputs(server, stack)["TableName"]
    )


def check_nothing_left(server: ServerProcess, names: list[str]) -> None:
    """No resource of the stacks ``names`` is left in any service."""

    def ours(found: list[str]) -> list[str]:
        return [f for f in found if any(name in f for name in names)]

    assert ours(client(server, "sqs").list_queues().get("QueueUrls", [])) == []
    lam = client(server, "lambda")
    assert ours([f["FunctionName"] for f in lam.list_functions()["Functions"]]) == []
    assert (
        ours([m["FunctionArn"] for m in lam.list_event_source_mappings()["EventSourceMappings"]])
        == []
    )
    assert ours(client(server, "dynamodb").list_tables()["TableNames"]) == []
    assert ours(client(server, "kinesis").list_streams()["StreamNames"]) == []
    assert ours([t["TopicArn"] for t in client(server, "sns").list_topics()["Topics"]]) == []
    assert ours([r["Name"] for r in client(server, "events").list_rules()["Rules"]]) == []
    assert ours([b["Name"] for b in client(server, "s3").list_buckets()["Buckets"]]) == []
    ssm = client(server, "ssm").describe_parameters()["Parameters"]
    assert ours([p["Name"] for p in ssm]) == []
    alarms = client(server, "cloudwatch").describe_alarms()["MetricAlarms"]
    assert ours([a["AlarmName"] for a in alarms]) == []
    machines = client(server, "stepfunctions").list_state_machines()["stateMachines"]
    assert ours([m["name"] for m in machines]) == []
    assert ours([r["RoleName"] for r in client(server, "iam").list_roles()["Roles"]]) == []
    assert ours(client(server, "codedeploy").list_applications()["applications"]) == []
    assert (
        ours([e["Name"] for e in client(server, "cloudformation").list_exports()["Exports"]]) == []
    )


def work_mapping(server: ServerProcess, stack: str) -> str:
    """The UUID of the mapping from the work queue."""
    lam = client(server, "lambda")
    function = outputs(server, stack)["RecordsFnName"]
    (work,) = [
        m["UUID"]
        for m in lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
        if m["EventSourceArn"].endswith(physical_ids(server, stack)["WorkQueue"].rsplit("/")[-1])
    ]
    return str(work)


def edit_for_update(template: Path) -> None:
    """Change the SimpleTable's key (create-only: replaced) and the work batch size."""
    text = template.read_text()
    text = text.replace("PrimaryKey: {Name: id,", "PrimaryKey: {Name: key,")
    text = text.replace("            BatchSize: 5\n", "            BatchSize: 8\n")
    template.write_text(text)


def check_updated(server: ServerProcess, stack: str, before: dict[str, str], work: str) -> None:
    """After edit_for_update and Stage=prod: in place, the mapping's batch size, the stage's
    retention, threshold and environment; replaced, the SimpleTable (its key) and the
    parameter (its name); added, the prod-only queue; the replaced ones' old copies gone."""
    after = physical_ids(server, stack)
    changed = {k for k in before if k in after and before[k] != after[k]}
    assert changed == {"SettingsTable", "ApiTokenParameter"}
    # HttpFn's version is per stage (AutoPublishCodeSha256): a new one, kept by its Retain
    versions = {k for k in set(after) ^ set(before) if k.startswith("HttpFnVersion")}
    assert len(versions) == 2
    assert set(after) - set(before) - versions == {"ProdOnlyQueue"}
    lam = client(server, "lambda")
    check_traffic_shifted(server, stack)
    assert lam.get_event_source_mapping(UUID=work)["BatchSize"] == 8
    dynamodb = client(server, "dynamodb")
    assert before["SettingsTable"] not in dynamodb.list_tables()["TableNames"]
    settings = dynamodb.describe_table(TableName=after["SettingsTable"])["Table"]
    assert settings["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    assert after["ApiTokenParameter"] == f"/{stack}/prod/api-token-hint"
    names = [p["Name"] for p in client(server, "ssm").describe_parameters()["Parameters"]]
    assert before["ApiTokenParameter"] not in names
    (alarm,) = client(server, "cloudwatch").describe_alarms(AlarmNames=[after["ErrorsAlarm"]])[
        "MetricAlarms"
    ]
    assert alarm["Threshold"] == 1.0
    logs = client(server, "logs").describe_log_groups(logGroupNamePrefix=after["UploadFnLogs"])
    assert logs["logGroups"][0]["retentionInDays"] == 30
    out = outputs(server, stack)
    assert out["ProdQueue"] == after["ProdOnlyQueue"] and "DevNote" not in out
    environment = lam.get_function_configuration(FunctionName=out["UploadFnName"])["Environment"]
    assert environment["Variables"]["STAGE"] == "prod"


def test_headwater_deploy_configures_runs_updates_and_deletes(
    server: ServerProcess, app: Path
) -> None:
    deploy = [*HEADWATER, "deploy", "--endpoint-url", server.endpoint]
    printed = run(
        server,
        app,
        [
            *deploy,
            "template.yaml",
            "--stack-name",
            "hwx",
            "--parameter-overrides",
            "ApiToken=secret-token",
        ],
    )
    assert "hwx: CREATE_COMPLETE" in printed
    run(
        server,
        app,
        [
            *deploy,
            "consumer.yaml",
            "--stack-name",
            "hwx-consumer",
            "--parameter-overrides",
            "ProducerStack=hwx",
        ],
    )
    check_configured(server, "hwx")
    check_work_flows_through_the_table(server, "hwx")
    check_events_reach_the_function(server, "hwx")
    check_uploads_reach_the_function(server, "hwx")

    before = physical_ids(server, "hwx")
    work = work_mapping(server, "hwx")
    edit_for_update(app / "template.yaml")
    printed = run(
        server,
        app,
        [*deploy, "template.yaml", "--stack-name", "hwx", "--parameter-overrides", "Stage=prod"],
    )  # ApiToken kept
    assert "hwx: UPDATE_COMPLETE" in printed
    check_updated(server, "hwx", before, work)

    check_exporter_cannot_go_first(server, "hwx")
    run(server, app, [*HEADWATER, "destroy", "hwx-consumer", "--endpoint-url", server.endpoint])
    run(server, app, [*HEADWATER, "destroy", "hwx", "--endpoint-url", server.endpoint])
    check_nothing_left(server, ["hwx"])


def test_aws_cloudformation_package_and_deploy_it_unchanged(
    server: ServerProcess, app: Path
) -> None:
    aws = [str(AWS_CLI), "--output", "json"]
    package = [
        *aws,
        "cloudformation",
        "package",
        "--template-file",
        "template.yaml",
        "--s3-bucket",
        "extras-artifacts",
        "--output-template-file",
        "packaged.yaml",
    ]
    deploy = [*aws, "cloudformation", "deploy", "--capabilities", "CAPABILITY_IAM"]
    run(server, app, [*aws, "s3", "mb", "s3://extras-artifacts"])
    run(server, app, package)
    printed = run(
        server,
        app,
        [
            *deploy,
            "--template-file",
            "packaged.yaml",
            "--stack-name",
            "clix",
            "--parameter-overrides",
            "ApiToken=secret-token",
        ],
    )
    assert "Successfully created/updated stack - clix" in printed
    run(
        server,
        app,
        [
            *deploy,
            "--template-file",
            "consumer.yaml",
            "--stack-name",
            "clix-consumer",
            "--parameter-overrides",
            "ProducerStack=clix",
        ],
    )
    check_configured(server, "clix")
    check_work_flows_through_the_table(server, "clix")
    check_events_reach_the_function(server, "clix")

    # the same update through a change set (the NoEcho token is kept by the CLI)
    before = physical_ids(server, "clix")
    work = work_mapping(server, "clix")
    edit_for_update(app / "template.yaml")
    run(server, app, package)
    run(
        server,
        app,
        [
            *deploy,
            "--template-file",
            "packaged.yaml",
            "--stack-name",
            "clix",
            "--parameter-overrides",
            "Stage=prod",
        ],
    )
    check_updated(server, "clix", before, work)

    check_exporter_cannot_go_first(server, "clix")
    run(server, app, [*aws, "cloudformation", "delete-stack", "--stack-name", "clix-consumer"])
    run(server, app, [*aws, "cloudformation", "delete-stack", "--stack-name", "clix"])
    check_nothing_left(server, ["clix"])


def test_sam_deploy_deploys_it_unchanged(server: ServerProcess, app: Path) -> None:
    sam = tool("HEADWATER_SAM_CLI", "sam", "the SAM CLI")
    printed = run(
        server,
        app,
        [
            sam,
            "deploy",
            "--stack-name",
            "samx",
            "--capabilities",
            "CAPABILITY_IAM",
            "--resolve-s3",
            "--no-confirm-changeset",
            "--region",
            REGION,
            "--parameter-overrides",
            "ApiToken=secret-token",
        ],
    )
    assert "Successfully created/updated stack - samx" in printed
    check_configured(server, "samx")
    run(server, app, [sam, "delete", "--stack-name", "samx", "--no-prompts", "--region", REGION])
    check_nothing_left(server, ["samx"])
