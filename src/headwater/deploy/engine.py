"""Stack operations: create, update and delete a stack's resources, and roll back on failure.

One ``StackRun`` carries out one operation with CloudFormation's status machine and events:

- create: ``CREATE_IN_PROGRESS`` -> every resource in dependency order (independent ones
  in parallel) -> ``CREATE_COMPLETE``; on a failure ``ROLLBACK_IN_PROGRESS`` -> the created
  resources deleted -> ``ROLLBACK_COMPLETE`` (or ``CREATE_FAILED`` with rollback disabled).
- update: only resources whose resolved properties changed are touched, in place or by
  replacement (create the new one, repoint dependents, delete the old one in
  ``UPDATE_COMPLETE_CLEANUP_IN_PROGRESS``); on a failure every change is undone
  (``UPDATE_ROLLBACK_IN_PROGRESS`` ... ``UPDATE_ROLLBACK_COMPLETE``): the previous state.
- delete: resources in reverse dependency order, ``Retain`` ones skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.ids import new_uuid
from headwater.deploy.errors import ResourceFailure, StackFailure, TemplateError, failure_reason
from headwater.deploy.graph import dependents, resource_dependencies
from headwater.deploy.intrinsics import UNKNOWN
from headwater.deploy.parameters import SsmLookup
from headwater.deploy.plan import Target, outputs_of, resolve_dynamic_references, resolver_for
from headwater.deploy.providers import ClientFactory, ResourceProvider, ResourceRequest
from headwater.deploy.providers.custom import is_custom, provider_type
from headwater.deploy.records import EventRecord, ResourceRecord, StackRecord
from headwater.deploy.replacement import kept_custom_name, requires_replacement
from headwater.deploy.scheduler import run_in_order
from headwater.deploy.secret_references import SecretLookup
from headwater.deploy.stack_store import StackStore
from headwater.deploy.template import check_template

log = logging.getLogger(__name__)

STACK_TYPE = "AWS::CloudFormation::Stack"
CREATING_NEW_PHYSICAL = (
    "Requested update requires the creation of a new physical resource; hence creating one."
)


@dataclass(slots=True)
class _Change:
    """One step of an update, kept so it can be undone."""

    kind: str  # "created" | "updated" | "replaced" | "unresolved" (its properties failed)
    logical_id: str
    old: ResourceRecord | None = None
    new: ResourceRecord | None = None


class StackRun:
    """One stack operation against one stack."""

    def __init__(
        self,
        store: StackStore,
        providers: Mapping[str, ResourceProvider],
        clients: ClientFactory,
        clock: Callable[[], float],
        stack: StackRecord,
        *,
        ssm: SsmLookup,
        secrets: SecretLookup | None = None,
        max_parallel: int = 4,
    ) -> None:
        self.store = store
        self.providers = providers
        self.clients = clients
        self.now = clock
        self.stack = stack
        self.ssm = ssm
        self.secrets = secrets
        self.max_parallel = max_parallel
        self.state = store.resources(stack.stack_id)
        self._lock = threading.Lock()
        self._changes: list[_Change] = []
        self._retired: list[ResourceRecord] = []
        self._imports: set[str] = set()
        self._previous_graph: dict[str, set[str]] = {}

    # -- events and state ------------------------------------------------------------------

    def stack_event(self, status: str, reason: str | None = None) -> None:
        self.stack.status = status
        self.stack.status_reason = reason
        self.store.put_stack(self.stack)
        self._event(self.stack.name, STACK_TYPE, status, self.stack.stack_id, reason)

    def _event(
        self,
        logical_id: str,
        type_name: str,
        status: str,
        physical_id: str | None,
        reason: str | None = None,
        *,
        properties: dict[str, Any] | None = None,
    ) -> None:
        self.store.add_event(
            self.stack.stack_id,
            EventRecord(
                event_id=new_uuid(),
                logical_id=logical_id,
                type=type_name,
                status=status,
                timestamp=self.now(),
                physical_id=physical_id or "",
                reason=reason,
                properties=properties,
            ),
        )

    def _save(self, record: ResourceRecord, reason: str | None = None, **event: Any) -> None:
        record.timestamp = self.now()
        record.status_reason = reason
        with self._lock:
            self.state[record.logical_id] = record
        self.store.put_resource(self.stack.stack_id, record)
        self._event(
            record.logical_id,
            record.type,
            record.status,
            record.physical_id,
            reason,
            properties=event.get("properties", record.properties),
        )

    def _request(
        self,
        record: ResourceRecord,
        properties: dict[str, Any],
        previous: ResourceRecord | None = None,
        *,
        update_policy: dict[str, Any] | None = None,
    ) -> ResourceRequest:
        # AWS resolves no secure dynamic reference for a custom resource: its function gets
        # the reference as written
        resolve = not is_custom(record.type)
        return ResourceRequest(
            logical_id=record.logical_id,
            type=record.type,
            properties=self._with_secrets(properties) if resolve else properties,
            stack_name=self.stack.name,
            stack_id=self.stack.stack_id,
            region=self.stack.region,
            account=self.stack.account,
            clients=self.clients,
            physical_id=previous.physical_id if previous else record.physical_id,
            previous_properties=(
                (self._with_secrets(previous.properties) if resolve else previous.properties)
                if previous
                else {}
            ),
            previous_attributes=previous.attributes if previous else {},
            update_policy=update_policy or {},
        )

    def _with_secrets(self, properties: dict[str, Any]) -> dict[str, Any]:
        """``properties`` with their ``{{resolve:secretsmanager:...}}`` references replaced by
        the secrets' values, for a provider call only: the stack's records keep the
        references as written (no secret is stored with the stack, shown in a change set, or
        taken for a change of the template when it changes). A reference that no longer
        resolves (a delete after the secret went) is passed on as written."""
        try:
            resolved: dict[str, Any] = resolve_dynamic_references(
                properties, self.ssm, self.secrets
            )
        except TemplateError:
            return properties
        return resolved

    def _missing_export(self, target: Target) -> str | None:
        """The first export an active resource or output imports that does not exist.

        Import names cannot depend on resources, so they resolve before anything exists;
        names that still do not resolve are left to the resource that holds them.
        """
        exports = self.store.exports(self.stack.account, self.stack.region)
        resolver = resolver_for(target, {}, import_value=lambda name: UNKNOWN)
        outputs = [
            output
            for output in target.template.outputs.values()
            if not isinstance(output, dict)
            or output.get("Condition") is None
            or target.conditions.get(str(output["Condition"]), True)
        ]
        nodes: list[Any] = [d.properties for d in target.resources.values()] + outputs
        while nodes:
            node = nodes.pop(0)
            if isinstance(node, list):
                nodes[:0] = node
            elif isinstance(node, dict):
                if len(node) == 1 and "Fn::ImportValue" in node:
                    try:
                        name = resolver.resolve(node["Fn::ImportValue"])
                    except TemplateError:
                        continue
                    if isinstance(name, str) and name not in exports:
                        return name
                branches = node.get("Fn::If")
                if len(node) == 1 and isinstance(branches, list) and len(branches) == 3:
                    # only the branch the condition picks is imported
                    chosen = target.conditions.get(str(branches[0]))
                    nodes[:0] = branches[1:] if chosen is None else [branches[1 if chosen else 2]]
                    continue
                nodes[:0] = list(node.values())
        return None

    def import_value(self, name: str) -> Any:
        found = self.store.exports(self.stack.account, self.stack.region).get(name)
        if found is None:
            raise TemplateError(f"No export named {name} found.")
        self._imports.add(name)
        return found[1]

    # -- create and update -----------------------------------------------------------------

    def create(self, target: Target) -> bool:
        """Create every resource of ``target``; returns whether the stack was created."""
        self.stack_event("CREATE_IN_PROGRESS", "User Initiated")
        missing = self._missing_export(target)
        failures: list[tuple[str, BaseException]] = []
        if missing is not None:
            # CloudFormation resolves imports before it creates anything: the stack fails
            # with no resource attempted
            error: str | None = f"No export named {missing} found. "
        else:
            failures = list(
                run_in_order(
                    target.graph,
                    lambda lid: self._converge(target, lid, creating=True),
                    max_parallel=self.max_parallel,
                )
            )
            error = self._finish(target) if not failures else None
        if not failures and error is None:
            self.stack_event("CREATE_COMPLETE")
            return True
        failed = ", ".join(lid for lid, _ in failures)
        reason = error or f"The following resource(s) failed to create: [{failed}]. "
        if self.stack.disable_rollback:
            self.stack_event("CREATE_FAILED", reason)
            return False
        self.stack_event("ROLLBACK_IN_PROGRESS", reason + "Rollback requested by user.")
        deletion_failures = self._delete_all(target.graph, on_create_rollback=True)
        if deletion_failures:
            self.stack_event("ROLLBACK_FAILED", self._delete_reason(deletion_failures))
        else:
            # AWS stamps a rolled-back stack with a deletion time: its resources are gone.
            self.stack.deletion_time = self.now()
            self.stack_event("ROLLBACK_COMPLETE")
        return False

    def update(self, target: Target, *, commit: Callable[[], None]) -> bool:
        """Converge to ``target``; ``commit`` records the new template once it succeeded."""
        self.stack.last_updated_time = self.now()
        # resources the update removes are deleted in the order of the template they came from
        self._previous_graph = self._deployed_graph()
        with self._lock:
            existing = set(self.state)
        self.stack_event("UPDATE_IN_PROGRESS", "User Initiated")
        failures = run_in_order(
            target.graph,
            lambda lid: self._converge(target, lid, creating=False),
            max_parallel=self.max_parallel,
        )
        error = self._finish(target) if not failures else None
        if not failures and error is None:
            commit()
            self.stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
            self._cleanup(target)
            self.stack_event("UPDATE_COMPLETE")
            return True
        reason = error or self._update_failure_reason(failures, existing)
        if self.stack.disable_rollback:
            self.stack_event("UPDATE_FAILED", reason)
            return False
        self.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", reason)
        ok = self._undo(failures)
        self.stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        ok = self._delete_new(ok)
        self.stack_event("UPDATE_ROLLBACK_COMPLETE" if ok else "UPDATE_ROLLBACK_FAILED")
        return False

    @staticmethod
    def _update_failure_reason(
        failures: Iterable[tuple[str, BaseException]], existing: set[str]
    ) -> str:
        """UPDATE_ROLLBACK_IN_PROGRESS's reason: AWS names a resource the update added as one
        that "failed to create" (and adds no "Rollback requested by user." here)."""
        failed = [lid for lid, _ in failures]
        created = [lid for lid in failed if lid not in existing]
        updated = [lid for lid in failed if lid in existing]
        reason = ""
        if created:
            reason += f"The following resource(s) failed to create: [{', '.join(created)}]. "
        if updated:
            reason += f"The following resource(s) failed to update: [{', '.join(updated)}]. "
        return reason

    def _converge(self, target: Target, logical_id: str, *, creating: bool) -> None:
        definition = target.resources[logical_id]
        provider = self.providers[provider_type(definition.type)]
        with self._lock:
            old = self.state.get(logical_id)
            snapshot = dict(self.state)
        record = ResourceRecord(
            logical_id=logical_id,
            type=definition.type,
            status="CREATE_IN_PROGRESS",
            timestamp=self.now(),
            metadata=definition.metadata,
            deletion_policy=str(definition.deletion_policy),
            update_replace_policy=str(definition.update_replace_policy),
        )
        try:
            resolver = resolver_for(target, snapshot, import_value=self.import_value)
            properties = resolve_dynamic_references(
                resolver.resolve(definition.properties), self.ssm
            )
            # Secret references stay in the records (see _with_secrets); resolved here once
            # so one that cannot resolve fails the resource before it is touched.
            resolve_dynamic_references(properties, self.ssm, self.secrets)
            update_policy: dict[str, Any] = (
                resolver.resolve(definition.update_policy) if definition.update_policy else {}
            )
        except TemplateError as error:
            if old is None:
                self._save(replace(record, status="CREATE_FAILED"), error.message, properties={})
                raise
            # the resource stays as it is (its physical id too): the rollback puts its record back
            self._save(replace(old, status="UPDATE_FAILED"), error.message, properties={})
            with self._lock:
                self._changes.append(_Change("unresolved", logical_id, old=old))
            raise
        if old is None or old.physical_id is None:
            self._create(provider, record, properties)
            return
        if old.type == definition.type and properties == old.properties:
            if (old.deletion_policy, old.update_replace_policy, old.metadata) != (
                record.deletion_policy,
                record.update_replace_policy,
                record.metadata,
            ):
                kept = replace(
                    old,
                    deletion_policy=record.deletion_policy,
                    update_replace_policy=record.update_replace_policy,
                    metadata=record.metadata,
                )
                with self._lock:
                    self.state[logical_id] = kept
                self.store.put_resource(self.stack.stack_id, kept)
            return
        if old.type != definition.type or requires_replacement(
            definition.type, old.properties, properties
        ):
            self._replace(provider, record, old, properties)
        else:
            self._update_in_place(provider, record, old, properties, update_policy)

    def _create(
        self, provider: ResourceProvider, record: ResourceRecord, properties: dict[str, Any]
    ) -> None:
        record.properties = properties
        self._save(record)
        self._make(provider, record, failed=replace(record, status="CREATE_FAILED"))
        self._save(replace(record, status="CREATE_COMPLETE"))

    def _make(
        self,
        provider: ResourceProvider,
        record: ResourceRecord,
        *,
        failed: ResourceRecord,
        replacing: ResourceRecord | None = None,
    ) -> None:
        """Create the physical resource of ``record`` (a new one, or a replacement)."""
        try:
            result = provider.create(self._request(record, record.properties))
        except Exception as error:
            made = error.physical_id if isinstance(error, ResourceFailure) else None
            if made and replacing is None:
                # something was made after all: the rollback deletes it
                failed = replace(failed, physical_id=made)
            self._save(failed, failure_reason(error))
            raise
        record.physical_id = result.physical_id
        record.attributes = result.attributes
        kind = "created" if replacing is None else "replaced"
        with self._lock:
            self._changes.append(_Change(kind, record.logical_id, old=replacing, new=record))
        self._save(record, "Resource creation Initiated")

    def _replace(
        self,
        provider: ResourceProvider,
        record: ResourceRecord,
        old: ResourceRecord,
        properties: dict[str, Any],
    ) -> None:
        record = replace(record, status="UPDATE_IN_PROGRESS", properties=properties)
        name = kept_custom_name(record.type, old.properties, properties)
        if name is not None and old.type == record.type:
            reason = (
                "CloudFormation cannot update a stack when a custom-named resource requires "
                f"replacing. Rename {name} and update the stack again."
            )
            self._save(replace(old, status="UPDATE_FAILED"), reason, properties=properties)
            raise ResourceFailure(reason)
        self._save(replace(record, physical_id=old.physical_id), CREATING_NEW_PHYSICAL)
        self._make(provider, record, failed=replace(old, status="UPDATE_FAILED"), replacing=old)
        self._save(replace(record, status="UPDATE_COMPLETE"))

    def _update_in_place(
        self,
        provider: ResourceProvider,
        record: ResourceRecord,
        old: ResourceRecord,
        properties: dict[str, Any],
        update_policy: dict[str, Any],
    ) -> None:
        record = replace(
            record,
            status="UPDATE_IN_PROGRESS",
            physical_id=old.physical_id,
            properties=properties,
            attributes=old.attributes,
        )
        self._save(record)
        with self._lock:
            self._changes.append(_Change("updated", record.logical_id, old=old, new=record))
        try:
            result = provider.update(
                self._request(record, properties, previous=old, update_policy=update_policy)
            )
        except Exception as error:
            self._save(replace(record, status="UPDATE_FAILED"), failure_reason(error))
            raise
        record.attributes = result.attributes
        if result.physical_id != old.physical_id and is_custom(record.type):
            # A custom resource's update may answer a new physical id: AWS then takes the
            # update for a replacement and deletes the old resource in cleanup. (Other
            # providers keep the id; one that reformats it must not lose its resource.)
            record.physical_id = result.physical_id
            with self._lock:
                self._changes.append(_Change("replaced", record.logical_id, old=old, new=record))
        self._save(replace(record, status="UPDATE_COMPLETE"))

    def _finish(self, target: Target) -> str | None:
        """Resolve outputs and exports; a problem's text if they cannot be set."""
        with self._lock:
            snapshot = dict(self.state)
        try:
            resolver = resolver_for(target, snapshot, import_value=self.import_value)
            outputs, exports = outputs_of(target, resolver)
            self._check_exports(exports)
        except (TemplateError, StackFailure) as error:
            return str(error.message if isinstance(error, TemplateError) else error)
        self.stack.outputs = outputs
        self.stack.imports = sorted(self._imports)
        self.store.set_exports(self.stack.account, self.stack.region, self.stack.stack_id, exports)
        return None

    def _check_exports(self, exports: dict[str, str]) -> None:
        existing = self.store.exports(self.stack.account, self.stack.region)
        for name in exports:
            owner = existing.get(name)
            if owner is not None and owner[0] != self.stack.stack_id:
                other = self.store.get_stack(owner[0])
                raise StackFailure(
                    f"Export with name {name} is already exported by stack "
                    f"{other.name if other else owner[0]}"
                )
        for name, (owner_id, value) in existing.items():
            if owner_id != self.stack.stack_id or exports.get(name) == value:
                continue
            user = self.importer_of(name)
            if user is not None:
                verb = "update" if name in exports else "delete"
                raise StackFailure(f"Cannot {verb} export {name} as it is in use by {user}")

    def importer_of(self, export_name: str) -> str | None:
        """The name of a live stack (other than this one) that imports ``export_name``."""
        for other in self.store.list_stacks(self.stack.account, self.stack.region):
            if (
                other.stack_id != self.stack.stack_id
                and other.status != "DELETE_COMPLETE"
                and export_name in other.imports
            ):
                return other.name
        return None

    # -- cleanup and rollback --------------------------------------------------------------

    def _cleanup(self, target: Target) -> None:
        """After a successful update: delete removed resources and replaced originals."""
        with self._lock:
            removed = {lid: r for lid, r in self.state.items() if lid not in target.resources}
            replaced = [c.old for c in self._changes if c.kind == "replaced" and c.old]
        for old in replaced:
            self._delete_one(old, keep_record=True, policy=old.update_replace_policy)
        graph = {
            lid: {d for d in self._previous_graph.get(lid, set()) if d in removed}
            for lid in removed
        }
        failures = self._delete_set(removed, graph)
        for logical_id, _ in failures:
            log.warning("stack %s: cleanup of %s failed", self.stack.name, logical_id)

    def _deployed_graph(self) -> dict[str, set[str]]:
        """The dependency graph of the stack's deployed template."""
        try:
            return resource_dependencies(check_template(self.stack.processed))
        except AwsError:
            return {}

    def _old_graph(self, records: Mapping[str, ResourceRecord]) -> dict[str, set[str]]:
        """Dependencies among ``records`` according to the stack's deployed template."""
        graph = self._deployed_graph()
        return {lid: {d for d in graph.get(lid, set()) if d in records} for lid in records}

    def _undo(self, failures: Iterable[tuple[str, BaseException]]) -> bool:
        """Put every updated or replaced resource back as it was; False if one could not be."""
        with self._lock:
            changes = list(reversed(self._changes))
        ok = True
        for change in changes:
            if change.kind == "created" or change.old is None:
                continue
            old = change.old
            if change.kind == "unresolved":
                # nothing was asked of the resource: only its record goes back
                with self._lock:
                    self.state[old.logical_id] = old
                self.store.put_resource(self.stack.stack_id, old)
                continue
            if change.kind == "replaced":
                self._save(replace(old, status="UPDATE_COMPLETE"), properties=old.properties)
                continue
            current = self.state[change.logical_id]
            provider = self.providers[provider_type(old.type)]
            self._save(replace(current, status="UPDATE_IN_PROGRESS"), properties=old.properties)
            try:
                provider.update(
                    replace(self._request(old, old.properties, previous=current), rollback=True)
                )
            except Exception as error:
                self._save(replace(current, status="UPDATE_FAILED"), failure_reason(error))
                ok = False
                continue
            self._save(replace(old, status="UPDATE_COMPLETE"))
        del failures
        return ok

    def _delete_new(self, ok: bool) -> bool:
        """After an update rollback: delete what the update created."""
        with self._lock:
            changes = list(reversed(self._changes))
            # resources the update failed to create: the last ones it touched, so the first
            # ones AWS lists as deleted
            never_made = [
                r
                for r in self.state.values()
                if r.status == "CREATE_FAILED"
                or (r.physical_id is None and r.status.endswith("FAILED"))
            ]
        for failed in never_made:
            self._delete_one(failed)
        for change in changes:
            if change.kind == "created":
                with self._lock:
                    record = self.state.get(change.logical_id)
                if record is not None:
                    ok = self._delete_one(record) and ok
            elif change.kind == "replaced" and change.new is not None:
                ok = self._delete_one(change.new, keep_record=True) and ok
        return ok

    # -- delete ----------------------------------------------------------------------------

    def delete(self, retain: frozenset[str] = frozenset()) -> bool:
        """Delete every resource of the stack but ``retain``; returns whether it is gone."""
        self.stack_event("DELETE_IN_PROGRESS", "User Initiated")
        for name, (owner, _) in self.store.exports(self.stack.account, self.stack.region).items():
            user = self.importer_of(name) if owner == self.stack.stack_id else None
            if user is not None:
                self.stack_event(
                    "DELETE_FAILED", f"Export {name} cannot be deleted as it is in use by {user}"
                )
                return False
        with self._lock:
            records = {
                lid: replace(r, deletion_policy="Retain") if lid in retain else r
                for lid, r in self.state.items()
            }
        failures = self._delete_set(records, self._old_graph(records))
        if failures:
            self.stack_event("DELETE_FAILED", self._delete_reason(failures))
            return False
        self.store.set_exports(self.stack.account, self.stack.region, self.stack.stack_id, {})
        self.stack.deletion_time = self.now()
        self.stack_event("DELETE_COMPLETE")
        return True

    def _delete_all(self, graph: Mapping[str, set[str]], *, on_create_rollback: bool) -> list[Any]:
        with self._lock:
            records = dict(self.state)
        relevant = {lid: {d for d in graph.get(lid, set()) if d in records} for lid in records}
        return self._delete_set(records, relevant, on_create_rollback=on_create_rollback)

    def _delete_set(
        self,
        records: Mapping[str, ResourceRecord],
        graph: Mapping[str, set[str]],
        *,
        on_create_rollback: bool = False,
    ) -> list[tuple[str, BaseException]]:
        """Delete ``records``, each after the resources that depend on it."""
        reverse = dependents(graph)

        def delete(logical_id: str) -> None:
            record = records[logical_id]
            policy = record.deletion_policy
            if on_create_rollback and policy == "RetainExceptOnCreate":
                policy = "Delete"
            if not self._delete_one(record, policy=policy):
                raise ResourceFailure(str(self.state[logical_id].status_reason))

        order = {lid: set(reverse.get(lid, set())) & set(records) for lid in records}
        return run_in_order(order, delete, max_parallel=self.max_parallel)

    def _delete_one(
        self, record: ResourceRecord, *, keep_record: bool = False, policy: str | None = None
    ) -> bool:
        """Delete one resource (or skip it under a Retain policy); False on failure."""
        policy = policy or record.deletion_policy
        if record.physical_id is None:
            # Nothing was made (its creation failed), yet AWS still lists the resource as
            # deleted: a DELETE_COMPLETE with an empty physical id, no DELETE_IN_PROGRESS.
            self._event(
                record.logical_id,
                record.type,
                "DELETE_COMPLETE",
                None,
                properties=record.properties,
            )
            if not keep_record:
                self._forget(record.logical_id)
            return True
        if policy in ("Retain", "RetainExceptOnCreate", "Snapshot") and policy != "Snapshot":
            self._event(record.logical_id, record.type, "DELETE_SKIPPED", record.physical_id)
            if not keep_record:
                self._forget(record.logical_id)
            return True
        self._emit(record, "DELETE_IN_PROGRESS", keep_record)
        provider = self.providers.get(provider_type(record.type))
        try:
            if provider is not None:
                provider.delete(self._request(record, record.properties))
        except Exception as error:
            reason = failure_reason(error)
            failed = replace(record, status="DELETE_FAILED", status_reason=reason)
            if not keep_record:
                with self._lock:
                    self.state[record.logical_id] = failed
                self.store.put_resource(self.stack.stack_id, failed)
            self._event(record.logical_id, record.type, "DELETE_FAILED", record.physical_id, reason)
            return False
        self._event(
            record.logical_id,
            record.type,
            "DELETE_COMPLETE",
            record.physical_id,
            properties=record.properties,
        )
        if not keep_record:
            self._forget(record.logical_id)
        return True

    def _emit(self, record: ResourceRecord, status: str, keep_record: bool) -> None:
        if keep_record:
            self._event(
                record.logical_id,
                record.type,
                status,
                record.physical_id,
                properties=record.properties,
            )
        else:
            self._save(replace(record, status=status))

    def _forget(self, logical_id: str) -> None:
        with self._lock:
            self.state.pop(logical_id, None)
        self.store.delete_resource(self.stack.stack_id, logical_id)

    def _delete_reason(self, failures: list[tuple[str, BaseException]]) -> str:
        names = ", ".join(lid for lid, _ in failures)
        return f"The following resource(s) failed to delete: [{names}]. "
