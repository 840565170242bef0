"""The seed's CDK app (TypeScript) with the real CDK CLI against ``headwater serve``.

``cdk synth`` runs the app as its README says (compiling the TypeScript handlers first),
then ``cdk bootstrap`` and ``cdk deploy`` deploy it unchanged, only the endpoint set: the
CDKToolkit stack, assets uploaded to its bucket, templates passed by URL. The order
pipeline runs: a PLACED order reaches the TypeScript handler, a CANCELLED one is filtered
out and deleted. ``headwater deploy cdk.out/<Stack>.template.json`` deploys the same
stacks with code from the asset folders in place, the inventory pipeline (a table's
DynamoDB stream mapped to a function) included.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.server_process import ServerProcess, boto_client, headwater_server
from tests.integration.deploy_tools import function_log

pytestmark = pytest.mark.integration

SEED003 = Path(__file__).resolve().parents[1] / "data" / "apps" / "seed003-cdk"
HEADWATER = [sys.executable, "-c", "from headwater.cli.main import main; main()"]
DEFAULT_TOOLS = Path("~/.cache/headwater/cdk-tools").expanduser()


def cdk_modules() -> Path:
    """The CDK app's node_modules (.ci/run installs them from tools/cdk)."""
    if shutil.which("node") is None or shutil.which("npx") is None:
        pytest.skip("Node.js is not installed")
    modules = Path(os.environ.get("HEADWATER_CDK_TOOLS", DEFAULT_TOOLS)) / "node_modules"
    if not (modules / ".bin" / "cdk").exists():
        message = f"the CDK app's npm packages are not in {modules} (.ci/run installs them)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return modules


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    modules = cdk_modules()
    app = tmp_path_factory.mktemp("seed003") / "seed003-cdk"
    shutil.copytree(SEED003, app)
    (app / "node_modules").symlink_to(modules, target_is_directory=True)
    env = {
        **os.environ,
        "CDK_DISABLE_VERSION_CHECK": "1",
        "AWS_REGION": CDK_REGION,
        "AWS_DEFAULT_REGION": CDK_REGION,
    }
    completed = subprocess.run(
        ["npx", "cdk", "synth", "--no-notices", "-o", "cdk.out"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return app / "cdk.out"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("cdk-serve")) as running:
        yield running


CDK_REGION = "us-east-1"


def cdk(server: ServerProcess, app: Path, *args: str) -> str:
    env = {
        **server.client_env(),
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_REGION": CDK_REGION,
        "AWS_DEFAULT_REGION": CDK_REGION,
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    completed = subprocess.run(
        ["npx", "cdk", *args, "--no-notices", "--app", "cdk.out"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout + completed.stderr


def headwater_deploy(
    server: ServerProcess, template: Path, stack: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *HEADWATER,
            "deploy",
            str(template),
            "--stack-name",
            stack,
            "--endpoint-url",
            server.endpoint,
            "--region",
            CDK_REGION,
        ],
        env={**server.client_env(), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_cdk_bootstrap_and_deploy_then_the_order_pipeline_runs(
    synthesized: Path, server: ServerProcess
) -> None:
    app = synthesized.parent
    assert "bootstrapped" in cdk(server, app, "bootstrap", f"aws://000000000000/{CDK_REGION}")
    printed = cdk(
        server,
        app,
        "deploy",
        "--require-approval",
        "never",
        "Seed003OrderPipeline",
        "Seed003UserEventPipeline",
        "Seed003InventoryPipeline",
    )
    assert "Seed003UserEventPipeline.UserEventStreamName" in printed
    cfn = boto_client(server.endpoint, "cloudformation", CDK_REGION)
    stacks = ("CDKToolkit", "Seed003OrderPipeline", "Seed003UserEventPipeline")
    for stack in (*stacks, "Seed003InventoryPipeline"):
        assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName="Seed003OrderPipeline")["Stacks"][0]["Outputs"]
    }
    sqs = boto_client(server.endpoint, "sqs", CDK_REGION)
    queue = outputs["OrderQueueUrl"]
    sqs.send_message(
        QueueUrl=queue, MessageBody=json.dumps({"orderId": "ORD-1", "status": "PLACED"})
    )
    sqs.send_message(
        QueueUrl=queue, MessageBody=json.dumps({"orderId": "ORD-3", "status": "CANCELLED"})
    )
    deadline = time.monotonic() + 60  # batching window 10 s, then a cold Node.js start
    text, left = "", {}
    while time.monotonic() < deadline:
        text = function_log(server, outputs["OrderProcessorName"], CDK_REGION)
        left = sqs.get_queue_attributes(
            QueueUrl=queue,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if "ORD-1" in text and set(left.values()) == {"0"}:
            break
        time.sleep(0.5)
    assert "Processing order" in text and "ORD-1" in text
    assert "ORD-3" not in text  # filtered out by the mapping, and deleted
    assert set(left.values()) == {"0"}
    inventory_runs(server)


def inventory_runs(server: ServerProcess) -> None:
    """The inventory pipeline: a table's stream, filtered to quantities that reach 0."""
    cfn = boto_client(server.endpoint, "cloudformation", CDK_REGION)
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName="Seed003InventoryPipeline")["Stacks"][0]["Outputs"]
    }
    ddb = boto_client(server.endpoint, "dynamodb", CDK_REGION)
    table = outputs["InventoryTableName"]
    deadline = time.monotonic() + 60  # a cold Python start
    text = ""
    while time.monotonic() < deadline and "Out of stock: P-1" not in text:
        # StartingPosition LATEST: changes before the mapping pinned its position are not
        # read (as on AWS), so the drop to 0 is repeated until one is seen
        for product, quantity in (("P-1", "5"), ("P-2", "5"), ("P-1", "0"), ("P-2", "3")):
            ddb.put_item(
                TableName=table, Item={"productId": {"S": product}, "quantity": {"N": quantity}}
            )
        time.sleep(1.0)
        text = function_log(server, outputs["StockAlertName"], CDK_REGION)
    assert "Out of stock: P-1 (MODIFY" in text
    assert "P-2" not in text  # filtered out: its quantity never reached 0


def test_headwater_deploy_of_the_synthesized_stacks(
    synthesized: Path, server: ServerProcess
) -> None:
    order = headwater_deploy(server, synthesized / "Seed003OrderPipeline.template.json", "Direct")
    assert order.returncode == 0, order.stdout + order.stderr
    inventory = headwater_deploy(
        server, synthesized / "Seed003InventoryPipeline.template.json", "Seed003InventoryPipeline"
    )
    assert inventory.returncode == 0, inventory.stdout + inventory.stderr
