"""Query and Scan: key conditions as index range scans, pages, filters, projections.

``Limit`` counts items read (before the filter, as on AWS), a page stops after 1 MB of
items read, and ``LastEvaluatedKey`` is returned whenever a page stopped for either
reason. Query reads one partition in sort-key order (bytes of S and B, numeric order of
N); Scan reads in partition-hash order, split into token ranges for parallel segments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.expressions import project, read_expressions
from headwater.core.expressions.key_conditions import (
    KeyCondition,
    check_key_operands,
    key_conditions,
)
from headwater.core.expressions.key_order import (
    TOKEN_SPACE,
    encode_key_component,
    encode_key_value,
    escape_component,
    scan_token,
    segment_bounds,
)
from headwater.core.expressions.legacy import Legacy
from headwater.core.expressions.parser import parse
from headwater.core.expressions.syntax import condition_attributes, condition_paths
from headwater.core.expressions.values import (
    AttributeValue,
    Item,
    invalid,
    validate_value,
    validation,
    value_type,
)
from headwater.services.base import RequestContext
from headwater.services.dynamodb.constraints import check_read
from headwater.services.dynamodb.items import projection_of
from headwater.services.dynamodb.schema import (
    IndexSchema,
    KeySchema,
    TableSchema,
    check_key_not_empty,
    key_mismatch,
)
from headwater.services.dynamodb.table_specs import MAX_MULTI_KEY_ATTRIBUTES
from headwater.services.dynamodb.tables import TableCatalog
from headwater.services.dynamodb.writes import consumed_capacity, read_units
from headwater.store.tables import ItemKey, ItemRow, TableStore
from headwater.store.tables.codec import decode_item
from headwater.store.tables.sql import KeyRange

MAX_PAGE_BYTES = 1024 * 1024
INVALID_START = "The provided starting key is invalid"
#: The value errors AWS answers as they are when they come from an ExclusiveStartKey.
NUMBER_ERRORS = re.compile(
    "contains duplicates|number set|numeric value|significant digits|number with magnitude"
)
CHUNK = 128

READ_EXPRESSIONS = ("ProjectionExpression", "FilterExpression", "KeyConditionExpression")

#: How a read's answer shows an item's projected paths: the item API's nested parts
#: (``project``), or PartiQL's columns (services/dynamodb/statements.py).
Projector = Callable[[Item, list[Any]], Item]
READ_LEGACY = (
    "AttributesToGet",
    "QueryFilter",
    "ScanFilter",
    "ConditionalOperator",
    "KeyConditions",
)


@dataclass(frozen=True, slots=True)
class ReadPlan:
    table: TableSchema
    index: IndexSchema | None
    filter: Any  # condition tree or None
    values: Mapping[str, AttributeValue]
    projection: list[Any] | None
    select: str
    limit: int | None


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """What a Query or Scan asks, checked before its table is looked up: AWS refuses a
    bad filter, projection or start key even when the table does not exist."""

    filter: Any  # condition tree or None
    values: Mapping[str, AttributeValue]
    projection: list[Any] | None
    start: Item | None  # ExclusiveStartKey, its values checked


def _read_request(params: Mapping[str, Any], expressions: Any, kind: str) -> ReadRequest:
    filter_tree: Any = None
    values: Mapping[str, AttributeValue] = expressions.values
    parsed = expressions.get("FilterExpression")
    legacy_filter = params.get("QueryFilter" if kind == "Query" else "ScanFilter")
    if parsed is not None:
        filter_tree = parsed.root
    elif legacy_filter is not None:
        legacy = Legacy()
        filter_tree = legacy.filter(legacy_filter, params.get("ConditionalOperator"))
        values = legacy.values
    projection = projection_of(params, expressions)
    return ReadRequest(
        filter_tree, values, projection, _start_values(params.get("ExclusiveStartKey"))
    )


def _start_values(start: Any) -> Item | None:
    """ExclusiveStartKey's values checked as AttributeValues; AWS answers a bad number as
    it is, anything else as an invalid start key."""
    if start is None:
        return None
    checked: Item = {}
    for name, value in start.items():
        try:
            checked[name] = validate_value(value)
        except AwsError as error:
            if NUMBER_ERRORS.search(error.message):
                raise
            raise validation(f"{INVALID_START}: {error.message}") from None
    return checked


def _prefix_end(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))


class ReadOperations:
    def __init__(self, catalog: TableCatalog, store: TableStore) -> None:
        self.catalog = catalog
        self.store = store

    # ---- shared ----

    def _plan(
        self, params: Mapping[str, Any], ctx: RequestContext, request: ReadRequest
    ) -> ReadPlan:
        table = self.catalog.schema(ctx, params["TableName"])
        index = None
        index_name = params.get("IndexName")
        if index_name is not None:
            index = table.indexes.get(index_name)
            if index is None:
                raise validation(f"The table does not have the specified index: {index_name}")
            if index.kind == "GSI" and params.get("ConsistentRead"):
                raise validation("Consistent reads are not supported on global secondary indexes")
        limit = params.get("Limit")
        projection = request.projection
        select = params.get("Select")
        if select is None:
            select = (
                "SPECIFIC_ATTRIBUTES"
                if projection is not None
                else (
                    "ALL_PROJECTED_ATTRIBUTES"
                    if index is not None and index.projection != "ALL"
                    else "ALL_ATTRIBUTES"
                )
            )
        elif select == "SPECIFIC_ATTRIBUTES":
            if projection is None:
                raise validation(
                    "Must specify the AttributesToGet or ProjectionExpression when choosing to "
                    "get SPECIFIC_ATTRIBUTES"
                )
        elif projection is not None:
            which = (
                "ProjectionExpression" if params.get("ProjectionExpression") else "AttributesToGet"
            )
            # AWS names COUNT in words here, the other kinds by their enum value.
            wanted = "only the Count" if select == "COUNT" else select
            raise validation(f"Cannot specify the {which} when choosing to get {wanted}")
        if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
            raise validation(
                "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
            )
        if (
            select == "ALL_ATTRIBUTES"
            and index is not None
            and index.kind == "GSI"
            and index.projection != "ALL"
        ):
            raise invalid(
                f"Select type ALL_ATTRIBUTES is not supported for global secondary index "
                f"{index.name} because its projection type is not ALL"
            )
        if index is not None and index.kind == "GSI" and index.projection != "ALL":
            _check_global_index_holds(table, index, projection, request.filter)
        return ReadPlan(table, index, request.filter, request.values, projection, select, limit)

    def _shape(self, plan: ReadPlan, item: Item, projector: Projector) -> Item:
        index = plan.index
        # A local index fetches from the table what it does not hold when asked for all
        # attributes or named ones; a global one cannot (its items were cut in _page).
        if (
            index is not None
            and index.kind == "LSI"
            and plan.select == "ALL_PROJECTED_ATTRIBUTES"
            and index.projection != "ALL"
        ):
            item = plan.table.index_view(index, item)
        if plan.projection is not None:
            return projector(item, plan.projection)
        return item

    def _page(
        self,
        plan: ReadPlan,
        rows: Iterator[tuple[ItemRow, Item]],
        params: Mapping[str, Any],
        last_key: Any,
        projector: Projector,
    ) -> dict[str, Any]:
        items: list[Item] = []
        scanned = 0
        read = 0
        last: tuple[ItemRow, Item] | None = None
        stopped = False
        # What a global index holds of an item is all its filter and answer see.
        index = plan.index
        cut = index is not None and index.kind == "GSI" and index.projection != "ALL"
        for row, stored in rows:
            scanned += 1
            read += row.size
            item = plan.table.index_view(index, stored) if cut and index else stored
            last = (row, item)
            if plan.filter is None or plan.filter.evaluate(item, plan.values):
                items.append(item)
            if (plan.limit is not None and scanned >= plan.limit) or read >= MAX_PAGE_BYTES:
                stopped = True
                break
        result: dict[str, Any] = {"Count": len(items), "ScannedCount": scanned}
        if plan.select != "COUNT":
            result["Items"] = [self._shape(plan, item, projector) for item in items]
        if stopped and last is not None:
            result["LastEvaluatedKey"] = last_key(last[1])
        capacity = consumed_capacity(
            plan.table,
            params.get("ReturnConsumedCapacity"),
            read_units(read, bool(params.get("ConsistentRead"))),
            "read",
            read_index=None if plan.index is None else plan.index.name,
            by_kind=False,
        )
        if capacity is not None:
            result["ConsumedCapacity"] = capacity
        return result

    def _evaluated_key(self, plan: ReadPlan) -> Any:
        names = list(plan.table.keys.names)
        if plan.index is not None:
            names += [n for n in plan.index.keys.names if n not in names]

        def key_of(item: Item) -> Item:
            return {name: item[name] for name in names}

        return key_of

    def _start(
        self, plan: ReadPlan, start: Item | None, kind: str
    ) -> tuple[ItemKey, ItemKey | None] | None:
        """ExclusiveStartKey (its values checked) as ``(table key, index key)`` (index key
        only for index reads).

        AWS's texts differ by where the key fails: the number of attributes, the read's own
        key schema (a Query's, or an index Scan's), then the table's key.
        """
        if start is None:
            return None
        table = plan.table
        index = plan.index
        checked = start
        names = set(table.keys.names)
        if index is not None:
            names |= set(index.keys.names)
        if len(checked) != len(names):
            if kind == "Scan" and index is None:
                raise validation(f"{INVALID_START}: {key_mismatch().message}")
            raise validation(INVALID_START)
        if kind == "Query" or index is not None:
            read_keys = index.keys if index is not None else table.keys
            for name, key_type in read_keys.typed:
                value = checked.get(name)
                if value is None:
                    raise validation(INVALID_START)
                if value_type(value) != key_type:
                    raise key_mismatch()
                check_key_not_empty(value, name)
        try:
            _, table_key = table.checked_key_of({n: checked.get(n) for n in table.keys.names})
        except AwsError as error:
            raise validation(f"{INVALID_START}: {error.message}") from None
        if index is None:
            return table_key, None
        keys = index.keys
        if keys.multi:
            found = keys.composite_key(checked)
            assert found is not None  # every key attribute was checked above
            pk, sk = found
            return table_key, ItemKey(scan_token(pk), pk, sk)
        pk = encode_key_value(checked[keys.hash_key])
        sk = b"" if keys.range_key is None else encode_key_value(checked[keys.range_key])
        return table_key, ItemKey(scan_token(pk), pk, sk)

    # ---- Query ----

    def query(
        self, params: dict[str, Any], ctx: RequestContext, projector: Projector = project
    ) -> dict[str, Any]:
        check_read(params, "Query")
        try:
            expressions = read_expressions(
                params,
                READ_EXPRESSIONS,
                ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"),
            )
        except AwsError as error:
            if error.message.startswith(UNDEFINED_KEY_CONDITION_VALUE):
                # AWS walks the key condition's clauses in order: an operand of the wrong
                # type in a clause before the undefined value is what it reports.
                parsed = parse(
                    "KeyConditionExpression",
                    params["KeyConditionExpression"],
                    params.get("ExpressionAttributeNames"),
                )
                check_key_operands(parsed.root, params.get("ExpressionAttributeValues"))
            raise
        request = _read_request(params, expressions, "Query")
        asked = _query_conditions(params, expressions)
        plan = self._plan(params, ctx, request)
        keys = plan.index.keys if plan.index is not None else plan.table.keys
        if asked.expressed is None and len(params["KeyConditions"]) > max(len(keys.names), 2):
            raise validation(LEGACY_CONDITION_COUNT)
        if keys.multi:
            pk, bounds = _composite_key_range(asked.conditions(), asked.values, keys)
        else:
            pk, bounds = _key_range(asked.conditions(), asked.values, keys)
        if plan.projection is not None:
            plan.table.check_scalar_key_paths(plan.projection)
        if plan.filter is not None:
            label = "Filter Expression" if expressions.get("FilterExpression") else "QueryFilter"
            _check_filter_keys(plan.filter, keys, label)
            plan.table.check_scalar_key_paths(condition_paths(plan.filter))
        token = scan_token(pk)
        forward = params.get("ScanIndexForward", True) is not False
        start = self._start(plan, request.start, "Query")
        if start is not None:
            read_start = start[1] if start[1] is not None else start[0]
            if bounds == KeyRange():
                if read_start.pk != pk:
                    raise validation(
                        "The provided starting key is outside query boundaries based on "
                        "provided conditions"
                    )
            else:
                if not _in_range(bounds, read_start.sk):
                    raise validation(
                        "The provided starting key does not match the range key predicate"
                    )
                if read_start.pk != pk:
                    raise validation("The query can return at most one row and cannot be restarted")
        with self.store.db.read():
            rows = list(self._query_rows(plan, token, pk, bounds, start=start, forward=forward))
        return self._page(plan, iter(rows), params, self._evaluated_key(plan), projector)

    def _query_rows(
        self,
        plan: ReadPlan,
        token: int,
        pk: bytes,
        bounds: KeyRange,
        *,
        start: tuple[ItemKey, ItemKey | None] | None,
        forward: bool,
    ) -> Iterator[tuple[ItemRow, Item]]:
        table_id = plan.table.id
        index = plan.index
        if index is None:
            first = bounds if start is None else _after(bounds, start[0].sk, forward)
            return _paged(
                lambda after, limit: self.store.query_items(
                    table_id, token, pk, after, forward=forward, limit=limit
                ),
                lambda row: row,
                lambda row: _after(bounds, row.key.sk, forward),
                first,
                plan.limit,
            )
        index_start = None
        if start is not None:
            assert start[1] is not None
            index_start = (start[1].sk, start[0])
        return _paged(
            lambda after, limit: self.store.query_index(
                table_id, index.name, token, pk, bounds, after=after, forward=forward, limit=limit
            ),
            lambda found: found[1],
            lambda found: (found[0], found[1].key),
            index_start,
            plan.limit,
        )

    # ---- Scan ----

    def scan(
        self, params: dict[str, Any], ctx: RequestContext, projector: Projector = project
    ) -> dict[str, Any]:
        check_read(params, "Scan")
        expressions = read_expressions(
            params,
            ("ProjectionExpression", "FilterExpression"),
            ("AttributesToGet", "ScanFilter", "ConditionalOperator"),
        )
        request = _read_request(params, expressions, "Scan")
        segment, total = params.get("Segment"), params.get("TotalSegments")
        if segment is not None and total is None:
            raise validation(
                "The TotalSegments parameter is required but was not present in the request "
                "when Segment parameter is present"
            )
        if total is not None and segment is None:
            raise validation(
                "The Segment parameter is required but was not present in the request when "
                "parameter TotalSegments is present"
            )
        low, high = 0, TOKEN_SPACE
        if total is not None:
            if segment >= total:
                raise validation(
                    "The Segment parameter is zero-based and must be less than parameter "
                    f"TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
                )
            low, high = segment_bounds(int(segment or 0), total)
        plan = self._plan(params, ctx, request)
        start = self._start(plan, request.start, "Scan")
        if start is not None and total is not None and total > 1:
            # A parallel scan resumes only from a key of its own segment.
            read_start = start[1] if start[1] is not None else start[0]
            if not low <= read_start.token < high:
                raise validation(
                    f"{INVALID_START}: Invalid ExclusiveStartKey. Please use ExclusiveStartKey "
                    f"with correct Segment. TotalSegments: {total} Segment: {segment}"
                )
        if plan.projection is not None:
            plan.table.check_scalar_key_paths(plan.projection)
        if plan.filter is not None:
            plan.table.check_scalar_key_paths(condition_paths(plan.filter))
        with self.store.db.read():
            rows = list(self._scan_rows(plan, low, high, start))
        return self._page(plan, iter(rows), params, self._evaluated_key(plan), projector)

    def _scan_rows(
        self, plan: ReadPlan, low: int, high: int, start: tuple[ItemKey, ItemKey | None] | None
    ) -> Iterator[tuple[ItemRow, Item]]:
        table_id = plan.table.id
        index = plan.index
        if index is None:
            return _paged(
                lambda after, limit: self.store.scan_items(table_id, low, high, after, limit),
                lambda row: row,
                lambda row: row.key,
                None if start is None else start[0],
                plan.limit,
            )
        index_start = None
        if start is not None:
            assert start[1] is not None
            index_start = (start[1], start[0])
        return _paged(
            lambda after, limit: self.store.scan_index(
                table_id, index.name, low, high, after=after, limit=limit
            ),
            lambda found: found[1],
            lambda found: (found[0], found[1].key),
            index_start,
            plan.limit,
        )


def _check_global_index_holds(
    table: TableSchema, index: IndexSchema, projection: list[Any] | None, filter_tree: Any
) -> None:
    """A global index cannot fetch from its table: AWS refuses a projection or a filter
    that names an attribute the index does not project."""
    held = table.index_attributes(index)
    if projection is not None:
        # in the order the projection names them (AWS, through PartiQL's SELECT list)
        missing = list(dict.fromkeys(str(p[0]) for p in projection if str(p[0]) not in held))
        if missing:
            raise invalid(
                f"Global secondary index {index.name} does not project [{', '.join(missing)}]"
            )
    if filter_tree is not None:
        missing = sorted({str(path[0]) for path in condition_paths(filter_tree)} - held)
        if missing:
            raise invalid(
                f"Secondary index {index.name} does not project one or more filter attributes: "
                f"[{', '.join(missing)}]"
            )


def _check_filter_keys(filter_tree: Any, keys: KeySchema, label: str) -> None:
    """A Query's filter may not name the queried key attributes (the index's, on an index):
    those belong in the key condition."""
    named = condition_attributes(filter_tree)
    for name in keys.names:
        if name in named:
            raise validation(
                f"{label} can only contain non-primary key attributes: "
                f"Primary key attribute: {name}"
            )


def _paged(
    fetch: Callable[[Any, int], list[Any]],
    row_of: Callable[[Any], ItemRow],
    position_after: Callable[[Any], Any],
    position: Any,
    budget: int | None,
) -> Iterator[tuple[ItemRow, Item]]:
    """Rows from ``fetch(position, chunk)`` in chunks, until ``budget`` rows or 1 MB."""
    read = 0
    while True:
        chunk = min(CHUNK, budget) if budget is not None else CHUNK
        found = fetch(position, chunk)
        for entry in found:
            row = row_of(entry)
            read += row.size
            yield row, decode_item(row.item)
        if len(found) < chunk or read >= MAX_PAGE_BYTES:
            return
        if budget is not None:
            budget -= len(found)
            if budget <= 0:
                return
        position = position_after(found[-1])


def _in_range(bounds: KeyRange, sk: bytes) -> bool:
    if bounds.low is not None and (
        sk < bounds.low or (sk == bounds.low and not bounds.low_inclusive)
    ):
        return False
    return bounds.high is None or sk < bounds.high or (sk == bounds.high and bounds.high_inclusive)


def _after(bounds: KeyRange, sk: bytes, forward: bool) -> KeyRange:
    if forward:
        return KeyRange(sk, False, bounds.high, bounds.high_inclusive)
    return KeyRange(bounds.low, bounds.low_inclusive, sk, False)


@dataclass(frozen=True, slots=True)
class QueryConditions:
    """A KeyConditionExpression's conditions, or legacy KeyConditions as a condition tree
    (whether a key range can serve them is known only with the table)."""

    expressed: list[KeyCondition] | None
    legacy: Any
    values: Mapping[str, AttributeValue]

    def conditions(self) -> list[KeyCondition]:
        if self.expressed is not None:
            return self.expressed
        return key_conditions(self.legacy, legacy=True)


UNDEFINED_KEY_CONDITION_VALUE = (
    "Invalid KeyConditionExpression: An expression attribute value used in expression is not "
    "defined"
)


def _query_conditions(params: Mapping[str, Any], expressions: Any) -> QueryConditions:
    """A Query's key conditions, checked as far as AWS checks them before the table."""
    parsed = expressions.get("KeyConditionExpression")
    if parsed is not None:
        check_key_operands(parsed.root, expressions.values)
        conditions = key_conditions(parsed.root)
        if not conditions:
            raise validation("Conditions can be of length 1 or 2 only")
        # More conditions than the key has attributes is found with the table.
        return QueryConditions(conditions, None, expressions.values)
    given = params.get("KeyConditions")
    if given is None:
        raise validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified "
            "in the request."
        )
    legacy = Legacy()
    tree = legacy.filter(given, None) if given else None
    # An index's key may have up to eight attributes (four HASH, four RANGE): more than two
    # conditions on an index are counted against its key, with the table.
    most = 2 if params.get("IndexName") is None else 2 * MAX_MULTI_KEY_ATTRIBUTES
    if not 1 <= len(given) <= most:
        raise validation(LEGACY_CONDITION_COUNT)
    return QueryConditions(None, tree, legacy.values)


