"""Published versions: PublishVersion, ListVersionsByFunction, and what happens to versions
when their function changes or goes away.

A version is an immutable snapshot of ``$LATEST``'s code and configuration, numbered 1, 2,
... per function (numbers are not reused until the function is deleted). Zip code is
already immutable on disk (each upload unpacks into a new directory, kept while a version
uses it); a function whose code is a local directory used in place gets a copy of that
directory per version. Publishing an unchanged ``$LATEST`` answers the last version
instead of making a new one, as Lambda does.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid

import orjson

from headwater.runtime import code as function_code
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.lambda_ import validation as check
from headwater.services.lambda_.parts import LambdaParts, marker_page
from headwater.services.lambda_.qualifiers import LATEST
from headwater.store.functions import FunctionRecord

#: ``FunctionRecord.extra`` members that belong to the function, not to a version.
_FUNCTION_ONLY = ("Tags", "Published")

#: Members ListVersionsByFunction leaves out of each configuration.
_NOT_LISTED = ("State", "LastUpdateStatus", "StateReason", "StateReasonCode")


class VersionOperations(LambdaParts):
    """PublishVersion and ListVersionsByFunction (mixed into ``LambdaService``)."""

    def _publish(self, record: FunctionRecord, description: str | None = None) -> Result:
        """Publish ``record`` ($LATEST) as a new version, unless it is unchanged since the
        last one; returns that version's configuration."""
        region, name = record.region, record.name
        with self._resources.transaction():
            latest = self._functions.get(region, name) or record
            published = latest.extra.get("Published") or {}
            fingerprint = _fingerprint(latest)
            if published.get("Fingerprint") == fingerprint:
                existing = self._resources.version(region, name, int(published["Version"]))
                if existing is not None:
                    return self._version_configuration(existing, str(published["Version"]))
            number = self._resources.next_number(region, "function", name)
            code_dir = latest.code_dir
            if latest.code_source == "directory":
                code_dir = self._copy_directory_code(latest, number)
            now = self.env.clock.now()
            snapshot = latest.with_changes(
                code_dir=code_dir,
                description=latest.description if description is None else description,
                revision_id=str(uuid.uuid4()),
                last_modified=now,
                extra={k: v for k, v in latest.extra.items() if k not in _FUNCTION_ONLY},
            )
            self._resources.add_version(number, snapshot)
            # Publishing gives $LATEST a new revision; its code and configuration (hence
            # its running workers) are unchanged.
            revision = str(uuid.uuid4())
            extra = {**latest.extra, "Published": {"Fingerprint": fingerprint, "Version": number}}
            self._functions.replace(latest.with_changes(revision_id=revision, extra=extra))
        return self._version_configuration(snapshot, str(number))

    def _version_configuration(self, record: FunctionRecord, version: str) -> Result:
        return self._configuration(record, self._arn(record.region, record.name, version), version)

    def _copy_directory_code(self, record: FunctionRecord, number: int) -> str:
        """A version of a function whose code is a directory used in place gets a copy."""
        key = self._function_key(record.region, record.name)
        target = function_code.function_code_root(self.env.data_dir, key) / f"version-{number}"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(
            record.code_dir, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        return str(target)

    def _version_code_dirs(self, region: str, name: str) -> set[str]:
        """Code directories published versions use (kept when $LATEST's code changes)."""
        return {record.code_dir for _, record in self._resources.versions(region, name)}

    def _delete_version(self, record: FunctionRecord, version: str) -> None:
        """DeleteFunction with a version qualifier: refused while an alias uses it."""
        region, name = record.region, record.name
        with self._resources.transaction():
            snapshot = self._resources.version(region, name, int(version))
            if snapshot is None:
                raise check.not_found(self._arn(region, name, version))
            users = [
                alias["Name"]
                for alias in self._resources.aliases(region, name)
                if alias["FunctionVersion"] == version
                or version
                in ((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
            ]
            if users:
                raise check.user_error(
                    "ResourceConflictException",
                    "Unable to delete version because the following aliases reference it: "
                    f"[{', '.join(users)}]",
                    409,
                )
            self._resources.delete_version(region, name, int(version))
        self._forget_version_runtime(snapshot, version)

    def _forget_version_runtime(self, snapshot: FunctionRecord, version: str) -> None:
        key = self._function_key(snapshot.region, snapshot.name)
        self._version_specs.pop((snapshot.region, snapshot.name, version), None)
        self._drain(f"{key}:{version}")
        if snapshot.code_source == "directory" or "/version-" in snapshot.code_dir:
            root = function_code.function_code_root(self.env.data_dir, key)
            if snapshot.code_dir.startswith(str(root)):
                shutil.rmtree(snapshot.code_dir, ignore_errors=True)

    def _forget_function(self, record: FunctionRecord) -> None:
        """After DeleteFunction: versions, aliases, policies and settings go too."""
        versions = self._resources.versions(record.region, record.name)
        self._resources.forget_function(record.region, record.name)
        for number, snapshot in versions:
            self._forget_version_runtime(snapshot, str(number))

    # -- operations -----------------------------------------------------------------------

    @operation("PublishVersion")
    def publish_version(self, params: Params, ctx: RequestContext) -> Result:
        parsed, home = self._locate(params.get("FunctionName", ""), region=ctx.region)
        record = self._functions.get(home, parsed.name)
        if record is None or parsed.qualifier not in (None, LATEST):
            raise check.not_found(self._arn(home, parsed.name, parsed.qualifier))
        self._check_revision(record, params.get("RevisionId"))
        sha = params.get("CodeSha256")
        if sha is not None and sha != record.code_sha256:
            raise check.invalid_parameter(
                f"CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST "
                f"({record.code_sha256}). Please try again with the CodeSHA256 in $LATEST."
            )
        description = params.get("Description")
        if description is not None:
            description = check.check_description(description)
        result = self._publish(record, description)
        result["_status"] = 201
        return result

    @operation("ListVersionsByFunction")
    def list_versions_by_function(self, params: Params, ctx: RequestContext) -> Result:
        parsed, home = self._locate(params.get("FunctionName", ""), region=ctx.region)
        latest = self._functions.get(home, parsed.name)
        if latest is None:
            raise check.not_found(self._arn(home, parsed.name))
        listed = [self._configuration(latest, self._arn(home, latest.name, LATEST), LATEST)]
        for number, snapshot in self._resources.versions(home, latest.name):
            listed.append(self._version_configuration(snapshot, str(number)))
        for config in listed:
            for key in _NOT_LISTED:
                config.pop(key, None)
        return marker_page(listed, params, "Versions")


def _fingerprint(record: FunctionRecord) -> str:
    """What a version captures of $LATEST: its code and configuration (not its revision,
    tags or policy, which change without a new version being warranted)."""
    settings = {k: v for k, v in record.extra.items() if k not in _FUNCTION_ONLY}
    captured = (
        record.code_sha256,
        record.runtime,
        record.handler,
        record.role,
        record.timeout,
        record.memory_size,
        record.environment,
        record.description,
        settings,
    )
    return hashlib.sha256(orjson.dumps(captured, option=orjson.OPT_SORT_KEYS)).hexdigest()


__all__ = ["VersionOperations"]
