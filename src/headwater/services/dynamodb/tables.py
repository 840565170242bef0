"""The table catalog: create, describe, update, list and delete tables; tags, TTL and
backup settings; the cached schemas item operations run against.

Tables are ACTIVE as soon as they are created (CreateTable answers CREATING, as AWS does,
and DescribeTable ACTIVE). Secondary indexes, including ones added by UpdateTable, are
built and kept up to date synchronously: an index read sees every committed write (AWS's
global secondary indexes are only eventually consistent). Vector indexes are views of the
table's items (vector_indexes.py): ACTIVE and complete as soon as they exist.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from headwater.core.clock import Clock
from headwater.core.errors import AwsError
from headwater.core.expressions.values import invalid, validation
from headwater.services.base import RequestContext
from headwater.services.dynamodb.change_feed import ChangeFeed
from headwater.services.dynamodb.schema import TableSchema
from headwater.services.dynamodb.table_specs import (
    MAX_CAPACITY_UNITS,
    MAX_GSI,
    MAX_TAGS,
    check_list_tables,
    check_on_demand,
    check_point_in_time_recovery,
    check_table_name,
    check_tagging,
    check_time_to_live,
    check_update_table,
    check_warm_throughput,
    index_spec,
    sse_description,
    stream_specification,
    table_spec,
    too_many_tags,
    vector_index_specs,
)
from headwater.services.dynamodb.vector_indexes import TABLE_STATISTICS, index_statistics
from headwater.store.tables import StreamRow, TableRow, TableStore
from headwater.store.tables.codec import decode_item

#: Items whose TTL is further than this in the past are never deleted (as on AWS).
TTL_HORIZON_SECONDS = 5 * 365 * 86400


def table_not_found(name: str | None = None) -> AwsError:
    """AWS's ResourceNotFoundException; table operations name the table, item ones do not."""
    message = "Requested resource not found"
    if name is not None:
        message += f": Table: {name} not found"
    return AwsError("ResourceNotFoundException", message, fields={"message": message})


def resource_not_found(arn: str) -> AwsError:
    message = f"Requested resource not found: ResourcArn: {arn} not found"
    return AwsError("ResourceNotFoundException", message, fields={"message": message})


def in_use(message: str) -> AwsError:
    return AwsError("ResourceInUseException", message, fields={"message": message})


def table_name_of(value: str) -> str:
    """A ``TableName`` parameter (a name or a table ARN) as the table's name."""
    if value.startswith("arn:"):
        resource = value.split(":", 5)[-1]
        if resource.startswith("table/"):
            return resource[len("table/") :].split("/", 1)[0]
    return value


def stream_label(epoch: float) -> str:
    """A stream label: its creation time in UTC with milliseconds."""
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def ttl_expiry(item: dict[str, Any], attribute: str | None) -> float | None:
    """Epoch seconds an item expires at (its TTL attribute is a Number), else ``None``."""
    if attribute is None:
        return None
    value = item.get(attribute)
    if value is None or "N" not in value:
        return None
    try:
        return float(value["N"])
    except (OverflowError, ValueError):  # pragma: no cover - numbers are validated
        return None


