"""PutItem, GetItem, UpdateItem, DeleteItem."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from headwater.core.errors import AwsError
from headwater.core.expressions import project, read_expressions
from headwater.core.expressions.legacy import Legacy, attributes_to_get, not_in_enum
from headwater.core.expressions.request import check_expression_params
from headwater.core.expressions.syntax import UpdateAction, nested_path_heads
from headwater.core.expressions.updates import WRONG_TYPE, apply_update
from headwater.core.expressions.values import (
    AttributeValue,
    Item,
    invalid,
    sized_item,
    validate_value,
    validation,
)
from headwater.services.base import RequestContext
from headwater.services.dynamodb.constraints import (
    CAPACITY_MODES,
    CONDITIONAL_OPERATORS,
    METRICS_MODES,
)
from headwater.services.dynamodb.schema import TableSchema
from headwater.services.dynamodb.table_specs import check_table_name
from headwater.services.dynamodb.tables import TableCatalog
from headwater.services.dynamodb.vector_indexes import billed_write_units, vector_write_bytes
from headwater.services.dynamodb.writes import (
    MAX_ITEM_BYTES,
    Condition,
    DefinitionsMoved,
    ItemWriter,
    WriteOutcome,
    consumed_capacity,
    index_write_units,
    item_collection_metrics,
    read_units,
    retried_on_new_definitions,
    write_units,
)
from headwater.store.tables import ItemKey
from headwater.store.tables.codec import decode_item

PUT_RETURN_VALUES = ("NONE", "ALL_OLD")
#: PutItem parameters that carry no condition or expression.
PLAIN_PUT_PARAMS = frozenset(
    ("TableName", "Item", "ReturnValues", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics")
)
UPDATE_RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
#: The writes' non-expression parameters, in the order AWS names them.
WRITE_LEGACY_PARAMS = ("AttributeUpdates", "Expected", "ConditionalOperator")
CONDITION = ("ConditionExpression",)
UPDATE_EXPRESSIONS = ("UpdateExpression", "ConditionExpression")


#: The enum members of the single-item requests that AWS's request model checks before
#: anything else (and before looking the table up), each with its value set in the order
#: AWS's message lists it. The first value outside its set is the one reported.
ITEM_REQUEST_ENUMS = (
    ("ReturnValues", "returnValues", ("ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW")),
    ("ReturnConsumedCapacity", "returnConsumedCapacity", CAPACITY_MODES),
    ("ReturnItemCollectionMetrics", "returnItemCollectionMetrics", METRICS_MODES),
    (
        "ReturnValuesOnConditionCheckFailure",
        "returnValuesOnConditionCheckFailure",
        ("ALL_OLD", "NONE"),
    ),
    ("ConditionalOperator", "conditionalOperator", CONDITIONAL_OPERATORS),
)


def check_request_enums(params: Mapping[str, Any]) -> None:
    for member, where, allowed in ITEM_REQUEST_ENUMS:
        value = params.get(member)
        if value is not None and value not in allowed:
            raise not_in_enum(value, where, allowed)


def check_return_values(value: str | None, allowed: tuple[str, ...]) -> str:
    """The request's ReturnValues, one its operation allows (``check_request_enums`` has
    already refused values outside the enum)."""
    if value is None:
        return "NONE"
    if value not in allowed:
        raise validation("ReturnValues can only be ALL_OLD or NONE")
    return value


def write_condition(
    params: Mapping[str, Any], extra: tuple[str, ...] = ()
) -> tuple[Condition | None, Any]:
    """The request's condition (expression or legacy ``Expected``) and its expressions."""
    # ConditionalOperator is a non-expression parameter too: AWS names it in the mixing
    # message, after the others.
    expressions = read_expressions(params, (*extra, "ConditionExpression"), WRITE_LEGACY_PARAMS)
    parsed = expressions.get("ConditionExpression")
    if parsed is not None:
        return (parsed.root, expressions.values), expressions
    expected = params.get("Expected")
    operator = params.get("ConditionalOperator")
    if operator is not None:
        # Joining fewer than two conditions is refused before the conditions are read.
        if not expected:
            raise validation("ConditionalOperator cannot be used without Filter or Expected")
        if len(expected) < 2:
            raise validation(
                "ConditionalOperator can only be used when Filter or Expected has two or more "
                "elements"
            )
    if expected is not None:
        legacy = Legacy()
        tree = legacy.expected(expected, operator)
        return (tree, legacy.values), expressions
    return None, expressions