LEGACY_CONDITION_COUNT = "Conditions can be of length 1 or 2 only"


def _key_range(
    conditions: list[KeyCondition], values: Mapping[str, AttributeValue], keys: KeySchema
) -> tuple[bytes, KeyRange]:
    """The partition bytes and the sort-key byte range of a Query's key conditions."""
    key_count = len(keys.names)
    if len(conditions) > max(key_count, 2):
        # AWS (eu-west-2, 2026, a conformance suite) words an expression's extra condition
        # against the queried key; legacy KeyConditions answer 'Conditions can be of
        # length 1 or 2 only' before the table.
        raise validation(
            f"The number of query conditions ({len(conditions)}) exceeds the number of key "
            f"attributes defined in the schema ({key_count})"
        )
    by_name = {c.attribute: c for c in conditions}
    hash_condition = by_name.get(keys.hash_key)
    if hash_condition is None:
        raise validation(f"Query condition missed key schema element: {keys.hash_key}")
    for name in by_name:
        if name not in keys.names:
            raise validation(
                f"Query condition missed key schema element: {keys.range_key or keys.hash_key}"
            )
    if hash_condition.operator != "=":
        raise validation("Query key condition not supported")
    hash_value = values[hash_condition.operands[0].name]
    if value_type(hash_value) != keys.hash_type:
        raise invalid("Condition parameter type does not match schema type")
    pk = encode_key_value(hash_value)
    range_condition = by_name.get(keys.range_key) if keys.range_key else None
    if range_condition is None:
        return pk, KeyRange()
    operands = [values[o.name] for o in range_condition.operands]
    for operand in operands:
        if value_type(operand) != keys.range_type:
            raise invalid("Condition parameter type does not match schema type")
    encoded = [encode_key_value(o) for o in operands]
    operator = range_condition.operator
    if operator == "=":
        return pk, KeyRange(encoded[0], True, encoded[0], True)
    if operator == "<":
        return pk, KeyRange(high=encoded[0], high_inclusive=False)
    if operator == "<=":
        return pk, KeyRange(high=encoded[0])
    if operator == ">":
        return pk, KeyRange(low=encoded[0], low_inclusive=False)
    if operator == ">=":
        return pk, KeyRange(low=encoded[0])
    if operator == "BETWEEN":
        if encoded[0] > encoded[1]:
            raise _between_bounds_reversed(keys.range_type, operands)
        return pk, KeyRange(encoded[0], True, encoded[1], True)
    if keys.range_type == "N":
        raise validation(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N"
        )
    end = _prefix_end(encoded[0])
    return pk, KeyRange(encoded[0], True, end, False) if end is not None else KeyRange(encoded[0])


