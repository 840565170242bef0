"""Lambda functions as resources, and invoking them.

AWS operations (boto3-shaped, via ``hw.client("lambda")``): CreateFunction, GetFunction,
GetFunctionConfiguration, ListFunctions, UpdateFunctionCode, UpdateFunctionConfiguration,
DeleteFunction, Put/Get/DeleteFunctionConcurrency and Invoke.

Python API for the ESM engine, the wire layer and users:

- ``resolve_function(ref, region=None)`` -> ``FunctionInfo``;
- ``invoke_function(ref, payload, ...)`` (blocking, any thread) and ``await
  invoke_async(ref, payload, ...)`` (never blocks the loop) -> ``InvocationResult``; a
  missing function is a ``service_error`` result, a throttle a ``throttled`` one;
- ``create_function_from_directory(name, directory, handler, ...)``: code used in place
  from a local directory (boto3's ``Code`` cannot express this), and
  ``update_function_code_from_directory(name, directory)`` to restart it on edited code;
- ``function_logs(name)``, ``wait_for_event_invocations(timeout)``, ``event_results``.

Functions are regional, like on AWS: a function is (region, name) in headwater's one
account. Operations use the caller's region (``RequestContext.region``); a full ARN names
its own region, and one of another region than the caller's is not reachable (AWS's
``ResourceNotFoundException``). The Python API takes a ``region`` argument (default: the
ARN's region, else the environment's). Workers run with ``AWS_REGION`` = the function's.

The invoking half (Invoke, ``invoke_function``/``invoke_async``, Event queue, runtime
lifecycle) is ``InvokeOperations`` in ``invoking.py``. Qualifiers (``$LATEST``, published
versions, aliases) are resolved by ``qualifiers.QualifierResolver``; publishing, aliases,
resource policies, layers, tags and the other settings are their own operation groups
(``versions.py``, ``aliases.py``, ``permissions.py``, ``layers.py``, ``tags.py``,
``settings.py``). Code comes from zip bytes or a directory (not S3 or images).

Options (``Headwater(..., functions="inline")`` etc., read from ``env.options``):
``functions`` ("process" default, or "inline"), ``function_workers`` (global cap on
worker processes, default 4 per CPU), ``function_idle_timeout`` (seconds, default 300),
``function_log_retention_bytes`` (default 10 MB per function), ``function_interpreters``
(``{"python3.12": "/usr/bin/python3.12"}``: by default every runtime runs on the
interpreter running headwater).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.core.arn import lambda_function_arn
from headwater.core.errors import validation_error
from headwater.core.values import as_bytes
from headwater.runtime import code as function_code
from headwater.runtime.environment import FunctionSpec
from headwater.runtime.python_runtime import warn_if_no_interpreter
from headwater.runtime.typescript import prepare_code_directory
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.lambda_ import configuration
from headwater.services.lambda_ import validation as check
from headwater.services.lambda_.invoking import InvokeOperations
from headwater.services.lambda_.qualifiers import LATEST, QualifierResolver, Target, is_version
from headwater.store.functions import FunctionRecord, FunctionStore, open_function_store
from headwater.store.functions.code import FunctionCodeStore
from headwater.store.lambda_resources import LambdaResourceStore

DEFAULT_ROLE = "arn:aws:iam::{account}:role/headwater-function"

IMAGE_UNSUPPORTED = (
    "Container image functions (PackageType Image) cannot run here: headwater runs "
    "functions without a container engine (no Docker). Deploy the function as a .zip "
    "package (PackageType Zip) with a python, nodejs or provided runtime."
)

#: UpdateFunctionConfiguration parameters: the record field each sets and its validator,
#: checked in this order (the first invalid one is the error reported).
_CONFIGURATION_FIELDS: tuple[tuple[str, str, Callable[[Any], Any]], ...] = (
    ("Role", "role", check.check_role),
    ("Handler", "handler", check.check_handler),
    ("Runtime", "runtime", check.check_runtime),
    ("Timeout", "timeout", check.check_timeout),
    ("MemorySize", "memory_size", check.check_memory),
    ("Environment", "environment", check.check_environment),
    ("Description", "description", check.check_description),
)


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """A resolved function reference (what the ESM engine needs to know)."""

    name: str
    region: str
    arn: str  # unqualified
    qualified_arn: str  # as referenced (qualified if the reference was)
    timeout: int
    memory_size: int
    reserved_concurrency: int | None
    role: str


class FunctionOperations(InvokeOperations):
    """Function CRUD, concurrency and resolution, plus Invoke (mixed into ``LambdaService``)."""

    if TYPE_CHECKING:
        # Provided by the version and layer groups (versions.py, layers.py).
        def _publish(self, record: FunctionRecord, description: str | None = None) -> Result: ...

        def _version_code_dirs(self, region: str, name: str) -> set[str]: ...

        def _delete_version(self, record: FunctionRecord, version: str) -> None: ...

        def _forget_function(self, record: FunctionRecord) -> None: ...

        def _layer_settings(self, layers: Any, region: str) -> list[dict[str, Any]]: ...

        def _layer_dirs(self, record: FunctionRecord) -> tuple[str, ...]: ...

        def _checked_tags(self, tags: Any) -> dict[str, str]: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._functions: FunctionStore = open_function_store(self.env.database, self.env.region)
        self._resources = self.env.database.store(LambdaResourceStore)
        self._qualifiers = QualifierResolver(self._functions, self._resources)
        self._function_lock = threading.RLock()
        self._specs: dict[tuple[str, str], FunctionSpec] = {}
        self._version_specs: dict[tuple[str, str, str], FunctionSpec] = {}

    # -- helpers ---------------------------------------------------------------------------

    def _arn(self, region: str, name: str, qualifier: str | None = None) -> str:
        return lambda_function_arn(region, self.env.account, name, qualifier)

    def _function_key(self, region: str, name: str) -> str:
        """The runtime's name for a function (worker pools, log file, code directory).

        Functions of the environment's region keep their bare name (``headwater logs
        NAME`` and existing data directories); others are ``NAME@REGION``.
        """
        return name if region == self.env.region else f"{name}@{region}"

    def _locate(
        self,
        ref: str,
        qualifier: str | None = None,
        region: str | None = None,
        *,
        create: bool = False,
    ) -> tuple[check.FunctionRef, str]:
        """Parse ``ref`` and find its region: the ARN's, else ``region``, else the default.

        An ARN of another region than the caller's ``region`` is not reachable, one of
        another account is not found (as on AWS).
        """
        parsed = check.parse_function_ref(ref, qualifier, create=create)
        home = region or self.env.region
        if parsed.region is not None:
            if region is not None and parsed.region != region:
                raise check.user_error(
                    "ResourceNotFoundException",
                    f"Functions from '{parsed.region}' are not reachable in this region "
                    f"('{region}')",
                    404,
                )
            home = parsed.region
        if parsed.account is not None and parsed.account != self.env.account:
            raise check.not_found(
                lambda_function_arn(home, parsed.account, parsed.name, parsed.qualifier)
            )
        return parsed, home

    def _record(
        self, ref: str, qualifier: str | None = None, region: str | None = None
    ) -> tuple[FunctionRecord, str | None]:
        """$LATEST's record (for operations that change the function itself)."""
        parsed, home = self._locate(ref, qualifier, region)
        record = self._functions.get(home, parsed.name)
        if record is None or parsed.qualifier not in (None, LATEST):
            raise check.not_found(self._arn(home, parsed.name, parsed.qualifier))
        return record, parsed.qualifier

    def _target(self, ref: str, qualifier: str | None = None, region: str | None = None) -> Target:
        """What ``ref`` (and ``qualifier``) names: $LATEST, a published version or an alias."""
        parsed, home = self._locate(ref, qualifier, region)
        target = self._qualifiers.resolve(home, parsed.name, parsed.qualifier)
        if target is None:
            raise check.not_found(self._arn(home, parsed.name, parsed.qualifier))
        return target

    def _configuration(
        self, record: FunctionRecord, arn: str | None = None, version: str = LATEST
    ) -> Result:
        arn = arn or self._arn(record.region, record.name)
        return configuration.describe(record, arn, version)

    def _target_configuration(self, target: Target) -> Result:
        """The configuration GetFunction(Configuration) answers for a qualified name."""
        arn = self._arn(target.record.region, target.record.name, target.qualifier)
        return self._configuration(target.record, arn, target.version)

    def _build_spec(self, record: FunctionRecord, key: str, version: str) -> FunctionSpec:
        return FunctionSpec(
            name=record.name,
            arn=self._arn(record.region, record.name),
            runtime=record.runtime,
            handler=record.handler,
            code_dir=self._local_code_dir(record),
            timeout=record.timeout,
            memory_size=record.memory_size,
            environment=dict(record.environment),
            reserved_concurrency=record.reserved_concurrency,
            revision=record.revision_id,
            region=record.region,
            key=key,
            layer_dirs=self._layer_dirs(record),
            version=version,
        )

    def _spec(self, record: FunctionRecord) -> FunctionSpec:
        spec = self._specs.get((record.region, record.name))
        if spec is None or spec.revision != record.revision_id:
            key = self._function_key(record.region, record.name)
            spec = self._build_spec(record, key, LATEST)
            self._specs[(record.region, record.name)] = spec
        return spec

    def _qualified_spec(self, region: str, name: str, qualifier: str | None) -> FunctionSpec | None:
        """The spec one invocation of ``name:qualifier`` runs (a weighted alias picks its
        version per invocation); ``None`` if it does not exist."""
        if qualifier is None or qualifier == LATEST:
            return self._cached_spec(region, name)
        target = self._qualifiers.resolve(region, name, qualifier)
        return None if target is None else self._target_spec(self._qualifiers.pick(target))

    def _target_spec(self, target: Target) -> FunctionSpec | None:
        """The runtime spec of the version ``target`` runs (each version has its own
        workers); reserved concurrency is the function's, whichever version runs."""
        record = target.record
        if target.version == LATEST:
            return self._cached_spec(record.region, record.name)
        cache_key = (record.region, record.name, target.version)
        spec = self._version_specs.get(cache_key)
        latest = self._cached_spec(record.region, record.name)
        if latest is None:
            return None
        if spec is None or spec.reserved_concurrency != latest.reserved_concurrency:
            key = f"{self._function_key(record.region, record.name)}:{target.version}"
            built = self._build_spec(record, key, target.version)
            spec = dataclasses.replace(built, reserved_concurrency=latest.reserved_concurrency)
            self._version_specs[cache_key] = spec
        return spec

    def _cached_spec(self, region: str, name: str) -> FunctionSpec | None:
        spec = self._specs.get((region, name))
        if spec is not None:
            return spec
        record = self._functions.get(region, name)
        return self._spec(record) if record is not None else None

    def _changed(self, record: FunctionRecord) -> None:
        """After an update or delete: forget the cached spec and drain old workers."""
        self._specs.pop((record.region, record.name), None)
        self._drain(self._function_key(record.region, record.name))

    def _unpack(self, key: str, zip_file: Any) -> function_code.CodeInfo:
        data = as_bytes(zip_file)
        target = function_code.function_code_root(self.env.data_dir, key) / (
            "code-" + uuid.uuid4().hex[:16]
        )
        info = function_code.unpack_zip(data, target)
        # In the shared database too: other nodes unpack it when they run the function.
        self.env.database.store(FunctionCodeStore).put(info.sha256, data)
        return info

    def _local_code_dir(self, record: FunctionRecord) -> str:
        """Where this node has the function's code: ``code_dir`` when it is here (the
        node that created it, or one machine), else unpacked from the shared database."""
        if Path(record.code_dir).is_dir():
            return record.code_dir
        data = self.env.database.store(FunctionCodeStore).get(record.code_sha256)
        if data is None:
            return record.code_dir  # not shared (a directory on another machine)
        digest = hashlib.sha256(record.code_sha256.encode()).hexdigest()[:16]
        target = function_code.function_code_root(
            self.env.data_dir, self._function_key(record.region, record.name)
        ) / ("shared-" + digest)
        if not target.is_dir():
            function_code.unpack_zip(data, target)
        return str(target)

    def _code(
        self, key: str, code: Any, handler: str = "", runtime: str = ""
    ) -> function_code.CodeInfo:
        if not isinstance(code, dict):
            raise check.invalid_parameter("Code is required")
        if code.get("Directory") is not None:
            directory = code["Directory"]
            if runtime.startswith("nodejs"):  # a TypeScript entry point is built first
                directory = prepare_code_directory(
                    directory,
                    handler,
                    function_code.function_code_root(self.env.data_dir, key),
                    runtime=runtime,
                    esbuild=self.env.options.function_esbuild,
                )
            info = function_code.directory_code(directory)
            if self.env.database.kind == "postgresql":
                # Nodes on other machines cannot see this directory: share a snapshot.
                snapshot = function_code.zip_directory(info.directory)
                self.env.database.store(FunctionCodeStore).put(info.sha256, snapshot)
            return info
        if code.get("ZipFile") is not None:
            return self._unpack(key, code["ZipFile"])
        if code.get("ImageUri"):
            raise check.invalid_parameter(IMAGE_UNSUPPORTED)
        if code.get("S3Bucket"):
            raise check.invalid_parameter(
                "headwater runs functions from zip bytes (Code={'ZipFile': ...}) or a local "
                "directory (create_function_from_directory); S3 code is not supported"
            )
        raise check.invalid_parameter("Please provide a source for function code.")

    # -- CRUD ------------------------------------------------------------------------------

    @operation("CreateFunction")
    def create_function(self, params: Params, ctx: RequestContext) -> Result:
        ref, region = self._locate(params.get("FunctionName", ""), region=ctx.region, create=True)
        if ref.qualifier is not None:
            raise check.invalid_parameter("Unsupported: function names cannot carry a qualifier")
        if params.get("PackageType", "Zip") != "Zip":
            raise check.invalid_parameter(IMAGE_UNSUPPORTED)
        role = check.check_role(params.get("Role"))
        if params.get("Runtime") is None or params.get("Handler") is None:
            raise check.invalid_parameter(
                "Runtime and Handler are mandatory parameters for functions created with "
                "deployment packages."
            )
        runtime = check.check_runtime(params["Runtime"])
        handler = check.check_handler(params["Handler"])
        # A pythonX.Y with no matching interpreter here runs on headwater's: say so now.
        warn_if_no_interpreter(runtime, self.env.options.function_interpreters)
        timeout = check.check_timeout(params.get("Timeout", check.DEFAULT_TIMEOUT))
        memory = check.check_memory(params.get("MemorySize", check.DEFAULT_MEMORY))
        environment = check.check_environment(params.get("Environment"))
        description = check.check_description(params.get("Description"))
        with self._function_lock:
            if self._functions.get(region, ref.name) is not None:
                raise check.user_error(
                    "ResourceConflictException", f"Function already exist: {ref.name}", 409
                )
            code = self._code(
                self._function_key(region, ref.name), params.get("Code"), handler, runtime
            )
            extra = configuration.settings_of(params)
            if params.get("Tags"):
                extra["Tags"] = self._checked_tags(params["Tags"])
            if params.get("Layers"):
                extra["Layers"] = self._layer_settings(params["Layers"], region)
            record = FunctionRecord(
                name=ref.name,
                runtime=runtime,
                handler=handler,
                role=role,
                code_dir=code.directory,
                code_sha256=code.sha256,
                code_size=code.size,
                code_source=code.source,
                timeout=timeout,
                memory_size=memory,
                environment=environment,
                description=description,
                reserved_concurrency=None,
                last_modified=self.env.clock.now(),
                revision_id=str(uuid.uuid4()),
                extra=extra,
                region=region,
            )
            try:
                self._functions.insert(record)
            except KeyError:  # another node created it since the check above
                raise check.user_error(
                    "ResourceConflictException", f"Function already exist: {ref.name}", 409
                ) from None
            self._specs.pop((region, ref.name), None)
            if params.get("Publish"):
                # AWS answers with version 1's configuration, under the unqualified ARN.
                result = self._publish(record)
                result["FunctionArn"] = self._arn(region, ref.name)
                result["_status"] = 201
                return result
        result = self._configuration(record)
        result["_status"] = 201
        return result

    def create_function_from_directory(
        self,
        name: str,
        directory: str | Path,
        handler: str,
        *,
        runtime: str = "python3.12",
        role: str | None = None,
        timeout: int = check.DEFAULT_TIMEOUT,
        memory_size: int = check.DEFAULT_MEMORY,
        environment: dict[str, str] | None = None,
        description: str = "",
        reserved_concurrency: int | None = None,
        region: str | None = None,
    ) -> Result:
        """Create a function whose code is the local ``directory``, used in place.

        Returns the FunctionConfiguration. After editing files there, call
        ``update_function_code_from_directory`` (or UpdateFunctionConfiguration) to restart
        the function's workers on the new code. ``region`` defaults to the environment's.
        """
        params: Params = {
            "FunctionName": name,
            "Runtime": runtime,
            "Handler": handler,
            "Role": role or DEFAULT_ROLE.format(account=self.env.account),
            "Timeout": timeout,
            "MemorySize": memory_size,
            "Description": description,
            "Code": {"Directory": str(directory)},
        }
        if environment:
            params["Environment"] = {"Variables": environment}
        ctx = RequestContext(region=region or self.env.region, account=self.env.account)
        result = self.create_function(params, ctx)
        if reserved_concurrency is not None:
            self.put_function_concurrency(
                {"FunctionName": name, "ReservedConcurrentExecutions": reserved_concurrency}, ctx
            )
        result.pop("_status", None)
        return result

    def update_function_code_from_directory(
        self, name: str, directory: str | Path, *, region: str | None = None
    ) -> Result:
        """Point a function at (or re-read) a local code directory; drains its workers."""
        ctx = RequestContext(region=region or self.env.region, account=self.env.account)
        return self.update_function_code({"FunctionName": name, "Directory": str(directory)}, ctx)

    @operation("GetFunction")
    def get_function(self, params: Params, ctx: RequestContext) -> Result:
        target = self._target(params.get("FunctionName", ""), params.get("Qualifier"), ctx.region)
        record = target.record
        latest = self._functions.get(record.region, record.name) or record
        result: Result = {
            "Configuration": self._target_configuration(target),
            "Code": {"RepositoryType": "S3", "Location": Path(record.code_dir).as_uri()},
        }
        if latest.extra.get("Tags"):
            result["Tags"] = dict(latest.extra["Tags"])
        if latest.reserved_concurrency is not None:
            result["Concurrency"] = {"ReservedConcurrentExecutions": latest.reserved_concurrency}
        return result

    @operation("GetFunctionConfiguration")
    def get_function_configuration(self, params: Params, ctx: RequestContext) -> Result:
        target = self._target(params.get("FunctionName", ""), params.get("Qualifier"), ctx.region)
        return self._target_configuration(target)

    @operation("ListFunctions")
    def list_functions(self, params: Params, ctx: RequestContext) -> Result:
        limit = params.get("MaxItems", 50)
        if not isinstance(limit, int) or not 1 <= limit <= 10000:
            raise validation_error(
                limit, "maxItems", "Member must have value less than or equal to 10000"
            )
        marker = params.get("Marker")
        after: str | None = None
        if marker:
            try:
                after = base64.urlsafe_b64decode(marker.encode()).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise check.invalid_parameter("Invalid marker") from None
        records = self._functions.list(ctx.region, after=after, limit=limit + 1)
        result: Result = {"Functions": [self._configuration(r) for r in records[:limit]]}
        if len(records) > limit:
            last = records[limit - 1].name
            result["NextMarker"] = base64.urlsafe_b64encode(last.encode()).decode()
        return result

    @operation("UpdateFunctionCode")
    def update_function_code(self, params: Params, ctx: RequestContext) -> Result:
        with self._function_lock:
            record, _ = self._record(params.get("FunctionName", ""), region=ctx.region)
            self._check_revision(record, params.get("RevisionId"))
            code_params = {
                key: params[key]
                for key in ("ZipFile", "S3Bucket", "ImageUri", "Directory")
                if params.get(key) is not None
            }
            if params.get("DryRun"):
                if "ZipFile" in code_params:
                    function_code.check_zip(as_bytes(code_params["ZipFile"]))
                return self._configuration(record)
            key = self._function_key(record.region, record.name)
            code = self._code(key, code_params, record.handler, record.runtime)
            updated = record.with_changes(
                code_dir=code.directory,
                code_sha256=code.sha256,
                code_size=code.size,
                code_source=code.source,
                last_modified=self.env.clock.now(),
                revision_id=str(uuid.uuid4()),
            )
            self._functions.replace(updated)
            self._changed(updated)
            keep = {code.directory} | self._version_code_dirs(record.region, record.name)
            if record.code_source == "zip":
                keep.add(record.code_dir)  # busy workers may still be importing from it
            function_code.remove_stale_code(self.env.data_dir, key, keep)
            if params.get("Publish"):
                return self._publish(updated)
        return self._configuration(updated)

    @operation("UpdateFunctionConfiguration")
    def update_function_configuration(self, params: Params, ctx: RequestContext) -> Result:
        with self._function_lock:
            record, _ = self._record(params.get("FunctionName", ""), region=ctx.region)
            self._check_revision(record, params.get("RevisionId"))
            changes = {
                field: validate(params[key])
                for key, field, validate in _CONFIGURATION_FIELDS
                if key in params
            }
            extra = configuration.settings_of(params, record.extra)
            if params.get("Layers") is not None:
                extra["Layers"] = self._layer_settings(params["Layers"], record.region)
                if not extra["Layers"]:
                    del extra["Layers"]
            updated = record.with_changes(
                **changes,
                extra=extra,
                last_modified=self.env.clock.now(),
                revision_id=str(uuid.uuid4()),
            )
            self._functions.replace(updated)
            self._changed(updated)
        return self._configuration(updated)

    def _check_revision(self, record: FunctionRecord, revision_id: str | None) -> None:
        if revision_id is not None and revision_id != record.revision_id:
            raise check.user_error(
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetFunction/GetAlias API to retrieve the latest Revision Id",
                412,
            )

    @operation("DeleteFunction")
    def delete_function(self, params: Params, ctx: RequestContext) -> Result:
        with self._function_lock:
            parsed, home = self._locate(
                params.get("FunctionName", ""), params.get("Qualifier"), ctx.region
            )
            qualifier = parsed.qualifier
            if (
                qualifier not in (None, LATEST)
                and not is_version(qualifier)
                and check.is_alias_name(qualifier)
            ):  # refused before the function is looked up
                raise check.invalid_parameter("Deletion of aliases is not currently supported.")
            record = self._functions.get(home, parsed.name)
            if record is None:
                raise check.not_found(self._arn(home, parsed.name))
            if qualifier == LATEST:
                raise check.invalid_parameter(
                    "$LATEST version cannot be deleted without deleting the function."
                )
            if qualifier is not None:
                if not is_version(qualifier):
                    raise check.not_found(self._arn(home, parsed.name, qualifier))
                self._delete_version(record, qualifier)
                return {"StatusCode": 204, "_status": 204}
            self._functions.delete(record.region, record.name)
            self._changed(record)
            self._forget_function(record)
            if record.code_source == "zip":
                function_code.remove_function_code(
                    self.env.data_dir, self._function_key(record.region, record.name)
                )
        # The output's StatusCode member is the HTTP status, which boto3 reads back into it.
        return {"StatusCode": 204, "_status": 204}

    # -- concurrency -----------------------------------------------------------------------

    @operation("PutFunctionConcurrency")
    def put_function_concurrency(self, params: Params, ctx: RequestContext) -> Result:
        value = check.check_reserved_concurrency(params.get("ReservedConcurrentExecutions"))
        with self._function_lock:
            record, _ = self._record(params.get("FunctionName", ""), region=ctx.region)
            updated = record.with_changes(reserved_concurrency=value)
            self._functions.replace(updated)
            self._specs.pop((record.region, record.name), None)
        return {"ReservedConcurrentExecutions": value}

    @operation("GetFunctionConcurrency")
    def get_function_concurrency(self, params: Params, ctx: RequestContext) -> Result:
        record, _ = self._record(params.get("FunctionName", ""), region=ctx.region)
        if record.reserved_concurrency is None:
            return {}
        return {"ReservedConcurrentExecutions": record.reserved_concurrency}

    @operation("DeleteFunctionConcurrency")
    def delete_function_concurrency(self, params: Params, ctx: RequestContext) -> Result:
        with self._function_lock:
            record, _ = self._record(params.get("FunctionName", ""), region=ctx.region)
            self._functions.replace(record.with_changes(reserved_concurrency=None))
            self._specs.pop((record.region, record.name), None)
        return {"_status": 204}

    # -- invoke ----------------------------------------------------------------------------

    def resolve_function(self, function_ref: str, region: str | None = None) -> FunctionInfo:
        """Resolve a name, partial ARN or ARN (optionally qualified); raises AwsError.

        A full ARN is looked up in its own region; a name or partial ARN in ``region``
        (default: the environment's). With both, they must agree (as for a caller of
        that region on AWS).
        """
        target = self._target(function_ref, region=region)
        record = target.record
        latest = self._functions.get(record.region, record.name) or record
        return FunctionInfo(
            name=record.name,
            region=record.region,
            arn=self._arn(record.region, record.name),
            qualified_arn=self._arn(record.region, record.name, target.qualifier),
            timeout=record.timeout,
            memory_size=record.memory_size,
            reserved_concurrency=latest.reserved_concurrency,
            role=record.role,
        )