def projection_of(params: Mapping[str, Any], expressions: Any) -> list[Any] | None:
    parsed = expressions.get("ProjectionExpression")
    if parsed is not None:
        return list(parsed.root)
    names = params.get("AttributesToGet")
    if names is not None:
        return list(attributes_to_get(names))
    return None


# ---- each request's checks that need no table ----
#
# AWS checks a request on its own before it looks its table up: a bad request to a missing
# table answers the request's error, not ResourceNotFoundException. Only run on that error
# path, in the order the checked path meets the same checks.


def _key_values(key: Any) -> None:
    if isinstance(key, dict):
        for value in key.values():
            validate_value(value)


def put_values_first(params: Mapping[str, Any]) -> None:
    """PutItem's checks that AWS makes before ReturnValues and the condition: the mixed
    parameters, then the item's values."""
    check_expression_params(params, CONDITION, WRITE_LEGACY_PARAMS)
    sized_item(params["Item"])


def key_values_first(params: Mapping[str, Any], expression_params: tuple[str, ...]) -> None:
    """As ``put_values_first``, for a request naming its item by ``Key``; an update's
    AttributeUpdates are checked next, still before its condition."""
    check_expression_params(params, expression_params, WRITE_LEGACY_PARAMS)
    _key_values(params["Key"])
    if params.get("AttributeUpdates") is not None and params.get("UpdateExpression") is None:
        Legacy().attribute_updates(params["AttributeUpdates"])


def put_request_alone(params: Mapping[str, Any]) -> None:
    put_values_first(params)
    check_return_values(params.get("ReturnValues"), PUT_RETURN_VALUES)
    write_condition(params)


def get_request_alone(params: Mapping[str, Any]) -> None:
    check_expression_params(params, ("ProjectionExpression",), ("AttributesToGet",))
    _key_values(params["Key"])
    projection_of(params, read_expressions(params, ("ProjectionExpression",), ("AttributesToGet",)))


def delete_request_alone(params: Mapping[str, Any]) -> None:
    key_values_first(params, CONDITION)
    check_return_values(params.get("ReturnValues"), PUT_RETURN_VALUES)
    write_condition(params)


def update_request_alone(params: Mapping[str, Any]) -> None:
    key_values_first(params, UPDATE_EXPRESSIONS)
    write_condition(params, ("UpdateExpression",))