def _composite_key_range(
    conditions: list[KeyCondition], values: Mapping[str, AttributeValue], keys: KeySchema
) -> tuple[bytes, KeyRange]:
    """The partition bytes and sort byte range of a Query on a multi-attribute key: an
    equality on every HASH attribute, and on RANGE attributes left to right with no gap,
    each an equality but the last, which may be any key condition."""
    key_count = len(keys.names)
    if len(conditions) > key_count:
        raise validation(
            f"The number of query conditions ({len(conditions)}) exceeds the number of key "
            f"attributes defined in the schema ({key_count})"
        )
    by_name = {c.attribute: c for c in conditions}
    for name, _ in keys.hash_parts:
        if name not in by_name:
            raise validation(f"Query condition missed key schema element: {name}")
    for name in by_name:
        if name not in keys.names:
            first = keys.range_parts[0][0] if keys.range_parts else keys.hash_key
            raise validation(f"Query condition missed key schema element: {first}")
    pk = b""
    for name, kind in keys.hash_parts:
        condition = by_name[name]
        if condition.operator != "=":
            raise validation("Query key condition not supported")
        value = values[condition.operands[0].name]
        if value_type(value) != kind:
            raise invalid("Condition parameter type does not match schema type")
        pk += encode_key_component(value)
    ranges = [name for name, _ in keys.range_parts]
    named = [i for i, name in enumerate(ranges) if name in by_name]
    if named:
        last = named[-1]
        unequal = [n for n in ranges[:last] if n not in by_name or by_name[n].operator != "="]
        if unequal:
            raise validation(
                f"RANGE key attributes {', '.join(unequal)} must have equality conditions "
                f"specified in the query because a condition is present on key attribute "
                f"{ranges[last]}"
            )
    prefix = b""
    for name, kind in keys.range_parts:
        if name not in by_name:
            break
        condition = by_name[name]
        operands = [values[o.name] for o in condition.operands]
        for operand in operands:
            if value_type(operand) != kind:
                raise invalid("Condition parameter type does not match schema type")
        if condition.operator == "=":
            prefix += encode_key_component(operands[0])
            continue
        return pk, _last_range(prefix, condition.operator, operands, kind)
    if not prefix:
        return pk, KeyRange()
    return pk, KeyRange(prefix, True, _prefix_end(prefix), False)


