"""``headwater deploy``, ``headwater stacks`` and ``headwater destroy``.

Each talks to a running ``headwater serve`` (``--endpoint-url``, or the default port when a
server answers there) through the CloudFormation API, or, with ``--data-dir`` or when no
server runs, to a data directory directly (a later ``headwater serve`` there finds the
stacks and runs their mappings).
"""

from __future__ import annotations

import io
import json
import os
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    # rich is imported when a command runs, so `headwater serve` and --help start faster
    from rich.console import Console

DEFAULT_ENDPOINT = "http://127.0.0.1:4599"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


@dataclass
class Connection:
    """The CloudFormation and Lambda clients of the headwater a command talks to."""

    cfn: Any
    lam: Any
    where: str
    #: True when the clients call a server (function code then travels as a zip).
    remote: bool
    #: The server's URL (``None``: a data directory, served later by ``headwater serve``).
    endpoint: str | None = None


def _server_answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/_headwater/health", timeout=0.5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def connect(endpoint: str | None, data_dir: Path | None, region: str) -> Iterator[Connection]:
    """Clients for a server at ``endpoint``, or for the headwater in ``data_dir``."""
    if endpoint is None and data_dir is None and _server_answers(DEFAULT_ENDPOINT):
        endpoint = DEFAULT_ENDPOINT
    if endpoint is not None:
        import boto3
        from botocore.config import Config

        session = boto3.Session(
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "headwater"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "headwater"),
            region_name=region,
        )
        config = Config(retries={"max_attempts": 2}, read_timeout=120)
        yield Connection(
            cfn=session.client("cloudformation", endpoint_url=endpoint, config=config),
            lam=session.client("lambda", endpoint_url=endpoint, config=config),
            where=f"headwater at {endpoint}",
            remote=True,
            endpoint=endpoint,
        )
        return
    from headwater.app import DEFAULT_DATA_DIR, Headwater

    directory = (data_dir or DEFAULT_DATA_DIR).expanduser()
    with Headwater(data_dir=directory, region=region) as hw:
        yield Connection(
            cfn=hw.client("cloudformation"),
            lam=hw.lambda_,
            where=f"data directory {directory}",
            remote=False,
        )


def _connection_options(command: Any) -> Any:
    command = click.option(
        "--region",
        default=lambda: os.environ.get(
            "AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1")
        ),
        show_default="AWS_DEFAULT_REGION or us-east-1",
        help="Region of the stacks.",
    )(command)
    command = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Work on this data directory directly (no server).",
    )(command)
    return click.option(
        "--endpoint-url",
        default=None,
        help=f"A running headwater serve [default: {DEFAULT_ENDPOINT} when it answers].",
    )(command)