class ItemOperations:
    def __init__(self, catalog: TableCatalog, writer: ItemWriter) -> None:
        self.catalog = catalog
        self.writer = writer
        self.store = writer.store
        self.feed = writer.feed

    def _schema(
        self,
        ctx: RequestContext,
        params: Mapping[str, Any],
        request_alone: Callable[[Mapping[str, Any]], None],
    ) -> TableSchema:
        """The request's table; if it is missing, a malformed name's and then
        ``request_alone``'s errors come first."""
        try:
            return self.catalog.schema(ctx, params["TableName"])
        except AwsError as error:
            if error.code == "ResourceNotFoundException":
                check_table_name(params["TableName"])
                request_alone(params)
            raise

    # ---- PutItem ----

    def prepare_put(self, table: TableSchema, item: Any) -> tuple[Item, Any, int]:
        """The checked item, its key and its size."""
        checked, size = sized_item(item)
        return checked, table.item_key(checked), size

    def put_item(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        check_request_enums(params)
        cached = self.catalog.cached_schema(ctx, params["TableName"])
        if cached is not None:
            done = self._put_blind_if_current(cached[0], cached[1], params)
            if done is not None:
                return done
        return self._put_checked(params, ctx)

    @retried_on_new_definitions
    def _put_checked(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """PutItem against the table's schema as looked up now, checked in the write."""
        table = self._schema(ctx, params, put_request_alone)
        try:
            returns = check_return_values(params.get("ReturnValues"), PUT_RETURN_VALUES)
            condition, _ = write_condition(params)
        except AwsError:
            put_values_first(params)  # only on this error path: those errors come first
            raise
        item, key, size = self.prepare_put(table, params["Item"])
        if size > MAX_ITEM_BYTES:  # a request check: before the condition reads the item
            raise validation("Item size has exceeded the maximum allowed size")
        if returns == "NONE" and condition is None and self._can_put_blind(table, params):
            if not self.writer.put_blind(table, key, item, size):
                raise DefinitionsMoved
            return self._put_blind_result(table, params, item)
        read_old = (
            returns == "ALL_OLD"
            or self.writer.needs_old(table)
            or params.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES")  # the larger item
        )
        with self.store.db.transaction():
            outcome = self.writer.write(
                table,
                key,
                lambda old: item,
                condition=condition,
                return_old_on_failure=params.get("ReturnValuesOnConditionCheckFailure")
                == "ALL_OLD",
                read_old=read_old,
            )
        if outcome.stream_arn is not None:
            self.feed.notify((outcome.stream_arn,))
        result: dict[str, Any] = {}
        if returns == "ALL_OLD" and outcome.old is not None:
            result["Attributes"] = outcome.old
        if params.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES"):
            self._capacity(result, table, params, outcome.old, item)
        metrics = item_collection_metrics(table, params.get("ReturnItemCollectionMetrics"), item)
        if metrics is not None:
            result["ItemCollectionMetrics"] = metrics
        return result

    def _put_blind_if_current(
        self, table: TableSchema, tables_version: int, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A blind PutItem against a cached schema whose definitions version the write
        itself checks: one statement instead of a version check and a write. ``None``
        when the checked path must run instead: the write needs the old item, the request
        fails (the checked path raises it against the current schema), or the table
        definitions moved (nothing was written)."""
        if params.get("ReturnValues", "NONE") != "NONE" or not self._can_put_blind(table, params):
            return None
        try:
            # Without any expression or legacy parameter there is nothing to read.
            if not params.keys() <= PLAIN_PUT_PARAMS and write_condition(params)[0] is not None:
                return None
            item, key, size = self.prepare_put(table, params["Item"])
            if not self.writer.put_blind(table, key, item, size, tables_version=tables_version):
                return None
        except AwsError:
            return None
        return self._put_blind_result(table, params, item)

    def _can_put_blind(self, table: TableSchema, params: Mapping[str, Any]) -> bool:
        """Whether a put (no condition, no return values) may skip the old item. Not one
        asking for ConsumedCapacity: AWS reckons a put's units from the larger of the old
        and the new item, so that put reads the old one."""
        return self.writer.can_put_blind(table) and params.get("ReturnConsumedCapacity") not in (
            "TOTAL",
            "INDEXES",
        )

    def _can_update_unchecked(self, table: TableSchema, params: Mapping[str, Any]) -> bool:
        """Whether an update may run as the optimistic read-modify-write: a table whose
        writes need nothing but the item, and no ConsumedCapacity asked of a streamed one."""
        return self.writer.can_put_blind(table) and (
            table.stream_arn is None
            or params.get("ReturnConsumedCapacity") not in ("TOTAL", "INDEXES")
        )

    def _put_blind_result(
        self, table: TableSchema, params: Mapping[str, Any], item: Item
    ) -> dict[str, Any]:
        """After a blind put: readers of the table's stream woken, the response."""
        if table.stream_arn is not None:
            self.feed.notify_stream(table.stream_arn)
        result: dict[str, Any] = {}
        if params.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES"):
            self._capacity(result, table, params, None, item)
        return result

    def _capacity(
        self,
        result: dict[str, Any],
        table: TableSchema,
        params: Mapping[str, Any],
        old: Item | None,
        new: Item | None,
    ) -> None:
        capacity = consumed_capacity(
            table,
            params.get("ReturnConsumedCapacity"),
            write_units(old, new)
            if not table.vector_indexes
            else billed_write_units(table, old, new),
            "write",
            index_write_units(table, old, new),
            by_kind=False,
            vector_bytes=vector_write_bytes(table, old, new) if table.vector_indexes else None,
        )
        if capacity is not None:
            result["ConsumedCapacity"] = capacity

    # ---- GetItem ----

    def get_item(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        check_request_enums(params)
        cached = self.catalog.cached_schema(ctx, params["TableName"])
        if cached is not None:
            # As for PutItem: one statement reads the item and the definitions version
            # the cached schema must still be at; a request that fails, or definitions
            # that moved, take the checked path below.
            table, tables_version = cached
            try:
                paths, key = self._get_request(table, params)
            except AwsError:
                pass
            else:
                with self.store.db.read():
                    current, raw = self.store.get_item_if_current(table.id, key, tables_version)
                if current:
                    return self._got(table, params, paths, raw)
        table = self._schema(ctx, params, get_request_alone)
        paths, key = self._get_request(table, params)
        with self.store.db.read():
            raw = self.store.get_item(table.id, key)
        return self._got(table, params, paths, raw)

    def _get_request(self, table: TableSchema, params: dict[str, Any]) -> tuple[Any, ItemKey]:
        """A GetItem's projection paths (``None``: the whole item) and stored key."""
        try:
            expressions = read_expressions(params, ("ProjectionExpression",), ("AttributesToGet",))
            paths = projection_of(params, expressions)
        except AwsError:
            # AWS reads the key's values before the projection.
            check_expression_params(params, ("ProjectionExpression",), ("AttributesToGet",))
            _key_values(params["Key"])
            raise
        _, key = table.key_of(params["Key"])
        if paths is not None:
            table.check_scalar_key_paths(paths)
        return paths, key

    def _got(
        self, table: TableSchema, params: dict[str, Any], paths: Any, raw: bytes | None
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        size = 0
        if raw is not None:
            item = decode_item(raw)
            size = len(raw)
            result["Item"] = item if paths is None else project(item, paths)
        mode = params.get("ReturnConsumedCapacity")
        if mode in ("TOTAL", "INDEXES"):
            units = read_units(size, bool(params.get("ConsistentRead")))
            result["ConsumedCapacity"] = consumed_capacity(
                table, mode, units, "read", by_kind=False
            )
        return result

    # ---- UpdateItem ----

    def update_item(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        check_request_enums(params)
        cached = self.catalog.cached_schema(ctx, params["TableName"])
        if cached is not None:
            done = self._update_if_unchanged(cached[0], cached[1], params)
            if done is not None:
                return done
        return self._update_checked(params, ctx)

    @retried_on_new_definitions
    def _update_checked(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """UpdateItem in a transaction, against the table's schema as looked up now."""
        table = self._schema(ctx, params, update_request_alone)
        update = _Update.read(table, params)
        with self.store.db.transaction():
            outcome = self.writer.write(
                table,
                update.key,
                update.make_new,
                condition=update.condition,
                return_old_on_failure=params.get("ReturnValuesOnConditionCheckFailure")
                == "ALL_OLD",
                updating=True,
            )
        if outcome.stream_arn is not None:
            self.feed.notify((outcome.stream_arn,))
        return self._update_result(table, params, update, outcome)

    def _update_if_unchanged(
        self, table: TableSchema, tables_version: int, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        """An UpdateItem against a cached schema as an optimistic read-modify-write: the
        item is read and the new one written only if nothing moved in between, two
        autocommit statements instead of a version check and a four-statement transaction.
        ``None`` when the checked path must run instead: the write needs more than the
        item (indexes), the request fails (the checked path raises it against the current
        schema and item), or the item or the table definitions moved (nothing written)."""
        if not self._can_update_unchecked(table, params):
            return None
        try:
            update = _Update.read(table, params)
            outcome = self.writer.write_if_unchanged(
                table,
                update.key,
                update.make_new,
                condition=update.condition,
                tables_version=tables_version,
                touched=update.touched,
            )
        except AwsError:
            return None
        if outcome is None:
            return None
        if outcome.stream_arn is not None:
            self.feed.notify_stream(outcome.stream_arn)
        return self._update_result(table, params, update, outcome)

    def _update_result(
        self, table: TableSchema, params: dict[str, Any], update: _Update, outcome: WriteOutcome
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if update.returns != "NONE":
            paths = [a.path for a in update.actions]
            attributes = _returned(update.returns, outcome.old, outcome.new, paths)
            if attributes:
                result["Attributes"] = attributes
        if params.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES"):
            self._capacity(result, table, params, outcome.old, outcome.new)
        metrics = item_collection_metrics(
            table, params.get("ReturnItemCollectionMetrics"), outcome.new or update.key_item
        )
        if metrics is not None:
            result["ItemCollectionMetrics"] = metrics
        return result

    # ---- DeleteItem ----

    @retried_on_new_definitions
    def delete_item(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        check_request_enums(params)
        table = self._schema(ctx, params, delete_request_alone)
        try:
            returns = check_return_values(params.get("ReturnValues"), PUT_RETURN_VALUES)
            condition, _ = write_condition(params)
        except AwsError:
            key_values_first(params, CONDITION)  # only on this error path
            raise
        key_item, key = table.key_of(params["Key"])
        with self.store.db.transaction():
            outcome = self.writer.write(
                table,
                key,
                lambda old: None,
                condition=condition,
                return_old_on_failure=params.get("ReturnValuesOnConditionCheckFailure")
                == "ALL_OLD",
            )
        if outcome.stream_arn is not None:
            self.feed.notify((outcome.stream_arn,))
        result: dict[str, Any] = {}
        if returns == "ALL_OLD" and outcome.old is not None:
            result["Attributes"] = outcome.old
        if params.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES"):
            self._capacity(result, table, params, outcome.old, None)
        metrics = item_collection_metrics(
            table, params.get("ReturnItemCollectionMetrics"), outcome.old or key_item
        )
        if metrics is not None:
            result["ItemCollectionMetrics"] = metrics
        return result


def _returned(returns: str, old: Item | None, new: Item | None, paths: list[Any]) -> Item | None:
    if returns == "ALL_OLD":
        return old
    if returns == "ALL_NEW":
        return new
    if returns == "UPDATED_OLD":
        return project(old, paths) if old is not None else None
    if returns == "UPDATED_NEW":
        return project(new, paths) if new is not None else None
    return None


class _Update(NamedTuple):
    """An UpdateItem request, checked: its key, condition and update actions. A named
    tuple: made on every UpdateItem, and a frozen dataclass is several times dearer."""

    returns: str
    condition: Condition | None
    key_item: Item
    key: ItemKey
    actions: Sequence[UpdateAction]
    values: Mapping[str, AttributeValue]
    #: The actions are the legacy AttributeUpdates, which AWS words its errors for.
    legacy: bool

    @classmethod
    def read(cls, table: TableSchema, params: Mapping[str, Any]) -> _Update:
        returns = check_return_values(params.get("ReturnValues"), UPDATE_RETURN_VALUES)
        try:
            condition, expressions = write_condition(params, ("UpdateExpression",))
        except AwsError:
            key_values_first(params, UPDATE_EXPRESSIONS)  # only on this error path
            raise
        try:
            key_item, key = table.key_of(params["Key"])
        except AwsError:
            key_values_first(params, UPDATE_EXPRESSIONS)  # AttributeUpdates before the schema
            raise
        parsed = expressions.get("UpdateExpression")
        actions: Sequence[UpdateAction]
        values: Mapping[str, AttributeValue]
        legacy = False
        if parsed is not None:
            actions = parsed.root
            values = expressions.values
        elif params.get("AttributeUpdates") is not None:
            translated = Legacy()
            actions = translated.attribute_updates(params["AttributeUpdates"])
            values = translated.values
            legacy = True
        else:
            actions, values = (), {}
        for action in actions:
            if action.path[0] in table.keys.names:
                raise invalid(
                    f"Cannot update attribute {action.path[0]}. This attribute is part of the key"
                )
        table.check_scalar_keys(nested_path_heads(actions))
        return cls(returns, condition, key_item, key, actions, values, legacy)

    @property
    def touched(self) -> set[str]:
        """The top-level attributes the update may change."""
        return {str(action.path[0]) for action in self.actions}

    def make_new(self, old: Item | None) -> Item:
        """The item after the update: ``old``'s, or a new one holding just the key."""
        try:
            return apply_update(
                old if old is not None else dict(self.key_item), self.actions, self.values
            )
        except AwsError as error:
            # An ADD or DELETE whose value's type is not the stored one's.
            if self.legacy and error.message == WRONG_TYPE:
                raise invalid_legacy_type() from None
            raise


def invalid_legacy_type() -> AwsError:
    return validation("Type mismatch for attribute to update")
