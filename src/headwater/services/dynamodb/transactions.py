"""TransactWriteItems and TransactGetItems.

A write transaction is one store transaction: every action's condition is evaluated, and
if any fails the whole transaction rolls back (items, index entries and change records)
and ``TransactionCanceledException`` lists a reason per action in request order. Writers
are serialized by the store, so ``TransactionConflictException`` never arises here.
``ClientRequestToken`` makes a retry within 10 minutes a no-op that succeeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson

from headwater.core.errors import AwsError
from headwater.core.expressions import project, read_expressions
from headwater.core.expressions.updates import apply_update
from headwater.core.expressions.values import (
    NESTING_TOO_DEEP,
    Item,
    invalid,
    item_size,
    sized_item,
    sized_value,
    validate_item_values,
    validate_value,
    validation,
)
from headwater.services.base import RequestContext
from headwater.services.dynamodb.items import projection_of
from headwater.services.dynamodb.schema import TableSchema
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
from headwater.store.tables.codec import decode_item, encode_item

TOKEN_SECONDS = 600
ACTION_KINDS = ("ConditionCheck", "Put", "Delete", "Update")


#: The key errors that cancel an action rather than the request.
KEY_SCHEMA_MESSAGES = (
    "The provided key element does not match the schema",
    "One or more parameter values were invalid: Type mismatch for key ",
)
#: A prepared action: ``(kind, table, key, make_new, condition, return_old_on_failure,
#: key_error)``, its key and make_new None when ``key_error`` cancels it.
PreparedAction = tuple[
    str,
    TableSchema,
    ItemKey | None,
    Callable[[Item | None], Item | None] | None,
    Any,
    bool,
    AwsError | None,
]


class TransactionOperations:
    def __init__(self, catalog: TableCatalog, writer: ItemWriter) -> None:
        self.catalog = catalog
        self.writer = writer
        self.store = writer.store

    def _prepare(self, action: dict[str, Any], ctx: RequestContext) -> PreparedAction:
        """``_prepare_action`` with the key error that cancels the action, if any: a key
        off its table's schema cancels the transaction with a ValidationError reason
        instead of failing the request (AWS, captured in four regions by a conformance
        suite); an empty key value is still refused outright."""
        try:
            return (*self._prepare_action(action, ctx), None)
        except AwsError as error:
            if not (
                error.code == "ValidationException"
                and error.message.startswith(KEY_SCHEMA_MESSAGES)
            ):
                raise
            kind = next(k for k in ACTION_KINDS if action.get(k) is not None)
            table = self.catalog.schema(ctx, action[kind]["TableName"])
            return kind, table, None, None, None, False, error

    def _prepare_action(
        self, action: dict[str, Any], ctx: RequestContext
    ) -> tuple[str, TableSchema, ItemKey, Callable[[Item | None], Item | None] | None, Any, bool]:
        """One action as ``(kind, table, key, make_new, condition, return_old_on_failure)``."""
        kinds = [k for k in ACTION_KINDS if action.get(k) is not None]
        if len(kinds) != 1:
            raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
        kind = kinds[0]
        body = action[kind]
        table = self.catalog.schema(ctx, body["TableName"])
        extra = ("UpdateExpression",) if kind == "Update" else ()
        # TransactWriteItems lets an expression value nest one level deeper than an item
        # (30 of 33 regions, captured by a conformance suite): only what an Update writes
        # into the item is held to the item's limit, as a cancellation reason.
        expressions = read_expressions(body, (*extra, "ConditionExpression"), values_depth=-1)
        parsed = expressions.get("ConditionExpression")
        condition = None if parsed is None else (parsed.root, expressions.values)
        return_old = body.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
        make_new: Callable[[Item | None], Item | None] | None
        if kind == "Put":
            item, size = sized_item(body["Item"])
            if size > MAX_ITEM_BYTES:
                # A put's size is known from the request: AWS refuses the whole request
                # before the transaction runs, not with a cancellation reason.
                raise validation("Item size has exceeded the maximum allowed size")
            key = table.item_key(item)
            make_new = lambda old, item=item: item  # noqa: E731
        else:
            key_item, key = table.key_of(body["Key"])
            if kind == "ConditionCheck":
                if condition is None:
                    raise validation("The ConditionCheck operation requires a ConditionExpression")
                make_new = None
            elif kind == "Delete":
                make_new = lambda old: None  # noqa: E731
            else:
                update = expressions.get("UpdateExpression")
                if update is None:
                    raise validation(
                        "UpdateExpression is required for an Update in TransactWriteItems"
                    )
                for step in update.root:
                    if step.path[0] in table.keys.names:
                        raise invalid(
                            f"Cannot update attribute {step.path[0]}. This attribute is part "
                            "of the key"
                        )
                values = expressions.values
                writes_documents = any("M" in value or "L" in value for value in values.values())

                def make_new(
                    old: Item | None,
                    key_item: Item = key_item,
                    actions: Any = update.root,
                    writes_documents: bool = writes_documents,
                ) -> Item:
                    new = apply_update(old if old is not None else dict(key_item), actions, values)
                    if writes_documents:
                        # A value one level too deep passed the request's checks; the item
                        # it would make does not (AWS's reason is the short sentence).
                        try:
                            validate_item_values(new)
                        except AwsError as error:
                            if error.message == NESTING_TOO_DEEP:
                                raise validation(
                                    "Nesting Levels have exceeded supported limits"
                                ) from None
                            raise
                    return new

        return kind, table, key, make_new, condition, return_old

    @retried_on_new_definitions
    def transact_write(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """TransactWriteItems, its members checked (``check_transaction``) by the caller."""
        actions = params["TransactItems"]
        try:
            prepared = [self._prepare(action, ctx) for action in actions]
        except AwsError as error:
            if error.code == "ResourceNotFoundException":
                # AWS checks every action's request, in order, before it looks a table
                # up: a bad action answers its own error even beside a missing table.
                for action in actions:
                    _check_action_request(action)
            raise
        seen: set[tuple[int, ItemKey]] = set()
        for _, table, key, *_ in prepared:
            if key is None:
                continue
            if (table.id, key) in seen:
                raise validation(
                    "Transaction request cannot include multiple operations on one item"
                )
            seen.add((table.id, key))
        token = params.get("ClientRequestToken")
        digest = hashlib.sha256(
            orjson.dumps(actions, default=_bytes, option=orjson.OPT_SORT_KEYS)
        ).hexdigest()
        now = self.writer.clock.now()
        streams: list[str | None] = []
        units: dict[str, float] = {}
        index_units: dict[str, dict[str, float]] = {}
        vector_bytes: dict[str, dict[str, float]] = {}
        # what a replay of this request will be charged, kept only with a token
        replay_units: dict[str, float] | None = {} if token is not None else None
        mode = params.get("ReturnConsumedCapacity")
        with self.store.db.transaction():
            if token is not None:
                used = self.store.request_token(ctx.account, token, now - TOKEN_SECONDS)
                if used is not None:
                    used_digest, used_units = used
                    if used_digest != digest:
                        raise AwsError(
                            "IdempotentParameterMismatchException",
                            "The request uses the same client token as a previous, but non-identical request.",  # noqa: E501
                        )
                    return _replayed(prepared, mode, used_units) | _item_collections(
                        actions, prepared, params.get("ReturnItemCollectionMetrics")
                    )
            reasons: list[dict[str, Any]] = []
            failed = False
            for kind, table, key, make_new, condition, return_old, key_error in prepared:
                try:
                    if key_error is not None:
                        raise key_error
                    assert key is not None
                    if make_new is None:
                        old = self.writer.read_current(table, key)
                        tree, values = condition
                        if not tree.evaluate(old if old is not None else {}, values):
                            raise _failed(old, return_old)
                        units[table.name] = units.get(table.name, 0.0) + 2 * _units(
                            table, old, None
                        )
                        if replay_units is not None:
                            _add_replay_units(replay_units, table, old, None)
                    else:
                        outcome = self.writer.write(
                            table,
                            key,
                            make_new,
                            condition=condition,
                            return_old_on_failure=return_old,
                            updating=kind == "Update",
                        )
                        streams.append(outcome.stream_arn)
                        units[table.name] = units.get(table.name, 0.0) + 2 * _units(
                            table, outcome.old, outcome.new
                        )
                        if replay_units is not None:
                            _add_replay_units(replay_units, table, outcome.old, outcome.new)
                        # the transactional 2x is the table's alone: an index costs what
                        # the same write costs it outside a transaction (AWS eu-west-2
                        # figures as dynoxide captured them: a put of a GSI member
                        # answers table 2, index 1, total 3)
                        by_index = index_units.setdefault(table.name, {})
                        for name, cost in index_write_units(
                            table, outcome.old, outcome.new
                        ).items():
                            by_index[name] = by_index.get(name, 0.0) + cost
                        if table.vector_indexes and mode == "INDEXES":
                            # the bytes replicated to each vector index, as a single write
                            # reports them: not doubled (no AWS capture of a transaction)
                            by_vector = vector_bytes.setdefault(table.name, {})
                            for name, size in vector_write_bytes(
                                table, outcome.old, outcome.new
                            ).items():
                                by_vector[name] = by_vector.get(name, 0.0) + size
                    reasons.append({"Code": "None"})
                except AwsError as error:
                    failed = True
                    reasons.append(_reason(error))
            if failed:
                raise _cancelled(reasons)
            if token is not None:
                self.store.save_request_token(
                    ctx.account, token, now, digest, orjson.dumps(replay_units).decode()
                )
        self.writer.feed.notify(streams)
        result: dict[str, Any] = {}
        if mode in ("TOTAL", "INDEXES"):
            tables = {t.name: t for _, t, *_ in prepared}
            result["ConsumedCapacity"] = [
                consumed_capacity(
                    tables[name],
                    mode,
                    total,
                    "write",
                    index_units.get(name),
                    vector_bytes=vector_bytes.get(name),
                )
                for name, total in units.items()
            ]
        return result | _item_collections(
            actions, prepared, params.get("ReturnItemCollectionMetrics")
        )

    def transact_get(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """TransactGetItems, its members checked (``check_transaction``) by the caller."""
        actions = params["TransactItems"]
        plans = []
        reasons: list[dict[str, Any]] = []
        for action in actions:
            get = action["Get"]
            table = self.catalog.schema(ctx, get["TableName"])
            expressions = read_expressions(get, ("ProjectionExpression",))
            try:
                _, key = table.key_of(get["Key"])
            except AwsError as error:
                if not error.message.startswith(KEY_SCHEMA_MESSAGES):
                    raise
                reasons.append(_reason(error))
                continue
            reasons.append({"Code": "None"})
            plans.append((table, key, projection_of(get, expressions)))
        if len(plans) < len(actions):
            raise _cancelled(reasons)
        responses: list[dict[str, Any]] = []
        units: dict[str, float] = {}
        with self.store.db.read():
            for table, key, paths in plans:
                raw = self.store.get_item(table.id, key)
                units[table.name] = units.get(table.name, 0.0) + 2 * read_units(
                    len(raw or b""), True
                )
                if raw is None:
                    responses.append({})
                    continue
                item = decode_item(raw)
                responses.append({"Item": item if paths is None else project(item, paths)})
        result: dict[str, Any] = {"Responses": responses}
        mode = params.get("ReturnConsumedCapacity")
        if mode in ("TOTAL", "INDEXES"):
            tables = {t.name: t for t, _, _ in plans}
            result["ConsumedCapacity"] = [
                consumed_capacity(tables[name], mode, total, "read")
                for name, total in units.items()
            ]
        return result


def _add_replay_units(
    units: dict[str, float], table: TableSchema, old: Item | None, new: Item | None
) -> None:
    """What a same-token replay will be charged for one action: AWS answers a replay in
    read capacity (the API reference: "subsequent TransactWriteItems calls with the same
    client token return the number of read capacity units consumed in reading the
    item"), a transactional read of the larger image the first call wrote or checked,
    2 units a 4 KB, summed action by action (dynoxide's eu-west-2 captures: a ~9 KB
    delete, condition check, shrinking or growing put 18 write units, replayed 6; with a
    small put beside it 20, replayed 8; the conformance suite's ~1.5 KB item 4, then 2)."""
    size = max((item_size(item) for item in (old, new) if item is not None), default=0)
    units[table.name] = units.get(table.name, 0.0) + 2 * read_units(size, True)


def _replayed(prepared: list[Any], mode: str | None, replay_units: str | None) -> dict[str, Any]:
    """The answer to a same-token replay: nothing written again, its ConsumedCapacity the
    read units the first call kept (``_add_replay_units``), as ReadCapacityUnits on the
    table alone (a replay reads the table's items and writes no index) under the replay's
    own ReturnConsumedCapacity. A token kept before its units were answers nothing."""
    if mode not in ("TOTAL", "INDEXES") or replay_units is None:
        return {}
    tables = {table.name: table for _, table, *_ in prepared}
    charged: dict[str, float] = orjson.loads(replay_units)
    return {
        "ConsumedCapacity": [
            consumed_capacity(tables[name], mode, total, "read")
            for name, total in charged.items()
            if name in tables
        ]
    }


def _item_collections(
    actions: list[dict[str, Any]], prepared: list[PreparedAction], mode: str | None
) -> dict[str, Any]:
    """``ItemCollectionMetrics`` with ReturnItemCollectionMetrics SIZE: for each Put,
    Update or Delete on a table with local secondary indexes, in request order, its item
    collection under its table's name, as BatchWriteItem answers one a request (the API
    reference: the item collections "affected by individual UpdateItem, PutItem, or
    DeleteItem operations"; a ConditionCheck changes none, a table without local indexes
    has none). The collection is the partition key value the request names, so a
    same-token replay answers the first call's collections from its identical request."""
    if mode != "SIZE":
        return {}
    metrics: dict[str, list[dict[str, Any]]] = {}
    for action, (kind, table, *_) in zip(actions, prepared, strict=True):
        if kind == "ConditionCheck":
            continue
        body = action[kind]
        hash_key = table.keys.hash_key
        # the value as stored (a number canonical), as PutItem and DeleteItem name it
        value, _ = sized_value((body["Item"] if kind == "Put" else body["Key"])[hash_key])
        collected = item_collection_metrics(table, mode, {hash_key: value})
        if collected is not None:
            metrics.setdefault(table.name, []).append(collected)
    return {"ItemCollectionMetrics": metrics} if metrics else {}


def _units(table: TableSchema, old: Item | None, new: Item | None) -> float:
    """One action's write units before doubling: a vector an index holds billed at its
    name plus 4 bytes a dimension, as a single write bills it."""
    if table.vector_indexes:
        return billed_write_units(table, old, new)
    return write_units(old, new)


def _check_action_request(action: dict[str, Any]) -> None:
    """One action's checks that need no table, in AWS's order: its expressions, then the
    item's top-level names and its values (or the key's values). Error path only."""
    kinds = [k for k in ACTION_KINDS if action.get(k) is not None]
    if len(kinds) != 1:
        raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
    kind = kinds[0]
    body = action[kind]
    extra = ("UpdateExpression",) if kind == "Update" else ()
    read_expressions(body, (*extra, "ConditionExpression"), values_depth=-1)
    if kind == "Put":
        item = body.get("Item")
        if isinstance(item, dict) and "" in item:
            # An empty name wins over any value of the same item, wherever it sits.
            raise validation("Empty attribute name")
        sized_item(item)
    else:
        key = body.get("Key")
        if isinstance(key, dict):
            for value in key.values():
                validate_value(value)


def _cancelled(reasons: list[dict[str, Any]]) -> AwsError:
    codes = ", ".join(r["Code"] for r in reasons)
    return AwsError(
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        fields={"CancellationReasons": reasons},
    )


def _failed(old: Item | None, return_old: bool) -> AwsError:
    from headwater.services.dynamodb.writes import condition_failed

    return condition_failed(old, return_old)


def _reason(error: AwsError) -> dict[str, Any]:
    if error.code == "ConditionalCheckFailedException":
        reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": error.message}
        if "Item" in error.fields:
            reason["Item"] = error.fields["Item"]
        return reason
    if error.code == "ValidationException":
        return {"Code": "ValidationError", "Message": error.message}
    return {"Code": error.code.removesuffix("Exception"), "Message": error.message}


def _bytes(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return encode_item({"B": {"B": bytes(value)}}).decode()
    raise TypeError