def _zip_directory(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def _show_outputs(console: Console, cfn: Any, stack_name: str) -> None:
    from rich.table import Table

    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = stack.get("Outputs") or []
    if not outputs:
        return
    table = Table(title="Outputs", title_justify="left")
    table.add_column("Key")
    table.add_column("Value", overflow="fold")
    for output in outputs:
        table.add_row(output["OutputKey"], output["OutputValue"])
    console.print(table)


#: Resource types whose local address ``headwater deploy`` shows after a deploy.
_SERVED_API_TYPES = ("AWS::ApiGatewayV2::Api", "AWS::ApiGateway::RestApi")


def _show_api_endpoints(
    console: Console, cfn: Any, stack_name: str, endpoint: str | None, region: str
) -> None:
    """Where the stack's APIs answer here: the outputs a template writes name AWS's host
    (``<id>.execute-api.<region>.amazonaws.com``), which does not resolve to headwater."""
    from rich.table import Table

    from headwater.services.apigatewayv2.service import api_endpoint

    resources = cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    apis = [
        r
        for r in resources
        if r["ResourceType"] in _SERVED_API_TYPES and r.get("PhysicalResourceId")
    ]
    if not apis:
        return
    base = endpoint or DEFAULT_ENDPOINT
    # a REST API answers under its stages' names (SAM's Api: /Prod/); an HTTP API's
    # $default stage at the root
    stages = [
        str(r["PhysicalResourceId"])
        for r in resources
        if r["ResourceType"] == "AWS::ApiGateway::Stage" and r.get("PhysicalResourceId")
    ]
    table = Table(title="APIs served by headwater", title_justify="left")
    table.add_column("Resource")
    table.add_column("Local endpoint", overflow="fold")
    table.add_column("Path form", overflow="fold")
    for resource in apis:
        api_id = str(resource["PhysicalResourceId"])
        root = api_endpoint(api_id, region, base)
        path_form = f"{base.rstrip('/')}/_headwater/execute-api/{api_id}"
        suffixes = ["/"]
        if resource["ResourceType"] == "AWS::ApiGateway::RestApi" and stages:
            suffixes = [f"/{stage}/" for stage in stages]
        for suffix in suffixes:
            table.add_row(resource["LogicalResourceId"], root + suffix, path_form + suffix)
    console.print(table)


@dataclass
class DeployJob:
    """One ``headwater deploy``: a template, the stack it becomes, and where it goes."""

    connection: Connection
    console: Console
    template: Path
    stack_name: str
    overrides: dict[str, str]
    region: str

    def deploy_once(self) -> dict[str, Path]:
        """Create or update the stack; returns function physical name -> code directory."""
        from headwater.cli.stack_progress import SUCCESS, follow_operation
        from headwater.deploy.local import load_local_template
        from headwater.deploy.parameters import NO_ECHO_MASK

        cfn = self.connection.cfn
        stack = next(
            (s for s in cfn.describe_stacks()["Stacks"] if s["StackName"] == self.stack_name),
            None,
        )
        exists = stack is not None
        # As `aws cloudformation deploy` and `sam deploy` do, a parameter not overridden
        # keeps the stack's current value (UsePreviousValue), not the template's Default:
        # redeploying (or --watch after --parameter-overrides Stage=dev) stays on dev.
        previous = {
            p["ParameterKey"]: p.get("ParameterValue", "")
            for p in (stack or {}).get("Parameters") or []
        }
        known = {k: v for k, v in previous.items() if v != NO_ECHO_MASK}
        local = load_local_template(self.template, {**known, **self.overrides}, region=self.region)
        body = json.dumps(local.document)
        parameters: list[dict[str, Any]] = [
            {"ParameterKey": k, "ParameterValue": v} for k, v in self.overrides.items()
        ]
        declared = local.document.get("Parameters") or {}
        parameters += [
            {"ParameterKey": k, "UsePreviousValue": True}
            for k in declared
            if k in previous and k not in self.overrides
        ]

        def start() -> str:
            call = cfn.update_stack if exists else cfn.create_stack
            result = call(
                StackName=self.stack_name,
                TemplateBody=body,
                Parameters=parameters,
                Capabilities=CAPABILITIES,
            )
            return str(result["StackId"])

        started = time.perf_counter()
        try:
            progress = follow_operation(cfn, self.stack_name, start, self.console)
        except Exception as error:
            message = getattr(error, "response", {}).get("Error", {}).get("Message", str(error))
            if message == "No updates are to be performed.":
                self.console.print(f"[green]{self.stack_name} is up to date[/] (no changes)")
                return self.function_directories(local.code_directories)
            raise click.ClickException(message) from None
        elapsed = time.perf_counter() - started
        if progress.status not in SUCCESS:
            detail = f": {progress.reason}" if progress.reason else ""
            raise click.ClickException(f"{self.stack_name} ended in {progress.status}{detail}")
        self.console.print(f"[green]{self.stack_name}: {progress.status}[/] in {elapsed:.2f} s")
        _show_outputs(self.console, cfn, self.stack_name)
        _show_api_endpoints(
            self.console, cfn, self.stack_name, self.connection.endpoint, self.region
        )
        return self.function_directories(local.code_directories)

    def function_directories(self, by_logical: dict[str, Path]) -> dict[str, Path]:
        cfn = self.connection.cfn
        resources = cfn.list_stack_resources(StackName=self.stack_name)["StackResourceSummaries"]
        physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in resources}
        return {
            str(physical[logical_id]): directory
            for logical_id, directory in by_logical.items()
            if physical.get(logical_id)
        }

    def redeploy_code(self, name: str, directory: Path) -> None:
        """Put a function on the current files of its directory (workers restart)."""
        if self.connection.remote:
            self.connection.lam.update_function_code(
                FunctionName=name, ZipFile=_zip_directory(directory)
            )
        else:
            self.connection.lam.update_function_code_from_directory(name, directory)

    def watch(self, functions: dict[str, Path]) -> None:
        """Redeploy code on file changes, the whole stack on template changes; Ctrl-C stops."""
        from watchfiles import watch

        self.console.print(
            f"watching {self.template} and {len(functions)} code director"
            f"{'y' if len(functions) == 1 else 'ies'}; Ctrl-C stops"
        )
        template = self.template.resolve()
        roots = {template, *(d.resolve() for d in functions.values())}
        for changes in watch(*roots, debounce=50, step=20, raise_interrupt=False):
            started = time.perf_counter()
            paths = {Path(path).resolve() for _, path in changes}
            if template in paths:
                functions = self.deploy_once()
                continue
            for name, directory in functions.items():
                if any(directory.resolve() in path.parents for path in paths):
                    self.redeploy_code(name, directory)
                    elapsed = time.perf_counter() - started
                    self.console.print(
                        f"[green]updated code of {name}[/] in {elapsed * 1000:.0f} ms"
                    )


