"""Deploying the seed's SAM application (10 resources): create, update one property, delete.

Three ways, all on SQLite, in the same run:

- ``headwater deploy`` (embedded, what the command does in process: SAM transform with local
  code directories, CreateStack/UpdateStack/DeleteStack on the data directory's headwater),
  plus the wall time of the command itself as a subprocess (Python start-up and imports
  included);
- the CloudFormation API over the wire: boto3 against ``headwater serve`` (the template
  ``headwater deploy`` would send), waiting for the stack like a client does;
- the equivalent direct API calls: the same queues, stream, functions and mappings made
  with boto3 calls against the same server (create), one UpdateEventSourceMapping
  (update) and the deletes.

    python benchmarks/deploy.py [--rounds 5]

Prints median and p90 wall time per operation, and the server's CPU time per operation.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import free_port, percentile, process_cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
SEED000 = ROOT / "tests" / "data" / "apps" / "seed000-sam"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


def report(name: str, samples: list[float], cpu: list[float] | None = None) -> None:
    line = (
        f"  {name:<44} median {statistics.median(samples) * 1000:8.1f} ms"
        f"   p90 {percentile(samples, 0.9) * 1000:8.1f} ms"
    )
    if cpu:
        line += f"   server CPU {statistics.median(cpu) * 1000:7.1f} ms"
    print(line)


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def wait_status(cfn: Any, stack: str, done: set[str]) -> str:
    """Poll until the stack (a name, or an id once it may be deleted) settles."""
    while True:
        status = str(cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"])
        if status in done or not status.endswith("IN_PROGRESS"):
            return status
        time.sleep(0.01)


def stack_id(cfn: Any, name: str) -> str:
    return str(cfn.describe_stacks(StackName=name)["Stacks"][0]["StackId"])


def template_with(batch_size: int) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="hw-bench-app-"))
    shutil.copytree(SEED000 / "src", folder / "src")
    text = (
        (SEED000 / "template.yaml").read_text().replace("BatchSize: 10", f"BatchSize: {batch_size}")
    )
    (folder / "template.yaml").write_text(text)
    return folder / "template.yaml"


# --------------------------------------------------------------------------- headwater deploy


def embedded(rounds: int) -> None:
    from headwater import Headwater
    from headwater.deploy.local import load_local_template

    first, second = template_with(10), template_with(5)
    create, update, delete = [], [], []
    data = Path(tempfile.mkdtemp(prefix="hw-bench-deploy-"))
    with Headwater(data_dir=data) as hw:
        cfn = hw.client("cloudformation")
        for index in range(rounds + 1):
            name = f"seed000-{index}"

            def deploy(template: Path, call: Callable[..., Any], stack: str = name) -> None:
                local = load_local_template(template, {}, region="us-east-1")
                call(
                    StackName=stack,
                    TemplateBody=json.dumps(local.document),
                    Capabilities=CAPABILITIES,
                )
                wait_status(cfn, stack, set())

            made = timed(lambda: deploy(first, cfn.create_stack))
            changed = timed(lambda: deploy(second, cfn.update_stack))
            removed = timed(
                lambda sid=stack_id(cfn, name): (  # noqa: B008 - bound before timing
                    cfn.delete_stack(StackName=sid),
                    wait_status(cfn, sid, set()),
                )
            )
            if index:  # the first round pays for imports
                create.append(made)
                update.append(changed)
                delete.append(removed)
    print("headwater deploy, in process (SQLite):")
    report("create (SAM transform + CreateStack)", create)
    report("update BatchSize (transform + UpdateStack)", update)
    report("delete (DeleteStack)", delete)
    command = [sys.executable, "-c", "from headwater.cli.main import main; main()"]
    walls = []
    for index in range(max(2, rounds // 2)):
        cli_data = Path(tempfile.mkdtemp(prefix="hw-bench-cli-"))
        walls.append(
            timed(
                lambda d=cli_data, i=index: subprocess.run(
                    [
                        *command,
                        "deploy",
                        str(first),
                        "--stack-name",
                        f"cli-{i}",
                        "--data-dir",
                        str(d),
                    ],
                    check=True,
                    capture_output=True,
                )
            )
        )
    report("`headwater deploy` command, wall (cold start)", walls)


# --------------------------------------------------------------------------- the server


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from headwater.cli.main import main; main()",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(endpoint + "/_headwater/health", timeout=1):
                return process, endpoint
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("headwater serve did not start")


def clients(endpoint: str) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    session = boto3.Session(
        aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
    )
    config = Config(retries={"max_attempts": 1})
    return {
        name: session.client(name, endpoint_url=endpoint, config=config)
        for name in ("cloudformation", "sqs", "lambda", "kinesis")
    }


def code_zip(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in directory.iterdir():
            if path.suffix == ".py":
                archive.write(path, path.name)
    return buffer.getvalue()


def over_the_wire(rounds: int) -> None:
    from headwater.deploy.local import load_local_template

    data = Path(tempfile.mkdtemp(prefix="hw-bench-serve-"))
    process, endpoint = start_server(data)
    try:
        c = clients(endpoint)
        cfn = c["cloudformation"]
        first = json.dumps(load_local_template(template_with(10), {}, region="us-east-1").document)
        second = json.dumps(load_local_template(template_with(5), {}, region="us-east-1").document)
        samples: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}

        def measure(label: str, call: Callable[[], Any], keep: bool) -> None:
            before = process_cpu_seconds(process.pid)
            elapsed = timed(call)
            if keep:
                samples.setdefault(label, []).append(elapsed)
                cpu.setdefault(label, []).append(process_cpu_seconds(process.pid) - before)

        for index in range(rounds + 1):
            stack = f"wire-{index}"
            keep = index > 0
            measure(
                "CFN API create (CreateStack + wait)",
                lambda s=stack: (
                    cfn.create_stack(StackName=s, TemplateBody=first, Capabilities=CAPABILITIES),
                    wait_status(cfn, s, set()),
                ),
                keep,
            )
            measure(
                "CFN API update BatchSize (UpdateStack + wait)",
                lambda s=stack: (
                    cfn.update_stack(StackName=s, TemplateBody=second, Capabilities=CAPABILITIES),
                    wait_status(cfn, s, set()),
                ),
                keep,
            )
            measure(
                "CFN API delete (DeleteStack + wait)",
                lambda sid=stack_id(cfn, stack): (  # noqa: B008 - bound before timing
                    cfn.delete_stack(StackName=sid),
                    wait_status(cfn, sid, set()),
                ),
                keep,
            )
            made: dict[str, Any] = {}
            measure(
                "direct calls: create the same 10 resources",
                lambda i=index, m=made: direct_create(c, f"d{i}", m),
                keep,
            )
            measure(
                "direct calls: UpdateEventSourceMapping",
                lambda m=made: c["lambda"].update_event_source_mapping(
                    UUID=m["order_mapping"], BatchSize=5
                ),
                keep,
            )
            measure("direct calls: delete them", lambda m=made: direct_delete(c, m), keep)
        print("over the wire (headwater serve, SQLite; boto3 client in this process):")
        for label, values in samples.items():
            report(label, values, cpu[label])
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def direct_create(c: Any, prefix: str, made: dict[str, Any]) -> None:
    """What the stack holds, by hand: 3 queues, 1 stream, 2 functions, 2 mappings."""
    sqs, lam, kinesis = c["sqs"], c["lambda"], c["kinesis"]
    zipped = code_zip(SEED000 / "src")
    role = "arn:aws:iam::000000000000:role/bench"

    def queue(name: str, attributes: dict[str, str]) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    dlq_url, dlq_arn = queue(f"{prefix}-dlq", {})
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
    order_url, order_arn = queue(
        f"{prefix}-orders", {"VisibilityTimeout": "180", "RedrivePolicy": redrive}
    )
    failed_url, failed_arn = queue(f"{prefix}-failed", {})
    kinesis.create_stream(StreamName=f"{prefix}-stream", ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=f"{prefix}-stream")[
        "StreamDescriptionSummary"
    ]["StreamARN"]
    for name, handler in (("orders", "app.handler"), ("stream", "stream_app.handler")):
        lam.create_function(
            FunctionName=f"{prefix}-{name}",
            Runtime="python3.12",
            Handler=handler,
            Role=role,
            Timeout=30,
            Code={"ZipFile": zipped},
        )
    made["order_mapping"] = lam.create_event_source_mapping(
        FunctionName=f"{prefix}-orders",
        EventSourceArn=order_arn,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )["UUID"]
    made["stream_mapping"] = lam.create_event_source_mapping(
        FunctionName=f"{prefix}-stream",
        EventSourceArn=stream_arn,
        StartingPosition="LATEST",
        BatchSize=100,
        MaximumBatchingWindowInSeconds=5,
        ParallelizationFactor=2,
        MaximumRetryAttempts=3,
        BisectBatchOnFunctionError=True,
        MaximumRecordAgeInSeconds=86400,
        DestinationConfig={"OnFailure": {"Destination": failed_arn}},
    )["UUID"]
    made.update(
        queues=[order_url, dlq_url, failed_url],
        stream=f"{prefix}-stream",
        functions=[f"{prefix}-orders", f"{prefix}-stream"],
    )


def direct_delete(c: Any, made: dict[str, Any]) -> None:
    for key in ("order_mapping", "stream_mapping"):
        c["lambda"].delete_event_source_mapping(UUID=made[key])
    for name in made["functions"]:
        c["lambda"].delete_function(FunctionName=name)
    c["kinesis"].delete_stream(StreamName=made["stream"])
    for url in made["queues"]:
        c["sqs"].delete_queue(QueueUrl=url)


def watch_round_trip(rounds: int) -> None:
    """`headwater deploy --watch`: from saving a handler to the new code answering an Invoke."""
    data = Path(tempfile.mkdtemp(prefix="hw-bench-watch-"))
    process, endpoint = start_server(data)
    folder = template_with(10).parent
    watcher = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from headwater.cli.main import main; main()",
            "deploy",
            str(folder / "template.yaml"),
            "--stack-name",
            "watched",
            "--watch",
            "--endpoint-url",
            endpoint,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={
            **os.environ,
            "COLUMNS": "200",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
    )
    try:
        assert watcher.stdout is not None
        for line in watcher.stdout:
            if "Ctrl-C stops" in line:
                break
        c = clients(endpoint)
        outputs = c["cloudformation"].describe_stacks(StackName="watched")["Stacks"][0]["Outputs"]
        name = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ProcessStreamFnName")
        handler = folder / "src" / "stream_app.py"
        printed, live = [], []
        for index in range(rounds + 1):
            started = time.perf_counter()
            handler.write_text(f"def handler(event, context):\n    return {index}\n")
            for line in watcher.stdout:
                if f"updated code of {name}" in line:
                    break
            noticed = time.perf_counter() - started
            while True:  # the first Invoke after the update starts a fresh worker
                answer = c["lambda"].invoke(FunctionName=name, Payload=b"{}")
                if json.loads(answer["Payload"].read()) == index:
                    break
            if index:
                printed.append(noticed)
                live.append(time.perf_counter() - started)
        print("headwater deploy --watch (server, SQLite): save a handler file ->")
        report("code redeployed (watcher prints it)", printed)
        report("new code answers an Invoke", live)
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"seed000-sam (10 resources after the SAM transform), {args.rounds} rounds each\n")
    embedded(args.rounds)
    print()
    over_the_wire(args.rounds)
    print()
    watch_round_trip(args.rounds)


if __name__ == "__main__":
    main()
