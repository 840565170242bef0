"""IAM, STS and Lambda control-plane calls with boto3 against headwater serve and moto_server
in one run, plus the weighted-alias invocation path in process.

    .venv/bin/python benchmarks/control_plane.py [--calls 300]

Per server, sequentially from one boto3 client: ``--calls`` each of CreateRole (with a trust
policy), GetRole, PutRolePolicy and AttachRolePolicy (an AWS managed policy); as many STS
GetCallerIdentity; Lambda GetFunction on one function; PublishVersion (after an
UpdateFunctionConfiguration each, so every publish makes a version) and CreateAlias for
``--calls / 10`` versions. Printed: calls per second, p50/p99 latency (ms) and the server's
CPU ms per call (utime + stime from /proc). moto runs the same calls (it needs no Docker for
these). Last, 1,000 invocations of a weighted alias in process (inline functions): the
split and the per-invocation cost of resolving an alias.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from measure import free_port, percentile, process_cpu_seconds
from wire_sqs import start, stop

ROLE_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
INLINE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
    }
)
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
HANDLER = "def handler(event, context):\n    return 1\n"


def zip_of(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def measure(name: str, pid: int, calls: int, call: Callable[[int], Any]) -> str:
    latencies = []
    cpu_before = process_cpu_seconds(pid, reaped_children=True)
    started = time.perf_counter()
    for index in range(calls):
        began = time.perf_counter()
        call(index)
        latencies.append((time.perf_counter() - began) * 1000)
    seconds = time.perf_counter() - started
    cpu = process_cpu_seconds(pid, reaped_children=True) - cpu_before
    return (
        f"  {name:<34} {calls / seconds:8.0f}/s   p50 {percentile(latencies, 0.5):6.2f} ms"
        f"   p99 {percentile(latencies, 0.99):6.2f} ms   server CPU {cpu * 1000 / calls:5.2f} ms"
    )


def workload(label: str, endpoint: str, pid: int, calls: int) -> None:
    iam, sts, lam = (client(endpoint, s) for s in ("iam", "sts", "lambda"))
    print(label)
    print(
        measure(
            "iam CreateRole",
            pid,
            calls,
            lambda i: iam.create_role(RoleName=f"r{i}", AssumeRolePolicyDocument=ROLE_TRUST),
        )
    )
    print(measure("iam GetRole", pid, calls, lambda i: iam.get_role(RoleName=f"r{i}")))
    print(
        measure(
            "iam PutRolePolicy",
            pid,
            calls,
            lambda i: iam.put_role_policy(RoleName=f"r{i}", PolicyName="p", PolicyDocument=INLINE),
        )
    )
    print(
        measure(
            "iam AttachRolePolicy",
            pid,
            calls,
            lambda i: iam.attach_role_policy(RoleName=f"r{i}", PolicyArn=BASIC),
        )
    )
    print(measure("sts GetCallerIdentity", pid, calls, lambda i: sts.get_caller_identity()))
    lam.create_function(
        FunctionName="bench",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/r0",
        Handler="app.handler",
        Code={"ZipFile": zip_of(HANDLER)},
    )
    print(
        measure("lambda GetFunction", pid, calls, lambda i: lam.get_function(FunctionName="bench"))
    )

    def publish(index: int) -> None:
        lam.update_function_configuration(FunctionName="bench", Description=f"d{index}")
        version = lam.publish_version(FunctionName="bench")["Version"]
        lam.create_alias(FunctionName="bench", Name=f"a{index}", FunctionVersion=version)

    print(measure("lambda Update+Publish+CreateAlias", pid, max(1, calls // 10), publish))


def serve(command: list[str], ready: str, label: str, calls: int, endpoint: str) -> None:
    process = start(command, ready)
    try:
        workload(label, endpoint, process.pid, calls)
    finally:
        stop(process)


def weighted_alias() -> None:
    from headwater import Headwater

    with Headwater.in_memory(functions="inline") as hw:
        lam = hw.lambda_
        lam.create_function(
            FunctionName="w",
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/r",
            Handler="app.handler",
            Code={"ZipFile": zip_of(HANDLER)},
        )
        lam.publish_version(FunctionName="w")
        lam.update_function_configuration(FunctionName="w", Description="two")
        lam.publish_version(FunctionName="w")
        lam.create_alias(
            FunctionName="w",
            Name="canary",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
        )
        for qualifier in ("1", "canary"):
            counts: Counter[str] = Counter()
            cpu = time.process_time()
            started = time.perf_counter()
            for _ in range(1000):
                counts[
                    hw.service("lambda").invoke_function("w", qualifier=qualifier).executed_version
                ] += 1
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            print(
                f"  in process, Qualifier={qualifier:<7} {1000 / seconds:8.0f}/s   "
                f"CPU {cpu:5.3f} ms per invocation   versions {dict(sorted(counts.items()))}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        serve(
            [
                sys.executable,
                "-c",
                "from headwater.cli.main import main; main()",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                data_dir,
            ],
            endpoint + "/_headwater/health",
            "headwater serve (SQLite)",
            args.calls,
            endpoint,
        )
    moto = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if moto is None:
        print("moto_server not installed (pip install -e '.[bench]'): skipped")
    else:
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        serve([moto, "-p", str(port)], endpoint + "/moto-api/", "moto_server", args.calls, endpoint)
    print("weighted alias (10% to version 2), 1,000 invocations")
    weighted_alias()


if __name__ == "__main__":
    main()