@click.command("deploy")
@click.argument("template", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--stack-name",
    default=None,
    help="Stack name [default: the template's folder; NAME for cdk.out/NAME.template.json].",
)
@click.option(
    "--parameter-overrides",
    multiple=True,
    help="Key=Value template parameters (repeat, or give several separated by spaces).",
)
@click.option("--watch", is_flag=True, help="Redeploy a function's code when its files change.")
@_connection_options
def deploy(
    *,
    template: Path,
    stack_name: str | None,
    parameter_overrides: tuple[str, ...],
    watch: bool,
    endpoint_url: str | None,
    data_dir: Path | None,
    region: str,
) -> None:
    """Deploy a CloudFormation or SAM TEMPLATE whose code is in local directories.

    \b
      headwater deploy template.yaml --stack-name orders
      headwater deploy template.yaml --parameter-overrides Stage=dev --watch
    """
    from headwater.deploy.local import default_stack_name, parse_overrides

    items = [part for item in parameter_overrides for part in item.split()]
    try:
        overrides = parse_overrides(items)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--parameter-overrides") from None
    name = stack_name or default_stack_name(template)
    from rich.console import Console

    console = Console()
    with connect(endpoint_url, data_dir, region) as connection:
        console.print(f"deploying [bold]{name}[/] to {connection.where}")
        job = DeployJob(connection, console, template, name, overrides, region)
        functions = job.deploy_once()
        if watch:
            job.watch(functions)


@click.command("stacks")
@_connection_options
def stacks(endpoint_url: str | None, data_dir: Path | None, region: str) -> None:
    """List the stacks (name, status, last change)."""
    from rich.console import Console

    console = Console()
    with connect(endpoint_url, data_dir, region) as connection:
        found = connection.cfn.describe_stacks()["Stacks"]
        if not found:
            console.print(f"no stacks in {connection.where}")
            return
        from rich.table import Table

        table = Table(title=f"Stacks in {connection.where}", title_justify="left")
        for column in ("Stack", "Status", "Updated", "Description"):
            table.add_column(column, overflow="fold")
        for stack in found:
            updated = stack.get("LastUpdatedTime") or stack["CreationTime"]
            table.add_row(
                stack["StackName"],
                stack["StackStatus"],
                updated.strftime("%Y-%m-%d %H:%M:%S"),
                stack.get("Description", ""),
            )
        console.print(table)


@click.command("destroy")
@click.argument("stack_name")
@_connection_options
def destroy(stack_name: str, endpoint_url: str | None, data_dir: Path | None, region: str) -> None:
    """Delete stack STACK_NAME and every resource it created."""
    from rich.console import Console

    console = Console()
    with connect(endpoint_url, data_dir, region) as connection:
        cfn = connection.cfn
        try:
            stack_id = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackId"]
        except Exception:
            raise click.ClickException(f"no stack named {stack_name}") from None

        def start() -> str:
            cfn.delete_stack(StackName=stack_id)
            return str(stack_id)

        from headwater.cli.stack_progress import follow_operation

        progress = follow_operation(cfn, stack_name, start, console)
        if progress.status != "DELETE_COMPLETE":
            raise click.ClickException(
                f"{stack_name} ended in {progress.status}: {progress.reason}"
            )
        console.print(f"[green]{stack_name} deleted[/]")
