"""BatchGetItem and BatchWriteItem.

A BatchWriteItem runs in one transaction here: every request is checked before anything
is written, and nothing is ever left unprocessed (``UnprocessedItems`` is ``{}``) since
there is no throughput to exceed. BatchGetItem returns what does not fit in 16 MB as
``UnprocessedKeys``, as AWS does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from headwater.core.errors import AwsError, validation_error
from headwater.core.expressions import project, read_expressions
from headwater.core.expressions.values import (
    Item,
    sized_item,
    validate_value,
    validation,
)
from headwater.services.base import RequestContext
from headwater.services.dynamodb.constraints import check_batch, java_shown_writes
from headwater.services.dynamodb.items import projection_of
from headwater.services.dynamodb.schema import TableSchema, key_mismatch
from headwater.services.dynamodb.tables import TableCatalog
from headwater.services.dynamodb.vector_indexes import billed_write_units, vector_write_bytes
from headwater.services.dynamodb.writes import (
    MAX_ITEM_BYTES,
    ItemWriter,
    consumed_capacity,
    index_write_units,
    item_collection_metrics,
    read_units,
    retried_on_new_definitions,
    write_units,
)
from headwater.store.tables import ItemKey
from headwater.store.tables.codec import decode_item

MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
KEY_SCHEMA_ERRORS = re.compile(
    "^One or more parameter values were invalid: (Missing the key|Type mismatch for key) "
)


def duplicates() -> AwsError:
    return validation("Provided list of item keys contains duplicates")


class BatchOperations:
    def __init__(self, catalog: TableCatalog, writer: ItemWriter) -> None:
        self.catalog = catalog
        self.writer = writer
        self.store = writer.store

    def batch_get(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        check_batch(params, writes=False)
        requests = params["RequestItems"]
        for name, request in requests.items():
            if request.get("AttributesToGet") == []:
                raise validation_error(
                    "[]",
                    f"requestItems.{name}.member.attributesToGet",
                    "Member must have length greater than or equal to 1",
                )
        if sum(len(r.get("Keys", [])) for r in requests.values()) > MAX_BATCH_GET:
            raise validation("Too many items requested for the BatchGetItem call")
        # AWS checks every table's request, keys and duplicates included, before it looks
        # any table up.
        projections = {}
        for name, request in requests.items():
            expressions = read_expressions(request, ("ProjectionExpression",), ("AttributesToGet",))
            projections[name] = projection_of(request, expressions)
        if any(r.get("ProjectionExpression") is not None for r in requests.values()) and any(
            r.get("AttributesToGet") is not None for r in requests.values()
        ):
            # AWS holds the whole request to one style, not each table's entry alone (a
            # conformance suite, against live AWS).
            raise validation(
                "Can not use both expression and non-expression parameters in the same request: "
                "Non-expression parameters: {AttributesToGet} "
                "Expression parameters: {ProjectionExpression}"
            )
        for request in requests.values():
            seen = set()
            for key in request["Keys"]:
                written = _key_identity(key)
                if written in seen:
                    raise duplicates()
                seen.add(written)
        plans = []
        for name, request in requests.items():
            table = self.catalog.schema(ctx, name)
            keys = []
            for key in request["Keys"]:
                _, stored = table.key_of(key)
                keys.append((key, stored))
            paths = projections[name]
            if paths is not None:
                table.check_scalar_key_paths(paths)
            plans.append((name, table, request, paths, keys))
        responses: dict[str, list[Any]] = {}
        unprocessed: dict[str, Any] = {}
        capacities = []
        total = 0
        with self.store.db.read():
            for name, table, request, paths, keys in plans:
                found = responses.setdefault(name, [])
                units = 0.0
                consistent = bool(request.get("ConsistentRead"))
                for position, (_key, stored) in enumerate(keys):
                    if total > MAX_RESPONSE_BYTES:
                        rest = {k: v for k, v in request.items() if k != "Keys"}
                        unprocessed[name] = {**rest, "Keys": [k for k, _ in keys[position:]]}
                        break
                    raw = self.store.get_item(table.id, stored)
                    # Each key is read as a GetItem: its size rounded up on its own, a missing
                    # item charged the least a read costs.
                    units += read_units(0 if raw is None else len(raw), consistent)
                    if raw is None:
                        continue
                    total += len(raw)
                    item = decode_item(raw)
                    found.append(item if paths is None else project(item, paths))
                capacity = consumed_capacity(
                    table,
                    params.get("ReturnConsumedCapacity"),
                    units,
                    "read",
                    by_kind=False,
                )
                if capacity is not None:
                    capacities.append(capacity)
        result: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": unprocessed}
        if capacities:
            result["ConsumedCapacity"] = capacities
        return result

    @retried_on_new_definitions
    def batch_write(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        check_batch(params, writes=True)
        requests = params["RequestItems"]
        if any(not 1 <= len(entries) <= MAX_BATCH_WRITE for entries in requests.values()):
            raise validation_error(
                java_shown_writes(requests),
                "requestItems",
                "Map value must satisfy constraint: [Member must have length less than or equal "
                f"to {MAX_BATCH_WRITE}, Member must have length greater than or equal to 1]",
            )
        if sum(len(r) for r in requests.values()) > MAX_BATCH_WRITE:
            raise validation("Too many items requested for the BatchWriteItem call")
        # AWS checks every request and its values before it looks any table up.
        checked: dict[str, list[Item]] = {}
        for name, entries in requests.items():
            if any(
                (e.get("PutRequest") is None) == (e.get("DeleteRequest") is None) for e in entries
            ):
                raise validation(
                    "Supplied AttributeValue has more than one datatypes set, must contain "
                    "exactly one of the supported datatypes"
                )
            checked[name] = [_checked_request(entry) for entry in entries]
        # (table, stored key, the new item or None to delete, the request's key attributes)
        work: list[tuple[TableSchema, ItemKey, Item | None, Item]] = []
        for name, entries in requests.items():
            table = self.catalog.schema(ctx, name)
            seen = set()
            for entry, item in zip(entries, checked[name], strict=True):
                if entry.get("PutRequest") is not None:
                    try:
                        stored = table.item_key(item)
                    except AwsError as error:
                        # A missing key or a key of the wrong type is PutItem's "Missing the
                        # key"/"Type mismatch for key"; a batch answers it as a key mismatch.
                        if KEY_SCHEMA_ERRORS.search(error.message):
                            raise key_mismatch() from None
                        raise
                    work.append((table, stored, item, item))
                else:
                    key_item, stored = table.key_of(entry["DeleteRequest"]["Key"])
                    work.append((table, stored, None, key_item))
                if stored in seen:
                    raise duplicates()
                seen.add(stored)
        streams = []
        capacity: dict[str, float] = {}
        index_capacity: dict[str, dict[str, float]] = {}
        vector_capacity: dict[str, dict[str, float]] = {}
        mode = params.get("ReturnConsumedCapacity")
        charged = mode in ("TOTAL", "INDEXES")
        metrics: dict[str, list[Any]] = {}
        with self.store.db.transaction():
            for table, stored, replacement, key_item in work:
                outcome = self.writer.write(
                    table,
                    stored,
                    _replace_with(replacement),
                    # the units of a put are reckoned from the item it replaces too
                    read_old=replacement is None or charged or self.writer.needs_old(table),
                )
                streams.append(outcome.stream_arn)
                capacity[table.name] = capacity.get(table.name, 0.0) + (
                    write_units(outcome.old, outcome.new)
                    if not table.vector_indexes
                    else billed_write_units(table, outcome.old, outcome.new)
                )
                if charged:
                    by_index = index_capacity.setdefault(table.name, {})
                    for name, units in index_write_units(table, outcome.old, outcome.new).items():
                        by_index[name] = by_index.get(name, 0.0) + units
                if mode == "INDEXES" and table.vector_indexes:
                    # each request's VectorWriteRequestBytes as PutItem/DeleteItem would
                    # report it, summed per index as the batch's index units are
                    by_vector = vector_capacity.setdefault(table.name, {})
                    for name, size in vector_write_bytes(table, outcome.old, outcome.new).items():
                        by_vector[name] = by_vector.get(name, 0.0) + size
                collected = item_collection_metrics(
                    table,
                    params.get("ReturnItemCollectionMetrics"),
                    # A delete that found nothing still names its item collection.
                    outcome.new or outcome.old or key_item,
                )
                if collected is not None:
                    metrics.setdefault(table.name, []).append(collected)
        self.writer.feed.notify(streams)
        result: dict[str, Any] = {"UnprocessedItems": {}}
        if charged:
            tables = {t.name: t for t, _, _, _ in work}
            result["ConsumedCapacity"] = [
                consumed_capacity(
                    tables[name],
                    mode,
                    units,
                    "write",
                    index_capacity.get(name),
                    by_kind=False,
                    vector_bytes=vector_capacity.get(name),
                )
                for name, units in capacity.items()
            ]
        if metrics:
            result["ItemCollectionMetrics"] = metrics
        return result


def _replace_with(item: Item | None) -> Callable[[Item | None], Item | None]:
    def replace(old: Item | None) -> Item | None:
        return item

    return replace


def _checked_request(entry: dict[str, Any]) -> Item:
    """A write request's item (put) or key (delete) with its values checked."""
    put = entry.get("PutRequest")
    if put is not None:
        item, size = sized_item(put["Item"])
        if size > MAX_ITEM_BYTES:
            raise validation("Item size has exceeded the maximum allowed size")
        return item
    key = entry["DeleteRequest"]["Key"]
    if not isinstance(key, dict):
        raise key_mismatch()
    return {name: validate_value(value) for name, value in key.items()}


def _key_identity(key: Any) -> tuple[tuple[str, str], ...]:
    """A requested key as a value equal for equal keys (numbers compared as numbers), its
    attribute values checked: duplicates are found before the table is known."""
    if not isinstance(key, dict):
        raise key_mismatch()
    return tuple(
        sorted(
            (name, json.dumps(validate_value(value), sort_keys=True, default=str))
            for name, value in key.items()
        )
    )