class TableCatalog:
    """Table metadata operations and the schema cache."""

    def __init__(self, store: TableStore, feed: ChangeFeed, clock: Clock) -> None:
        self.store = store
        self.feed = feed
        self.clock = clock
        #: (account, region, name) -> (schema, ``store.tables_changed()`` when read)
        self._schemas: dict[tuple[str, str, str], tuple[TableSchema, int]] = {}
        self._lock = threading.Lock()
        # PostgreSQL nodes re-read definition versions only every poll interval: there the
        # table's own version row is checked on every call.
        self._exact_versions = store.db.kind in ("sqlite", "memory")
        self._writes_check_versions = store.checks_versions_in_writes

    # ---- lookups ----

    def schema(self, ctx: RequestContext, table_name: str, *, named: bool = False) -> TableSchema:
        """The current schema of a table (cached while its version is unchanged)."""
        name = table_name_of(table_name)
        key = (ctx.account, ctx.region, name)
        cached = self._schemas.get(key)
        if cached is not None and self._exact_versions:
            # One PRAGMA instead of a SELECT per item call: SQLite's definition versions
            # move with every table change, this process's or another's, so an unchanged
            # number means the cached schema is the stored one.
            schema, seen = cached
            if self.store.tables_changed() == seen:
                return schema
        with self.store.db.read():
            seen = self.store.tables_changed()
            found = self.store.table_version(*key)
            if found is None:
                self._schemas.pop(key, None)
                raise table_not_found(name if named else None)
            if cached is not None and (cached[0].id, cached[0].version) == found:
                self._schemas[key] = (cached[0], seen)
                return cached[0]
            row = self.store.table(*key)
        if row is None:
            raise table_not_found(name if named else None)
        schema = TableSchema.from_row(row)
        with self._lock:
            self._schemas[key] = (schema, seen)
        return schema

    def cached_schema(self, ctx: RequestContext, table_name: str) -> tuple[TableSchema, int] | None:
        """The cached schema of a table and the definitions version it is current at,
        *not* checked against the store: only for a write that checks that version itself
        (``TableStore.put_item_if_current``), which saves the check's own statement.
        ``None`` when the table is not cached or the store's writes cannot check."""
        if not self._writes_check_versions:
            return None
        return self._schemas.get((ctx.account, ctx.region, table_name_of(table_name)))

    def row(
        self,
        ctx: RequestContext,
        table_name: str,
        *,
        backups: bool = False,
        changing: bool = False,
    ) -> TableRow:
        """The table named; the backup operations answer a missing table with their own
        TableNotFoundException ('Table not found: X', as AWS does). ``changing``: read to
        change what item writes depend on (``TableStore.table``)."""
        name = table_name_of(table_name)
        row = self.store.table(ctx.account, ctx.region, name, changing=changing)
        if row is None:
            check_table_name(table_name)
            if backups:
                message = f"Table not found: {name}"
                raise AwsError("TableNotFoundException", message, fields={"message": message})
            raise table_not_found(name)
        return row

    def arn(self, ctx: RequestContext, name: str) -> str:
        return f"arn:aws:dynamodb:{ctx.region}:{ctx.account}:table/{name}"

    # ---- descriptions ----

    def describe(self, row: TableRow, status: str = "ACTIVE") -> dict[str, Any]:
        """AWS's TableDescription of a stored table."""
        spec = row.spec
        count, size = self.store.item_stats(row.id)
        vector_statistics = None
        if spec.get("VectorIndexes"):
            # a vector an index holds counts at its billed size, as AWS's TableSizeBytes
            # does (a conformance suite's live capture, 2026-10-09)
            vector_statistics = self._vector_statistics(row)
            size += vector_statistics[TABLE_STATISTICS][1]
        description: dict[str, Any] = {
            "AttributeDefinitions": spec["AttributeDefinitions"],
            "TableName": spec["TableName"],
            "KeySchema": spec["KeySchema"],
            "TableStatus": status,
            "CreationDateTime": _time(spec["CreationDateTime"]),
            "ProvisionedThroughput": self._described_throughput(spec["ProvisionedThroughput"]),
            "TableSizeBytes": size,
            "ItemCount": count,
            "TableArn": spec["TableArn"],
            "TableId": spec["TableId"],
            "DeletionProtectionEnabled": spec["DeletionProtectionEnabled"],
        }
        if spec["BillingMode"] == "PAY_PER_REQUEST":
            summary: dict[str, Any] = {"BillingMode": "PAY_PER_REQUEST"}
            if status != "CREATING":
                summary["LastUpdateToPayPerRequestDateTime"] = _time(
                    spec["LastUpdateToPayPerRequestDateTime"]
                )
            description["BillingModeSummary"] = summary
        elif "LastUpdateToPayPerRequestDateTime" in spec:
            description["BillingModeSummary"] = {"BillingMode": "PROVISIONED"}
        for field in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
            if spec.get(field):
                description[field] = [
                    self._describe_index(row, index, field, status) for index in spec[field]
                ]
        if vector_statistics is not None:
            description["VectorIndexes"] = self._describe_vector_indexes(
                row, status, vector_statistics
            )
        stream = spec.get("StreamSpecification")
        if stream is not None and stream.get("StreamEnabled"):
            description["StreamSpecification"] = stream
        if spec.get("LatestStreamArn"):
            description["LatestStreamLabel"] = spec["LatestStreamLabel"]
            description["LatestStreamArn"] = spec["LatestStreamArn"]
        for field in ("SSEDescription", "TableClassSummary", "OnDemandThroughput"):
            if field in spec:
                description[field] = spec[field]
        warm = _warm_throughput(spec, status)
        if warm is not None:
            description["WarmThroughput"] = warm
        return description

    def _describe_index(
        self, row: TableRow, index: dict[str, Any], field: str, status: str
    ) -> dict[str, Any]:
        count, size = self.store.index_stats(row.id, index["IndexName"])
        described: dict[str, Any] = {
            "IndexName": index["IndexName"],
            "KeySchema": index["KeySchema"],
            "Projection": index["Projection"],
            "IndexSizeBytes": size,
            "ItemCount": count,
            "IndexArn": f"{row.spec['TableArn']}/index/{index['IndexName']}",
        }
        if field == "GlobalSecondaryIndexes":
            described["IndexStatus"] = (
                index.get("IndexStatus", "ACTIVE") if status != "CREATING" else "CREATING"
            )
            described["ProvisionedThroughput"] = self._described_throughput(
                index["ProvisionedThroughput"]
            )
            if "OnDemandThroughput" in index:
                described["OnDemandThroughput"] = index["OnDemandThroughput"]
            if status == "ACTIVE":
                described["WarmThroughput"] = _index_warm_throughput(row.spec, index)
        return described

    def _vector_statistics(self, row: TableRow) -> dict[str, tuple[int, int]]:
        """The vector indexes' ItemCount and IndexSizeBytes, and the table's billed excess,
        as the writes keep them (AWS refreshes such figures about every six hours), counted
        from the table's items where none are kept (a table stored before they were)."""
        schema = TableSchema.from_row(row)
        statistics = self.store.vector_stats(row.id)
        names = [TABLE_STATISTICS, *(index.name for index in schema.vector_indexes)]
        if any(name not in statistics for name in names):
            statistics = index_statistics(schema, self._all_items(row.id))
        return statistics

    def _describe_vector_indexes(
        self, row: TableRow, status: str, statistics: dict[str, tuple[int, int]]
    ) -> list[dict[str, Any]]:
        """VectorIndexDescriptions, with ``_vector_statistics``."""
        schema = TableSchema.from_row(row)
        described: list[dict[str, Any]] = []
        for index, vector in zip(row.spec["VectorIndexes"], schema.vector_indexes, strict=True):
            count, size = statistics[vector.name]
            entry: dict[str, Any] = {
                "IndexName": index["IndexName"],
                **({"SearchSchema": index["SearchSchema"]} if "SearchSchema" in index else {}),
                "Projection": index["Projection"],
                "VectorAttribute": index["VectorAttribute"],
                "Dimensions": index["Dimensions"],
                "DistanceFunction": index["DistanceFunction"],
                "IndexStatus": status if status in ("CREATING", "DELETING") else "ACTIVE",
                "IndexSizeBytes": size,
                "ItemCount": count,
                "IndexArn": vector.arn,
            }
            described.append(entry)
        return described

    def _count_vectors(self, row: TableRow) -> None:
        """Count the vector indexes' statistics from the table's items, for the writes to
        keep from now on (inside the CreateTable or UpdateTable transaction)."""
        schema = TableSchema.from_row(row)
        self.store.replace_vector_stats(row.id, index_statistics(schema, self._all_items(row.id)))

    def _all_items(self, table_id: int) -> Iterator[dict[str, Any]]:
        """Every item of the table, read a batch at a time."""
        after = None
        while True:
            batch = self.store.scan_items(table_id, 0, 1 << 31, after, 500)
            if not batch:
                return
            for stored in batch:
                yield decode_item(stored.item)
            after = batch[-1].key

    # ---- operations ----

    def create(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        name = params["TableName"]
        now = self.clock.now()
        arn = self.arn(ctx, name)
        spec = table_spec(params, arn, str(uuid.uuid4()), now)
        with self.store.db.transaction():
            if self.store.table_version(ctx.account, ctx.region, name) is not None:
                raise in_use(f"Table already exists: {name}")
            row = self.store.insert_table(ctx.account, ctx.region, name, spec)
            if spec.get("VectorIndexes"):
                self._count_vectors(row)
            if spec.get("StreamSpecification", {}).get("StreamEnabled"):
                row = self._open_stream(row, now)
            return {"TableDescription": self.describe(row, "CREATING")}

    def describe_table(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        with self.store.db.read():
            return {"Table": self.describe(self.row(ctx, params["TableName"]))}

    def delete(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        now = self.clock.now()
        with self.store.db.transaction():
            row = self.row(ctx, params["TableName"], changing=True)
            if row.spec.get("DeletionProtectionEnabled"):
                raise validation(
                    "Resource cannot be deleted as it is currently protected against deletion. "
                    "Disable deletion protection first."
                )
            description = self.describe(row, "DELETING")
            for field in (
                "AttributeDefinitions",
                "KeySchema",
                "CreationDateTime",
                "WarmThroughput",
            ):
                description.pop(field, None)
            for field in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
                for index in description.get(field, []):
                    index.pop("WarmThroughput", None)
                    if "IndexStatus" in index:
                        index["IndexStatus"] = "DELETING"
            if row.spec.get("LatestStreamArn"):
                last = self.store.last_change_seq(row.id)
                self.store.disable_stream(row.spec["LatestStreamArn"], now, last)
            self.store.delete_table(row.id)
        return {"TableDescription": description}

    def list_tables(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        check_list_tables(params)
        limit = params.get("Limit", 100)
        with self.store.db.read():
            names = self.store.table_names(
                ctx.account, ctx.region, params.get("ExclusiveStartTableName"), limit + 1
            )
        result: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            result["LastEvaluatedTableName"] = names[limit - 1]
        return result

    def update(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        check_update_table(params)
        now = self.clock.now()
        with self.store.db.transaction():
            row = self.row(ctx, params["TableName"], changing=True)
            spec = dict(row.spec)
            self._check_update_against_table(spec, params)
            billing = params.get("BillingMode")
            if billing is not None and billing != spec["BillingMode"]:
                spec["BillingMode"] = billing
                if billing == "PAY_PER_REQUEST":
                    spec["LastUpdateToPayPerRequestDateTime"] = now
                    spec["ProvisionedThroughput"] = dict(NO_THROUGHPUT)
                    if "GlobalSecondaryIndexes" in spec:
                        spec["GlobalSecondaryIndexes"] = [
                            {**index, "ProvisionedThroughput": dict(NO_THROUGHPUT)}
                            for index in spec["GlobalSecondaryIndexes"]
                        ]
            throughput = params.get("ProvisionedThroughput")
            if throughput is not None:
                spec["ProvisionedThroughput"] = self._changed_throughput(
                    spec["ProvisionedThroughput"], throughput, now
                )
            if params.get("AttributeDefinitions"):
                known = {d["AttributeName"]: d for d in spec["AttributeDefinitions"]}
                for definition in params["AttributeDefinitions"]:
                    known[definition["AttributeName"]] = dict(definition)
                spec["AttributeDefinitions"] = list(known.values())
            backfill: list[str] = []
            for update in params.get("GlobalSecondaryIndexUpdates") or []:
                backfill.extend(self._index_update(spec, update, now))
            for update in params.get("VectorIndexUpdates") or []:
                self._vector_index_update(spec, update, params.get("AttributeDefinitions") or [])
            if "DeletionProtectionEnabled" in params:
                spec["DeletionProtectionEnabled"] = params["DeletionProtectionEnabled"]
            if params.get("TableClass"):
                spec["TableClassSummary"] = {"TableClass": params["TableClass"]}
            sse = params.get("SSESpecification")
            if sse is not None:
                self._update_encryption(spec, sse)
            if params.get("WarmThroughput"):
                spec["WarmThroughput"] = dict(params["WarmThroughput"])
            if params.get("OnDemandThroughput"):
                spec["OnDemandThroughput"] = {
                    **spec.get("OnDemandThroughput", {}),
                    **params["OnDemandThroughput"],
                }
            stream = params.get("StreamSpecification")
            row = TableRow(row.id, row.account, row.region, row.name, row.version, spec)
            if stream is not None:
                row = self._update_stream(row, stream_specification(stream, creating=False), now)
            row = self.store.save_table(row)
            if backfill:
                self._backfill(row, backfill)
            if params.get("VectorIndexUpdates"):
                self._count_vectors(row)
            return {"TableDescription": self.describe(row, "UPDATING")}

    @staticmethod
    def _update_encryption(spec: dict[str, Any], sse: dict[str, Any]) -> None:
        """SSE with a KMS key, or (Enabled false or absent) with the AWS-owned key; asking
        for the encryption a table has is AWS's error, not a no-op."""
        if not sse.get("Enabled"):
            if "SSEDescription" not in spec:
                raise invalid("Table is already encrypted by default")
            del spec["SSEDescription"]
            return
        wanted = sse_description(sse, spec["TableArn"])
        if spec.get("SSEDescription", {}).get("KMSMasterKeyArn") == wanted["KMSMasterKeyArn"]:
            raise invalid(
                "Table is already encrypted with given KMSMasterKeyId. Use KMSMasterKeyId "
                "parameter if you want to change Master Key"
            )
        spec["SSEDescription"] = wanted

    @staticmethod
    def _check_update_against_table(spec: dict[str, Any], params: dict[str, Any]) -> None:
        """AWS's rules for what an UpdateTable asks of its indexes and capacity, given the
        table as it is."""
        billing = params.get("BillingMode") or spec["BillingMode"]
        check_on_demand(params.get("OnDemandThroughput"), billing, updating=True)
        check_warm_throughput(params.get("WarmThroughput"))
        throughput = params.get("ProvisionedThroughput")
        if throughput is not None and billing == "PAY_PER_REQUEST":
            raise invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                "BillingMode is PAY_PER_REQUEST"
            )
        if billing != "PAY_PER_REQUEST" and spec.get("VectorIndexes"):
            raise invalid("Vector indexes are only supported for PAY_PER_REQUEST tables")
        updates = params.get("GlobalSecondaryIndexUpdates") or []
        vector_updates = params.get("VectorIndexUpdates") or []
        if (
            sum(1 for update in updates if "Create" in update or "Delete" in update)
            + sum(1 for update in vector_updates if "Create" in update or "Delete" in update)
            > 1
        ):
            raise AwsError(
                "LimitExceededException",
                "Subscriber limit exceeded: Only 1 online index can be created or deleted "
                "simultaneously per table",
            )
        current = {i["IndexName"]: i for i in spec.get("GlobalSecondaryIndexes", [])}
        changes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        if throughput is not None:
            changes.append(("table", throughput, spec["ProvisionedThroughput"]))
        unset = dict(current)
        for update in updates:
            if "Create" in update and not params.get("AttributeDefinitions"):
                raise invalid(
                    "AttributeDefinitions is not specified for index: "
                    f"{update['Create']['IndexName']}"
                )
            wanted = (update.get("Update") or {}).get("ProvisionedThroughput")
            if wanted is None:
                continue
            if billing == "PAY_PER_REQUEST":
                raise invalid(
                    f"The only Updates for index: {update['Update']['IndexName']} when "
                    "TableThroughputMode is PAY_PER_REQUEST can be to OnDemandThroughput, "
                    "WarmThroughput"
                )
            if max(wanted["ReadCapacityUnits"], wanted["WriteCapacityUnits"]) > MAX_CAPACITY_UNITS:
                raise validation(
                    "This operation cannot be performed with given input values. Please contact "
                    "DynamoDB service team for more info: Action Blocked: IndexUpdate"
                )
            index = unset.pop(update["Update"]["IndexName"], None)
            if index is not None:
                changes.append(
                    (f"index {index['IndexName']}", wanted, index["ProvisionedThroughput"])
                )
        if billing == "PROVISIONED" and spec["BillingMode"] != "PROVISIONED" and unset:
            raise invalid(f"ProvisionedThroughput must be specified for index: {','.join(unset)}")
        for what, wanted, had in changes:
            if (wanted["ReadCapacityUnits"], wanted["WriteCapacityUnits"]) == (
                had["ReadCapacityUnits"],
                had["WriteCapacityUnits"],
            ):
                raise validation(
                    f"The provisioned throughput for the {what} will not change. The requested "
                    "value equals the current value. Current ReadCapacityUnits provisioned for "
                    f"the table: {had['ReadCapacityUnits']}. Requested ReadCapacityUnits: "
                    f"{wanted['ReadCapacityUnits']}. Current WriteCapacityUnits provisioned for "
                    f"the table: {had['WriteCapacityUnits']}. Requested WriteCapacityUnits: "
                    f"{wanted['WriteCapacityUnits']}. Refer to the Amazon DynamoDB Developer "
                    "Guide for current limits and how to request higher limits."
                )

    @staticmethod
    def _changed_throughput(
        had: dict[str, Any], wanted: dict[str, Any], now: float
    ) -> dict[str, Any]:
        """New capacity, with when it last rose or fell and today's decreases, as
        AWS's ProvisionedThroughputDescription keeps them."""
        result = {
            **had,
            "ReadCapacityUnits": wanted["ReadCapacityUnits"],
            "WriteCapacityUnits": wanted["WriteCapacityUnits"],
        }
        old = (had["ReadCapacityUnits"], had["WriteCapacityUnits"])
        new = (wanted["ReadCapacityUnits"], wanted["WriteCapacityUnits"])
        if any(n > o for n, o in zip(new, old, strict=True)):
            result["LastIncreaseDateTime"] = now
        if any(n < o for n, o in zip(new, old, strict=True)):
            earlier = had.get("LastDecreaseDateTime")
            same_day = earlier is not None and _time(earlier).date() == _time(now).date()
            result["NumberOfDecreasesToday"] = (
                had["NumberOfDecreasesToday"] if same_day else 0
            ) + 1
            result["LastDecreaseDateTime"] = now
        return result

    def _described_throughput(self, stored: dict[str, Any]) -> dict[str, Any]:
        described = dict(stored)
        for field in ("LastIncreaseDateTime", "LastDecreaseDateTime"):
            if field in stored:
                described[field] = _time(stored[field])
        decreased = stored.get("LastDecreaseDateTime")
        if decreased is not None and _time(decreased).date() != _time(self.clock.now()).date():
            described["NumberOfDecreasesToday"] = 0  # the count is of today's decreases
        return described

    def _index_update(self, spec: dict[str, Any], update: dict[str, Any], now: float) -> list[str]:
        indexes = list(spec.get("GlobalSecondaryIndexes", []))
        local = {i["IndexName"] for i in spec.get("LocalSecondaryIndexes", [])}
        if "Create" in update:
            create = update["Create"]
            if create["IndexName"] in local | {i["IndexName"] for i in indexes}:
                raise validation("Attempting to create an index which already exists")
            if len(indexes) >= MAX_GSI:
                # CreateTable's limit; through UpdateTable AWS answers LimitExceeded
                raise AwsError(
                    "LimitExceededException",
                    f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSI}",
                )
            defined = [d["AttributeName"] for d in spec["AttributeDefinitions"]]
            indexes.append(index_spec(create, "GSI", spec["BillingMode"], defined))
            spec["GlobalSecondaryIndexes"] = indexes
            return [create["IndexName"]]
        action = "delete" if "Delete" in update else "update"
        name = update[action.capitalize()]["IndexName"]
        if name in local:
            raise validation(f"Cannot {action} an index that is not a GlobalSecondaryIndex: {name}")
        found = [i for i in indexes if i["IndexName"] == name]
        if not found:
            raise AwsError(
                "ResourceNotFoundException",
                f"Requested resource not found: Index: {name} not found",
            )
        if "Delete" in update:
            spec["GlobalSecondaryIndexes"] = [i for i in indexes if i["IndexName"] != name]
            if not spec["GlobalSecondaryIndexes"]:
                del spec["GlobalSecondaryIndexes"]
            return []
        throughput = update["Update"].get("ProvisionedThroughput")
        on_demand = update["Update"].get("OnDemandThroughput")
        if throughput is not None or on_demand:
            index = dict(found[0])
            if throughput is not None:
                index["ProvisionedThroughput"] = self._changed_throughput(
                    index["ProvisionedThroughput"], throughput, now
                )
            if on_demand:
                check_on_demand(on_demand, spec["BillingMode"], updating=True)
                index["OnDemandThroughput"] = {**index.get("OnDemandThroughput", {}), **on_demand}
            spec["GlobalSecondaryIndexes"] = [index if i is found[0] else i for i in indexes]
        return []

    @staticmethod
    def _vector_index_update(
        spec: dict[str, Any], update: dict[str, Any], definitions: list[dict[str, Any]]
    ) -> None:
        """Add or remove a vector index. Nothing to backfill: a search reads the table's
        items, so an index holds the items written before it as soon as it exists."""
        vectors = list(spec.get("VectorIndexes", []))
        others = {
            i["IndexName"]
            for field in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes")
            for i in spec.get(field, [])
        }
        if "Create" in update:
            create = update["Create"]
            if create["IndexName"] in others | {i["IndexName"] for i in vectors}:
                raise validation("Attempting to create an index which already exists")
            attribute = create["VectorAttribute"]["AttributeName"]
            defined = {d["AttributeName"] for d in definitions}
            key = next((k for k in spec["KeySchema"] if k["AttributeName"] == attribute), None)
            if key is not None and attribute not in defined:
                kind = next(
                    d["AttributeType"]
                    for d in spec["AttributeDefinitions"]
                    if d["AttributeName"] == attribute
                )
                raise invalid(
                    "Attributes cannot be redefined. Please check that your attribute has the "
                    "same type as previously defined. Existing schema: Schema:[SchemaElement: "
                    f"key{{{attribute}:{kind}:{key['KeyType']}}}] New schema: "
                    f"VectorIndexSchema:[VectorAttribute: key{{{attribute}:L:"
                    f"{create['Dimensions']}}}]"
                )
            vectors += vector_index_specs(
                [create], definitions, spec["BillingMode"], others, vectors, updating=True
            )
            spec["VectorIndexes"] = vectors
            return
        name = update["Delete"]["IndexName"]
        if name not in {i["IndexName"] for i in vectors}:
            raise AwsError(
                "ResourceNotFoundException",
                f"Requested resource not found: Index: {name} not found",
            )
        spec["VectorIndexes"] = [i for i in vectors if i["IndexName"] != name]
        if not spec["VectorIndexes"]:
            del spec["VectorIndexes"]

    def _backfill(self, row: TableRow, index_names: list[str]) -> None:
        """Build new indexes from the table's items (inside the UpdateTable transaction)."""
        schema = TableSchema.from_row(row)
        after = None
        while True:
            batch = self.store.scan_items(row.id, 0, 1 << 31, after, 500)
            if not batch:
                return
            for stored in batch:
                entries = schema.index_entries(decode_item(stored.item), stored.key)
                self.store.add_index_entries(
                    row.id, [e for e in entries if e.index_name in index_names]
                )
            after = batch[-1].key

    # ---- streams ----

    def _open_stream(self, row: TableRow, now: float) -> TableRow:
        spec = dict(row.spec)
        when = now
        while True:
            label = stream_label(when)
            arn = f"{spec['TableArn']}/stream/{label}"
            if self.store.stream(arn) is None:
                break
            when += 0.001
        self.store.insert_stream(
            StreamRow(
                arn=arn,
                table_id=row.id,
                account=row.account,
                region=row.region,
                table_name=row.name,
                label=label,
                view_type=spec["StreamSpecification"]["StreamViewType"],
                key_schema=spec["KeySchema"],
                created=now,
                first_seq=self.store.last_change_seq(row.id),
            )
        )
        spec["LatestStreamLabel"] = label
        spec["LatestStreamArn"] = arn
        return self.store.save_table(
            TableRow(row.id, row.account, row.region, row.name, row.version, spec)
        )

    def _update_stream(self, row: TableRow, stream: dict[str, Any], now: float) -> TableRow:
        current = row.spec.get("StreamSpecification") or {}
        spec = dict(row.spec)
        if stream["StreamEnabled"]:
            if current.get("StreamEnabled"):
                raise validation(f"Table already has an enabled stream: TableName: {row.name}")
            spec["StreamSpecification"] = stream
            return self._open_stream(
                TableRow(row.id, row.account, row.region, row.name, row.version, spec), now
            )
        if not current.get("StreamEnabled"):
            raise validation(f"Table has no stream to disable: TableName: {row.name}")
        self.store.disable_stream(spec["LatestStreamArn"], now, self.store.last_change_seq(row.id))
        spec["StreamSpecification"] = {"StreamEnabled": False}
        return TableRow(row.id, row.account, row.region, row.name, row.version, spec)

    # ---- tags, TTL, backups ----

    def _row_by_arn(self, ctx: RequestContext, arn: str, *, untagging: bool = False) -> TableRow:
        row = None
        if arn.startswith("arn:") and ":table/" in arn:
            parts = arn.split(":")
            row = self.store.table(parts[4], parts[3], table_name_of(arn))
        if row is None:
            if untagging:  # AWS's UntagResource does not name the ARN
                raise table_not_found()
            raise resource_not_found(arn)
        return row

    def tag(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        check_tagging(params["ResourceArn"], params["Tags"], None, ctx.region)
        with self.store.db.transaction():
            row = self._row_by_arn(ctx, params["ResourceArn"])
            tags = {t["Key"]: t["Value"] for t in row.spec.get("Tags", [])}
            for tag in params["Tags"]:
                tags[tag["Key"]] = tag["Value"]
            if len(tags) > MAX_TAGS:
                raise too_many_tags()
            spec = {**row.spec, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            self.store.save_table(
                TableRow(row.id, row.account, row.region, row.name, row.version, spec)
            )
        return {}

    def untag(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        check_tagging(params["ResourceArn"], None, params["TagKeys"], ctx.region)
        with self.store.db.transaction():
            row = self._row_by_arn(ctx, params["ResourceArn"], untagging=True)
            drop = set(params["TagKeys"])
            tags = [t for t in row.spec.get("Tags", []) if t["Key"] not in drop]
            spec = {**row.spec, "Tags": tags}
            self.store.save_table(
                TableRow(row.id, row.account, row.region, row.name, row.version, spec)
            )
        return {}

    def list_tags(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        check_tagging(params["ResourceArn"], None, None, ctx.region)
        with self.store.db.read():
            row = self._row_by_arn(ctx, params["ResourceArn"])
        return {"Tags": list(row.spec.get("Tags", []))}

    def update_ttl(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        wanted = params["TimeToLiveSpecification"]
        check_time_to_live(wanted)
        with self.store.db.transaction():
            row = self.row(ctx, params["TableName"], changing=True)
            current = row.spec.get("TimeToLive") or {}
            if wanted["Enabled"]:
                if current.get("Enabled") and current["AttributeName"] != wanted["AttributeName"]:
                    raise validation(
                        "TimeToLive is active on a different AttributeName: current "
                        f"AttributeName is {current['AttributeName']}"
                    )
                if current.get("Enabled"):
                    raise validation("TimeToLive is already enabled")
            elif not current.get("Enabled"):
                raise validation("TimeToLive is already disabled")
            elif current.get("AttributeName") != wanted["AttributeName"]:
                raise validation(
                    "TimeToLive is not enabled on the provided attribute name: "
                    f"{wanted['AttributeName']}"
                )
            spec = {
                **row.spec,
                "TimeToLive": {
                    "AttributeName": wanted["AttributeName"],
                    "Enabled": wanted["Enabled"],
                },
            }
            row = self.store.save_table(
                TableRow(row.id, row.account, row.region, row.name, row.version, spec)
            )
            self._index_expiry(row, wanted["AttributeName"] if wanted["Enabled"] else None)
        return {
            "TimeToLiveSpecification": {
                "Enabled": wanted["Enabled"],
                "AttributeName": wanted["AttributeName"],
            }
        }

    def _index_expiry(self, row: TableRow, attribute: str | None) -> None:
        after = None
        while True:
            batch = self.store.scan_items(row.id, 0, 1 << 31, after, 500)
            if not batch:
                return
            for stored in batch:
                expires = ttl_expiry(decode_item(stored.item), attribute)
                self.store.set_expiry(row.id, stored.key, expires)
            after = batch[-1].key

    def describe_ttl(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        with self.store.db.read():
            row = self.row(ctx, params["TableName"])
        ttl = row.spec.get("TimeToLive")
        if not ttl or not ttl.get("Enabled"):
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return {
            "TimeToLiveDescription": {
                "TimeToLiveStatus": "ENABLED",
                "AttributeName": ttl["AttributeName"],
            }
        }

    def describe_backups(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        with self.store.db.read():
            row = self.row(ctx, params["TableName"], backups=True)
        return {"ContinuousBackupsDescription": self._backups(row.spec)}

    def update_backups(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        wanted = params["PointInTimeRecoverySpecification"]
        check_point_in_time_recovery(wanted)
        with self.store.db.transaction():
            row = self.row(ctx, params["TableName"], backups=True)
            days = wanted.get("RecoveryPeriodInDays", 35)
            backups = {
                "Enabled": wanted["PointInTimeRecoveryEnabled"],
                "RecoveryPeriodInDays": days,
                "Since": self.clock.now(),
            }
            spec = {**row.spec, "ContinuousBackups": backups}
            self.store.save_table(
                TableRow(row.id, row.account, row.region, row.name, row.version, spec)
            )
        return {"ContinuousBackupsDescription": self._backups(spec)}

    def _backups(self, spec: dict[str, Any]) -> dict[str, Any]:
        backups = spec.get("ContinuousBackups") or {}
        if not backups.get("Enabled"):
            return {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
            }
        return {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {
                "PointInTimeRecoveryStatus": "ENABLED",
                "RecoveryPeriodInDays": backups["RecoveryPeriodInDays"],
                "EarliestRestorableDateTime": _time(backups["Since"]),
                "LatestRestorableDateTime": _time(self.clock.now() - 300),
            },
        }


NO_THROUGHPUT = {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}


def _time(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def _warm_throughput(spec: dict[str, Any], status: str) -> dict[str, Any] | None:
    if status != "ACTIVE" and "WarmThroughput" not in spec:
        return None
    warm = spec.get("WarmThroughput")
    if warm is None:
        if spec["BillingMode"] == "PAY_PER_REQUEST":
            warm = {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000}
        else:
            throughput = spec["ProvisionedThroughput"]
            warm = {
                "ReadUnitsPerSecond": throughput["ReadCapacityUnits"],
                "WriteUnitsPerSecond": throughput["WriteCapacityUnits"],
            }
    return {**warm, "Status": "ACTIVE" if status == "ACTIVE" else "UPDATING"}


def _index_warm_throughput(spec: dict[str, Any], index: dict[str, Any]) -> dict[str, Any]:
    if spec["BillingMode"] == "PAY_PER_REQUEST":
        return {"ReadUnitsPerSecond": 12000, "Status": "ACTIVE", "WriteUnitsPerSecond": 4000}
    throughput = index["ProvisionedThroughput"]
    return {
        "ReadUnitsPerSecond": throughput["ReadCapacityUnits"],
        "Status": "ACTIVE",
        "WriteUnitsPerSecond": throughput["WriteCapacityUnits"],
    }