def _last_range(
    prefix: bytes, operator: str, operands: list[AttributeValue], kind: str
) -> KeyRange:
    """The sort bytes whose equal attributes are ``prefix`` and whose next attribute meets
    ``operator``: components are self-delimiting, so ``prefix + component`` and the bytes
    past everything starting with it bound each comparison."""
    low = prefix or None
    high = _prefix_end(prefix) if prefix else None
    encoded = [prefix + encode_key_component(o) for o in operands]
    if operator == "<":
        return KeyRange(low, True, encoded[0], False)
    if operator == "<=":
        return KeyRange(low, True, _prefix_end(encoded[0]), False)
    if operator == ">":
        return KeyRange(_prefix_end(encoded[0]), True, high, False)
    if operator == ">=":
        return KeyRange(encoded[0], True, high, False)
    if operator == "BETWEEN":
        if encoded[0] > encoded[1]:
            raise _between_bounds_reversed(kind, operands)
        return KeyRange(encoded[0], True, _prefix_end(encoded[1]), False)
    if kind == "N":
        raise validation(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N"
        )
    ((_, inner),) = operands[0].items()
    raw = inner.encode("utf-8", "surrogatepass") if kind == "S" else bytes(inner)
    start = prefix + escape_component(raw)
    return KeyRange(start or None, True, _prefix_end(start) if start else None, False)


def _shown(value: AttributeValue) -> Any:
    ((_, inner),) = value.items()
    return inner


def _between_bounds_reversed(kind: str | None, operands: list[AttributeValue]) -> AwsError:
    """AWS's refusal of a key condition ``BETWEEN`` whose lower bound sorts above its upper."""
    return validation(
        "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
        "greater than or equal to lower bound; lower bound operand: AttributeValue: "
        f"{{{kind}:{_shown(operands[0])}}}, upper bound operand: AttributeValue: "
        f"{{{kind}:{_shown(operands[1])}}}"
    )
