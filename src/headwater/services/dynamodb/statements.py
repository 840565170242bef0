"""PartiQL statements run as the item API's own requests.

A statement (core/expressions/partiql.py) becomes the request DynamoDB's documentation
says it stands for: ``SELECT`` with an equality on the partition key a Query (the sort
key's condition moving into the key condition), any other ``SELECT`` a Scan; ``INSERT`` a
PutItem that may not replace an item; ``UPDATE`` an UpdateItem of an item that must exist;
``DELETE`` a DeleteItem; ``EXISTS(SELECT ...)`` a transaction's ConditionCheck. Names and
values go into ``ExpressionAttributeNames`` / ``ExpressionAttributeValues``, so the item
API's checks, conditions and errors apply unchanged.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TYPE_CHECKING, Any

from headwater.core.errors import AwsError, validation_error, validation_errors
from headwater.core.expressions.documents import read_path
from headwater.core.expressions.partiql import (
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    Delete,
    Exists,
    Function,
    In,
    Insert,
    Is,
    Not,
    Or,
    ParsedStatement,
    Path,
    Select,
    Statement,
    Update,
    Value,
    bind,
    column_name,
    parse_statement,
)
from headwater.core.expressions.values import (
    MAX_DEPTH,
    NESTING_TOO_DEEP,
    Item,
    integer_fits,
    number_parts,
    validation,
    values_equal,
)
from headwater.core.values import JAVA_INT
from headwater.services.base import RequestContext
from headwater.services.dynamodb.constraints import length_finding
from headwater.services.dynamodb.writes import write_units
from headwater.store.tables.codec import decode_item, encode_item

if TYPE_CHECKING:
    from headwater.services.dynamodb.schema import KeySchema
    from headwater.services.dynamodb.service import DynamoDBService

Params = dict[str, Any]
AttributeValue = dict[str, Any]

DUPLICATE_ITEM = "Duplicate primary key exists in table"
#: The request model's limits on a batch's and a transaction's statements.
MAX_BATCH_STATEMENTS = 25
MAX_TRANSACTION_STATEMENTS = 100
#: A comparison's operator with its sides swapped (``'b' >= sk`` is ``sk <= 'b'``).
_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


_EXPRESSION_PREFIX = re.compile(
    r"Invalid (?:Condition|Filter|KeyCondition|Update|Projection)Expression: "
)
_PLACED_VALUE = re.compile(
    r"ExpressionAttributeValues contains invalid value: (.*) for key :v\d+", re.DOTALL
)
NUMBER_OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
NUMBER_UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)
UNCONVERTIBLE = "The parameter cannot be converted to a numeric value"
MALFORMED = "Statement wasn't well formed"
SELECT_KEY = "Select statements within {} must specify the primary key in the where clause."
#: AWS's PartiQL reads no global index whose key has several HASH or RANGE attributes (the
#: refusal names tables, but follows the index: the table and its other indexes read).
MULTI_ATTRIBUTE_INDEX = (
    "PartiQL statements cannot be executed on tables with multi-attribute HASH keys or "
    "multi-attribute RANGE keys."
)


def check_length(entries: list[Any], member: str, most: int) -> None:
    """The request model's length constraint on a list of statements."""
    finding = length_finding(entries, most, member=member)
    if finding is not None:
        raise validation_errors([finding])


def check_parameters(parameters: list[AttributeValue]) -> None:
    """What AWS checks of the parameters, in document order: nesting, then whether each
    number can be read at all (as Java's BigDecimal reads it)."""
    for parameter in parameters:
        _check_parameter(parameter, 0)


def _check_parameter(value: Any, depth: int) -> None:
    if not isinstance(value, dict) or len(value) != 1:
        return  # the item API's own checks answer a malformed value
    ((kind, inner),) = value.items()
    if kind in ("M", "L"):
        if depth >= MAX_DEPTH:
            raise validation(NESTING_TOO_DEEP)
        members: list[Any] = []
        if kind == "M" and isinstance(inner, dict):
            members = list(inner.values())
        elif kind == "L" and isinstance(inner, list):
            members = inner
        for member in members:
            _check_parameter(member, depth + 1)
    elif kind == "N":
        _check_number(inner)
    elif kind == "NS" and isinstance(inner, list):
        for member in inner:
            _check_number(member)


def _check_number(text: Any) -> None:
    if not isinstance(text, str) or text == "":
        raise validation(UNCONVERTIBLE)
    # read as Java's BigDecimal: an exponent, or a scale (the digits after the point less
    # the exponent), past a 32-bit integer cannot be
    mantissa, _, written = text.lower().partition("e")
    if number_parts(text) is None or (written and not integer_fits(written, 32)):
        raise validation(f"{UNCONVERTIBLE}: {text}")
    scale = len(mantissa.partition(".")[2]) - int(written or "0")
    if scale not in JAVA_INT:
        raise validation(f"{UNCONVERTIBLE}: {text}")
    # AWS then sizes it as precision less scale in 32-bit arithmetic, which wraps: a
    # magnitude past the int range comes out with the opposite sign
    precision = len(mantissa.replace(".", "").lstrip("+-").lstrip("0")) or 1
    magnitude = precision - scale
    if magnitude > JAVA_INT[-1]:
        raise validation(NUMBER_UNDERFLOW)
    if magnitude < JAVA_INT[0]:
        raise validation(NUMBER_OVERFLOW)


def _unprefixed(error: AwsError) -> AwsError:
    """An item-API error as PartiQL words it: without the expression it came from, and a
    bad value without the placeholder headwater gave it."""
    if error.code != "ValidationException":
        return error
    message = _EXPRESSION_PREFIX.sub("", error.message, count=1)
    placed = _PLACED_VALUE.fullmatch(message)
    if placed is not None:
        message = placed.group(1)
    if message == error.message:
        return error
    return AwsError(error.code, message, fields=error.fields)


def _missing_key() -> AwsError:
    return validation("Where clause does not contain a mandatory equality on all key attributes")


# ---- expressions ----


class ExpressionWriter:
    """Renders statement parts as expression text with ``#n`` and ``:v`` placeholders."""

    def __init__(self, parameters: list[AttributeValue]) -> None:
        self.parameters = parameters
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}
        self._name_of: dict[str, str] = {}

    def into(self, params: Params) -> Params:
        """``params`` with the placeholders used so far."""
        if self.names:
            params["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            params["ExpressionAttributeValues"] = dict(self.values)
        return params

    def name(self, name: str) -> str:
        placeholder = self._name_of.get(name)
        if placeholder is None:
            placeholder = f"#n{len(self.names)}"
            self._name_of[name] = placeholder
            self.names[placeholder] = name
        return placeholder

    def value(self, value: AttributeValue) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def path(self, path: Path) -> str:
        text = ""
        for segment in path.segments:
            if isinstance(segment, int):
                text += f"[{segment}]"
            else:
                text += ("." if text else "") + self.name(segment)
        return text

    def operand(self, operand: Any) -> str:
        if isinstance(operand, Path):
            return self.path(operand)
        if isinstance(operand, Value):
            return self.value(bind(operand.value, self.parameters))
        if isinstance(operand, Call):
            if not operand.args:  # no expression can say this: AWS counts the operands
                raise validation(
                    "Incorrect number of operands for operator or function; operator or "
                    f"function: {operand.name}, number of operands: 0"
                )
            args = ", ".join(self.operand(arg) for arg in operand.args)
            return f"{operand.name}({args})"
        if isinstance(operand, Arithmetic):
            return f"{self.operand(operand.left)} {operand.operator} {self.operand(operand.right)}"
        raise TypeError(operand)

    def condition(self, condition: Condition) -> str:
        """``condition`` as expression text, parenthesised only where precedence needs it:
        DynamoDB refuses redundant parentheses."""
        return self._render(condition)[0]

    def _render(self, condition: Condition) -> tuple[str, int]:
        """(text, binding): 0 for OR, 1 for AND, 2 for anything tighter."""
        if isinstance(condition, And | Or) and len(condition.terms) == 1:
            return self._render(condition.terms[0])  # no parentheses around a lone term
        if isinstance(condition, Compare):
            if condition.operator not in ("=", "<>"):
                self._ordered(condition.operator, condition.left, condition.right)
            left, right = self.operand(condition.left), self.operand(condition.right)
            return f"{left} {condition.operator} {right}", 2
        if isinstance(condition, Between):
            self._ordered("BETWEEN", condition.subject, condition.low, condition.high)
            subject = self.operand(condition.subject)
            low, high = self.operand(condition.low), self.operand(condition.high)
            return f"{subject} BETWEEN {low} AND {high}", 2
        if isinstance(condition, In):
            choices = ", ".join(self.operand(choice) for choice in condition.choices)
            return f"{self.operand(condition.subject)} IN ({choices})", 2
        if isinstance(condition, Is):
            path = self.path(condition.path)
            if condition.what == "MISSING":
                function = "attribute_exists" if condition.negated else "attribute_not_exists"
                return f"{function}({path})", 2
            # DynamoDB compares with NULL rather than following PartiQL: only a NULL
            # value IS NULL, and an attribute the item lacks IS NOT NULL
            null = self.value({"S": "NULL"})
            test = f"attribute_type({path}, {null})"
            return (f"NOT {test}" if condition.negated else test), 2
        if isinstance(condition, Function):
            return self.operand(condition.call), 2
        if isinstance(condition, And):
            return " AND ".join(self._within(term, 1) for term in condition.terms), 1
        if isinstance(condition, Or):
            return " OR ".join(self._within(term, 0) for term in condition.terms), 0
        if isinstance(condition, Not):
            return f"NOT {self._within(condition.term, 2)}", 2
        raise TypeError(condition)

    def _ordered(self, operator: str, *operands: Any) -> None:
        """PartiQL refuses an ordering operator on a value of a type with no order."""
        for operand in operands:
            if isinstance(operand, Value):
                kind = next(iter(bind(operand.value, self.parameters)), "")
                if kind not in ("S", "N", "B"):
                    raise validation(
                        "Incorrect operand type for operator or function; operator or "
                        f"function: {operator}, operand type: {kind}"
                    )

    def _within(self, condition: Condition, binding: int) -> str:
        text, own = self._render(condition)
        return text if own >= binding else f"({text})"


def _terms(where: Condition | None) -> list[Condition]:
    if where is None:
        return []
    return list(where.terms) if isinstance(where, And) else [where]


def _paths(node: Any) -> list[Path]:
    """Every path a condition or operand names."""
    if isinstance(node, Path):
        return [node]
    if isinstance(node, Value):
        return []
    if isinstance(node, Call):
        return [path for arg in node.args for path in _paths(arg)]
    if isinstance(node, Function):
        return _paths(node.call)
    if isinstance(node, Arithmetic):
        return _paths(node.left) + _paths(node.right)
    if isinstance(node, Compare):
        return _paths(node.left) + _paths(node.right)
    if isinstance(node, Between):
        return _paths(node.subject) + _paths(node.low) + _paths(node.high)
    if isinstance(node, In):
        return _paths(node.subject) + [p for choice in node.choices for p in _paths(choice)]
    if isinstance(node, Is):
        return [node.path]
    if isinstance(node, And | Or):
        return [path for term in node.terms for path in _paths(term)]
    if isinstance(node, Not):
        return _paths(node.term)
    raise TypeError(node)


def _names(condition: Condition, attribute: str) -> bool:
    return any(path.top == attribute for path in _paths(condition))


def _is_attribute(operand: Any, attribute: str) -> bool:
    return isinstance(operand, Path) and operand.segments == (attribute,)


def _equality_value(term: Condition, attribute: str) -> Value | None:
    """The value ``term`` says ``attribute`` equals, if it is ``attribute = value``."""
    if not isinstance(term, Compare) or term.operator != "=":
        return None
    if _is_attribute(term.left, attribute) and isinstance(term.right, Value):
        return term.right
    if _is_attribute(term.right, attribute) and isinstance(term.left, Value):
        return term.left
    return None


def _key_condition(term: Condition, attribute: str) -> Condition | None:
    """``term`` as a sort-key condition (attribute on the left), or None if it is not one."""
    if isinstance(term, Compare) and term.operator != "<>":
        if _is_attribute(term.left, attribute) and isinstance(term.right, Value):
            return term
        if _is_attribute(term.right, attribute) and isinstance(term.left, Value):
            return Compare(term.right, _FLIPPED[term.operator], term.left)
    if (
        isinstance(term, Between)
        and _is_attribute(term.subject, attribute)
        and isinstance(term.low, Value)
        and isinstance(term.high, Value)
    ):
        return term
    if isinstance(term, Function) and term.call.name == "begins_with":
        args = term.call.args
        if len(args) == 2 and _is_attribute(args[0], attribute) and isinstance(args[1], Value):
            return term
    return None


def split_key(
    where: Condition | None,
    keys: KeySchema,
    parameters: list[AttributeValue],
    *,
    one_item: bool = False,
) -> tuple[dict[str, AttributeValue], list[Condition]]:
    """The full key a write's WHERE names by equality, and its other conditions (a second
    equality on a key attribute among them). ``one_item``: an UPDATE or DELETE, which AWS
    refuses when that second equality names another value."""
    key: dict[str, AttributeValue] = {}
    rest: list[Condition] = []
    for term in _terms(where):
        for attribute in keys.names:
            value = _equality_value(term, attribute)
            if value is None:
                continue
            bound = bind(value.value, parameters)
            if attribute not in key:
                key[attribute] = bound
                break
            if one_item and not values_equal(key[attribute], bound):
                raise validation(
                    f"Multiple conditions on same key {attribute}. Only single item "
                    "Update/Insert/Delete are supported"
                )
        else:
            rest.append(term)
    if len(key) != len(keys.names):
        raise _missing_key()
    return key, rest


# ---- paging ----


def _next_token(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(encode_item(last_key)).decode("ascii")


def _start_key(token: str) -> dict[str, Any]:
    try:
        start = decode_item(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        start = None
    if not isinstance(start, dict):
        raise validation("Invalid NextToken")
    return start


# ---- running statements ----


class ItemAction(Enum):
    """The item API request a statement runs as; the value is its name as a transaction's
    action (TransactWriteItems' Put ..., TransactGetItems' Get)."""

    PUT = "Put"
    UPDATE = "Update"
    DELETE = "Delete"
    CONDITION_CHECK = "ConditionCheck"
    GET = "Get"


class StatementRunner:
    """ExecuteStatement, BatchExecuteStatement and ExecuteTransaction on the service."""

    def __init__(self, service: DynamoDBService) -> None:
        self.service = service

    def parse(self, text: str, parameters: list[AttributeValue] | None) -> ParsedStatement:
        if not text:
            raise validation_error(
                text, "statement", "Member must have length greater than or equal to 1"
            )
        parsed = parse_statement(text)
        if parsed.parameters != len(parameters or []):
            raise validation("Number of parameters in request and statement don't match.")
        check_parameters(parameters or [])
        return parsed

    def _keys(self, ctx: RequestContext, table: str, index: str | None = None) -> KeySchema:
        schema = self.service.catalog.schema(ctx, table)
        if index is None:
            return schema.keys
        found = schema.indexes.get(index)
        if found is None:
            raise validation(f"The table does not have the specified index: {index}")
        if found.keys.multi:
            raise validation(MULTI_ATTRIBUTE_INDEX)
        return found.keys

    # -- ExecuteStatement --

    def execute(self, params: Params, ctx: RequestContext) -> dict[str, Any]:
        try:
            return self._execute(params, ctx)
        except AwsError as error:
            raise _unprefixed(error) from None

    def _execute(self, params: Params, ctx: RequestContext) -> dict[str, Any]:
        parameters: list[AttributeValue] = params.get("Parameters") or []
        statement = self.parse(params["Statement"], parameters).statement
        shared = {
            name: params[name]
            for name in ("ReturnConsumedCapacity", "ReturnValuesOnConditionCheckFailure")
            if name in params
        }
        if isinstance(statement, Select):
            return self._select(statement, parameters, params, ctx)
        if isinstance(statement, Exists):
            raise validation("EXISTS is only supported in ExecuteTransaction")
        action, request = self.write_request(statement, parameters, ctx)
        result = self._write(action, request | shared, statement, ctx)
        response: dict[str, Any] = {"Items": []}
        if "Attributes" in result:
            response["Items"] = [result["Attributes"]]
        if "ConsumedCapacity" in result:
            response["ConsumedCapacity"] = result["ConsumedCapacity"]
        return response

    def _write(
        self, action: ItemAction, request: Params, statement: Statement, ctx: RequestContext
    ) -> dict[str, Any]:
        items = self.service.items
        call: Callable[[Params, RequestContext], dict[str, Any]]
        if action is ItemAction.PUT:
            call = items.put_item
        elif action is ItemAction.UPDATE:
            call = items.update_item
        elif action is ItemAction.DELETE:
            call = items.delete_item
        else:  # a condition check or a read runs only within a transaction
            raise validation("EXISTS is only supported in ExecuteTransaction")
        try:
            return call(request, ctx)
        except AwsError as error:
            if isinstance(statement, Insert) and error.code == "ConditionalCheckFailedException":
                raise AwsError("DuplicateItemException", DUPLICATE_ITEM) from None
            raise

    def _select(
        self,
        select: Select,
        parameters: list[AttributeValue],
        params: Params,
        ctx: RequestContext,
    ) -> dict[str, Any]:
        check_columns(select)
        keys = self._keys(ctx, select.table, select.index)
        writer = ExpressionWriter(parameters)
        request: Params = {"TableName": select.table}
        if select.index is not None:
            request["IndexName"] = select.index
        for name in ("Limit", "ConsistentRead", "ReturnConsumedCapacity"):
            if name in params:
                request[name] = params[name]
        if params.get("NextToken"):
            request["ExclusiveStartKey"] = _start_key(params["NextToken"])
        key_terms, rest = _plan_query(select.where, keys)
        if select.order_by is not None:
            path, ascending = select.order_by
            if key_terms is None:
                raise validation(
                    "Must have WHERE clause in the statement when using ORDER BY clause."
                )
            if path.segments not in ((keys.hash_key,), (keys.range_key,)):
                raise validation(f"ORDER BY is only supported on key attributes: {path.top}")
            request["ScanIndexForward"] = ascending
        if key_terms is not None:
            request["KeyConditionExpression"] = writer.condition(And(tuple(key_terms)))
        if rest:
            request["FilterExpression"] = writer.condition(And(tuple(rest)))
        if select.projection is not None:
            request["ProjectionExpression"] = ", ".join(writer.path(p) for p in select.projection)
        # what AWS checks once the statement reads as expressions: how many reads it makes,
        # the keys' value types, then whether OR branches overlap
        check_read_count(select.where, keys)
        check_key_types(select.where, keys, parameters)
        check_overlap(select.where, keys, parameters)
        reads = self.service.reads
        read = reads.query if key_terms is not None else reads.scan
        # the item API's projection checks still apply; only the answer's shape differs
        result = read(writer.into(request), ctx, select_columns)
        response: dict[str, Any] = {"Items": result.get("Items", [])}
        if "LastEvaluatedKey" in result:
            response["NextToken"] = _next_token(result["LastEvaluatedKey"])
            response["LastEvaluatedKey"] = result["LastEvaluatedKey"]
        if "ConsumedCapacity" in result:
            response["ConsumedCapacity"] = result["ConsumedCapacity"]
        return response

    # -- writes --

    def write_request(
        self,
        statement: Statement,
        parameters: list[AttributeValue],
        ctx: RequestContext,
        *,
        one_item: bool = True,
    ) -> tuple[ItemAction, Params]:
        """The item API call a write statement stands for: (action, request). ``Exists`` is
        answered as a condition check. ``one_item``: refuse a WHERE naming two values for a
        key attribute (a transaction instead reads the first, the second a condition)."""
        writer = ExpressionWriter(parameters)
        if isinstance(statement, Insert):
            keys = self._keys(ctx, statement.table)
            document = bind(statement.item.value, parameters)
            if "M" not in document:
                raise validation("INSERT must be given a document: VALUE {...}")
            condition = f"attribute_not_exists({writer.name(keys.hash_key)})"
            request = {
                "TableName": statement.table,
                "Item": document["M"],
                "ConditionExpression": condition,
            }
            return ItemAction.PUT, writer.into(request)
        if isinstance(statement, Update):
            keys = self._keys(ctx, statement.table)
            key, rest = split_key(statement.where, keys, parameters, one_item=one_item)
            request = {
                "TableName": statement.table,
                "Key": key,
                "UpdateExpression": _update_expression(statement, writer),
                "ConditionExpression": _existing(writer, keys, rest),
            }
            if statement.returning is not None:
                request["ReturnValues"] = statement.returning
            return ItemAction.UPDATE, writer.into(request)
        if isinstance(statement, Delete):
            if statement.returning not in (None, "ALL_OLD"):
                written = _RETURNING_WORDS[statement.returning]
                raise validation(
                    f"Invalid returning clause: RETURNING {written} *. Only RETURNING ALL OLD * "
                    "is allowed in DELETE statements."
                )
            keys = self._keys(ctx, statement.table)
            key, rest = split_key(statement.where, keys, parameters, one_item=one_item)
            request = {"TableName": statement.table, "Key": key}
            if rest:
                request["ConditionExpression"] = writer.condition(And(tuple(rest)))
            if statement.returning is not None:
                request["ReturnValues"] = "ALL_OLD"
            return ItemAction.DELETE, writer.into(request)
        if isinstance(statement, Exists):
            select = statement.select
            keys = self._keys(ctx, select.table)
            key, rest = split_key(select.where, keys, parameters)
            request = {
                "TableName": select.table,
                "Key": key,
                "ConditionExpression": _existing(writer, keys, rest),
            }
            return ItemAction.CONDITION_CHECK, writer.into(request)
        raise validation("Only INSERT, UPDATE, DELETE and EXISTS statements write")

    # -- BatchExecuteStatement --

    def batch(self, params: Params, ctx: RequestContext) -> dict[str, Any]:
        check_length(params["Statements"], "statements", MAX_BATCH_STATEMENTS)
        parsed: list[tuple[dict[str, Any], ParsedStatement | AwsError]] = []
        for entry in params["Statements"]:
            try:
                parsed.append((entry, self.parse(entry["Statement"], entry.get("Parameters"))))
            except AwsError as error:
                parsed.append((entry, error))
        kinds = {
            isinstance(p.statement, Select) for _, p in parsed if isinstance(p, ParsedStatement)
        }
        if len(kinds) > 1:
            raise validation(
                "A BatchExecuteStatement must hold only read statements or only write statements"
            )
        responses = []
        mode = params.get("ReturnConsumedCapacity")
        charged = mode if mode in ("TOTAL", "INDEXES") else None
        # each table's capacity, its statements' summed (as BatchWriteItem reports it)
        capacities: dict[str, dict[str, Any]] = {}
        # the writes a failed condition cost each table (``_failed_write_units``)
        failed: dict[str, float] = {}
        for entry, outcome in parsed:
            if isinstance(outcome, AwsError):
                responses.append({"Error": _batch_error(outcome)})
                continue
            response, capacity = self._batch_one(entry, outcome.statement, ctx, charged, failed)
            responses.append(response)
            if capacity is not None:
                _add_capacity(capacities.setdefault(capacity["TableName"], {}), capacity)
        # a failed write reaches its table's total, not its Table figure, and only a table
        # with a statement that succeeded answers at all (dynoxide's eu-west-2 captures
        # M1, M4, U2: a lone duplicate INSERT answers no ConsumedCapacity; beside a
        # successful insert of a GSI member, total 3 against table 1 and index 1)
        for name, units in failed.items():
            if name in capacities:
                capacities[name]["CapacityUnits"] += units
        result: dict[str, Any] = {"Responses": responses}
        if capacities:
            result["ConsumedCapacity"] = list(capacities.values())
        return result

    def _batch_one(
        self,
        entry: dict[str, Any],
        statement: Statement,
        ctx: RequestContext,
        charged: str | None,
        failed: dict[str, float],
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """One statement's response, and its ConsumedCapacity when ``charged`` (the
        request's TOTAL or INDEXES) and it succeeded; a write whose condition failed adds
        what it cost to its table's ``failed`` (``_failed_write_units``)."""
        parameters = entry.get("Parameters") or []
        table = statement.select.table if isinstance(statement, Exists) else statement.table
        capacity = {"ReturnConsumedCapacity": charged} if charged is not None else {}
        try:
            if isinstance(statement, Select):
                request = self._get_request(statement, parameters, ctx, "BatchExecuteStatement")
                if entry.get("ConsistentRead"):
                    request["ConsistentRead"] = True
                result = self.service.items.get_item(request | capacity, ctx)
                response: dict[str, Any] = {"TableName": table}
                if "Item" in result:
                    response["Item"] = result["Item"]
                return response, result.get("ConsumedCapacity")
            action, request = self.write_request(statement, parameters, ctx)
            if isinstance(statement, Exists):
                raise validation("EXISTS is only supported in ExecuteTransaction")
            if "ReturnValuesOnConditionCheckFailure" in entry:
                request["ReturnValuesOnConditionCheckFailure"] = entry[
                    "ReturnValuesOnConditionCheckFailure"
                ]
            request.pop("ReturnValues", None)
            try:
                result = self._write(action, request | capacity, statement, ctx)
            except AwsError as error:
                if charged is not None and error.code in (
                    "ConditionalCheckFailedException",
                    "DuplicateItemException",
                ):
                    failed[table] = failed.get(table, 0.0) + self._failed_write_units(request, ctx)
                raise
            return {"TableName": table}, result.get("ConsumedCapacity")
        except AwsError as error:
            return {"TableName": table, "Error": _batch_error(_unprefixed(error))}, None

    def _failed_write_units(self, request: Params, ctx: RequestContext) -> float:
        """The write units AWS charges a batch write whose condition failed: the write it
        attempted, sized on the larger of the item stored at its key and the item it
        carried (dynoxide's eu-west-2 capture U2: a duplicate INSERT of a tiny item costs
        1, over a stored 3 KB item 3). Error path only."""
        table = self.service.catalog.schema(ctx, request["TableName"])
        carried = request.get("Item")
        key = table.item_key(carried) if carried is not None else table.key_of(request["Key"])[1]
        # on the store's read lock, as every read: SQLite's connection is shared by the
        # threads, and another's open transaction is not ours to read
        with self.service.store.db.read():
            stored = self.service.items.writer.read(table, key)
        return write_units(stored, carried)

    def _get_request(
        self,
        select: Select,
        parameters: list[AttributeValue],
        ctx: RequestContext,
        operation: str,
    ) -> Params:
        """A SELECT naming one item by its full key, as a GetItem request: the only read
        a batch or a transaction holds."""
        check_columns(select)
        if select.index is not None:
            # The multi-attribute refusal comes first (a conformance suite, 2026-10).
            try:
                self._keys(ctx, select.table, select.index)
            except AwsError as error:
                if error.message == MULTI_ATTRIBUTE_INDEX:
                    raise
            raise validation(SELECT_KEY.format(operation))
        keys = self._keys(ctx, select.table)
        check_read_count(select.where, keys)
        try:
            key, rest = split_key(select.where, keys, parameters)
        except AwsError:
            raise validation(SELECT_KEY.format(operation)) from None
        if rest:
            raise validation(SELECT_KEY.format(operation))
        writer = ExpressionWriter(parameters)
        request: Params = {"TableName": select.table, "Key": key}
        if select.projection is not None:
            request["ProjectionExpression"] = ", ".join(writer.path(p) for p in select.projection)
        return writer.into(request)

    # -- ExecuteTransaction --

    def transaction(self, params: Params, ctx: RequestContext) -> dict[str, Any]:
        try:
            return self._transaction(params, ctx)
        except AwsError as error:
            raise _unprefixed(error) from None

    def _transaction_statement(self, index: int, entry: dict[str, Any]) -> Statement:
        """One statement of a transaction; AWS names the statement a parse error is in."""
        try:
            return self.parse(entry["Statement"], entry.get("Parameters")).statement
        except AwsError as error:
            if not error.message.startswith(MALFORMED):
                raise
            raise validation(
                f"Validation failed in TransactStatements[{index}]: {error.message}"
            ) from None

    def _transaction(self, params: Params, ctx: RequestContext) -> dict[str, Any]:
        entries = params["TransactStatements"]
        check_length(entries, "transactStatements", MAX_TRANSACTION_STATEMENTS)
        statements = [
            self._transaction_statement(index, entry) for index, entry in enumerate(entries)
        ]
        shared = {
            name: params[name]
            for name in ("ReturnConsumedCapacity", "ClientRequestToken")
            if name in params
        }
        reads = [isinstance(statement, Select) for statement in statements]
        if any(reads) and not all(reads):
            raise validation(
                "A transaction must hold only read statements or only write statements"
            )
        for index, statement in enumerate(statements):
            # what AWS refuses of a statement before it looks any table up
            refusal = None
            if isinstance(statement, Select) and (duplicate := duplicate_column(statement)):
                refusal = DUPLICATE_COLUMN.format(duplicate)
            elif isinstance(statement, Select) and statement.index is not None:
                refusal = "Reads on indices are not supported within transactions."
            elif isinstance(statement, Update | Delete) and statement.returning is not None:
                refusal = "RETURNING clause is not supported in ExecuteTransaction."
            if refusal is not None:
                raise validation(f"Validation failed in TransactStatements[{index}]: {refusal}")
        requests: list[tuple[ItemAction, Params]] = []
        for index, (entry, statement) in enumerate(zip(entries, statements, strict=True)):
            parameters = entry.get("Parameters") or []
            try:
                if isinstance(statement, Select):
                    request = self._get_request(statement, parameters, ctx, "ExecuteTransaction")
                    requests.append((ItemAction.GET, request))
                    continue
                if (
                    isinstance(statement, Exists)
                    and not split_key(
                        statement.select.where, self._keys(ctx, statement.select.table), parameters
                    )[1]
                ):
                    raise validation(
                        "EXISTS() must contain a single item read with additional condition"
                    )
                requests.append(self.write_request(statement, parameters, ctx, one_item=False))
            except AwsError as error:
                if error.code != "ValidationException" or not _STATEMENT_CHECKS.match(
                    error.message
                ):
                    raise
                raise validation(
                    f"Validation failed in TransactStatements[{index}]: {error.message}"
                ) from None
        if all(reads):
            shared.pop("ClientRequestToken", None)
            gets = [{action.value: request} for action, request in requests]
            return self.service.transactions.transact_get({"TransactItems": gets} | shared, ctx)
        actions = []
        for entry, (action, request) in zip(entries, requests, strict=True):
            if "ReturnValuesOnConditionCheckFailure" in entry:
                request["ReturnValuesOnConditionCheckFailure"] = entry[
                    "ReturnValuesOnConditionCheckFailure"
                ]
            request.pop("ReturnValues", None)
            actions.append({action.value: request})
        try:
            result = self.service.transactions.transact_write(
                {"TransactItems": actions} | shared, ctx
            )
        except AwsError as error:
            if error.code != "TransactionCanceledException":
                raise
            raise _duplicates_named(error, statements) from None
        return {"Responses": []} | result


def _add_capacity(total: dict[str, Any], capacity: dict[str, Any]) -> None:
    """Add one statement's ConsumedCapacity into its table's: every figure summed, the
    index and vector index maps member by member."""
    for name, value in capacity.items():
        if isinstance(value, dict):
            _add_capacity(total.setdefault(name, {}), value)
        elif isinstance(value, int | float):
            total[name] = total.get(name, 0.0) + value
        else:
            total.setdefault(name, value)


#: The statement-shape refusals AWS names the statement of in a transaction.
_STATEMENT_CHECKS = re.compile(
    r"Select statements within|EXISTS\(\) must contain|Where clause does not contain"
    r"|The IN operator is provided with too many operands|Too many decomposed read"
)
#: A RETURNING clause as written, by the ReturnValues it stands for.
_RETURNING_WORDS = {
    "ALL_OLD": "ALL OLD",
    "ALL_NEW": "ALL NEW",
    "UPDATED_OLD": "MODIFIED OLD",
    "UPDATED_NEW": "MODIFIED NEW",
}


#: AWS's refusal of a SELECT list naming one column twice.
DUPLICATE_COLUMN = "Duplicate identifiers in select clause: {}"


def duplicate_column(select: Select) -> str | None:
    """The first column name a SELECT list gives twice, or None. Two paths with one
    last step (``a.x, b.x``) are the same column, as a path and itself are."""
    seen: set[str] = set()
    for path in select.projection or ():
        name = column_name(path.segments)
        if name in seen:
            return name
        seen.add(name)
    return None


def check_columns(select: Select) -> None:
    """Refuse a SELECT list naming one column twice. Checked before the table is looked
    up, as DynamoDB Local's PartiQL translator reads the SELECT list first."""
    duplicate = duplicate_column(select)
    if duplicate is not None:
        raise validation(DUPLICATE_COLUMN.format(duplicate))


def select_columns(item: Item, paths: list[Any]) -> Item:
    """A read item as ExecuteStatement answers a SELECT list: each path's value at the
    top level under its column name (``SELECT m.k[0]`` answers ``{"k[0]": ...}``, not the
    item API's ``{"m": {"M": {"k": {"L": [...]}}}}``); a path the item lacks is left out."""
    columns: Item = {}
    for path in paths:
        value = read_path(item, path)
        if value is not None:
            columns[column_name(path)] = value
    return columns


def _plan_query(
    where: Condition | None, keys: KeySchema
) -> tuple[list[Condition] | None, list[Condition]]:
    """(key condition terms, filter terms); key terms are None when a Scan must run: no
    equality on the partition key, or a key named where a key condition cannot hold it."""
    terms = _terms(where)
    hash_terms = [t for t in terms if _equality_value(t, keys.hash_key) is not None]
    if not hash_terms:
        return None, terms
    rest = [t for t in terms if t is not hash_terms[0]]
    if any(_names(t, keys.hash_key) for t in rest):
        return None, terms
    key_terms: list[Condition] = [hash_terms[0]]
    if keys.range_key is not None:
        on_range = [t for t in rest if _names(t, keys.range_key)]
        if len(on_range) > 1:
            return None, terms
        if on_range:
            condition = _key_condition(on_range[0], keys.range_key)
            if condition is None:
                return None, terms
            key_terms.append(condition)
            rest = [t for t in rest if t is not on_range[0]]
    return key_terms, rest


# ---- OR branches on the sort key ----

OVERLAP = "Overlapping conditions with range keys are not supported in where clause"
#: Past this many branches the overlap check gives up (AWS has a read limit of its own).
_MOST_BRANCHES = 1000

#: One end of a sort-key range: (kind, ordering value, inclusive), None for unbounded.
_Bound = tuple[str, Any, bool] | None


class _Branch:
    """One AND-branch of a WHERE in disjunctive form: its key conditions (partition-key
    equalities and sort-key ranges) and the rest, its filters."""

    __slots__ = ("filters", "keys")

    def __init__(self, keys: list[Condition], filters: list[Condition]) -> None:
        self.keys = keys
        self.filters = filters

    def joined(self, other: _Branch) -> _Branch:
        return _Branch(self.keys + other.keys, self.filters + other.filters)


#: The most reads AWS splits one SELECT into (one per partition-key value and sort-key
#: choice) and the most operands an IN takes.
MAX_DECOMPOSED_READS = 50
MAX_IN_OPERANDS = 100
TOO_MANY_READS = "Too many decomposed read operations for a given query."


def check_read_count(where: Condition | None, keys: KeySchema) -> None:
    """What AWS refuses of a SELECT before it reads: an IN of more than 100 operands, then
    a WHERE every branch of which names a partition yet that splits into more than 50
    reads (``pk IN [51 values]``, ``pk IN [26] AND sk IN [2]``). A branch that names no
    partition makes it one scan, so nothing is counted then."""
    if where is None:
        return
    for condition in _conditions(where):
        if isinstance(condition, In) and len(condition.choices) > MAX_IN_OPERANDS:
            raise validation(
                "The IN operator is provided with too many operands; "
                f"number of operands: {len(condition.choices)}"
            )
    if not _pins_partition(where, keys):
        return
    branches = _spread(where, keys)
    if branches is None or len(branches) > MAX_DECOMPOSED_READS:
        raise validation(TOO_MANY_READS)


def _conditions(condition: Condition) -> list[Condition]:
    """``condition`` and every condition within it."""
    if isinstance(condition, And | Or):
        return [condition, *(c for term in condition.terms for c in _conditions(term))]
    if isinstance(condition, Not):
        return [condition, *_conditions(condition.term)]
    return [condition]


def _pins_partition(condition: Condition, keys: KeySchema) -> bool:
    """Whether every OR-branch of ``condition`` names one partition-key value (``=`` or an
    IN of values)."""
    if isinstance(condition, In):
        return _is_attribute(condition.subject, keys.hash_key) and all(
            isinstance(choice, Value) for choice in condition.choices
        )
    if isinstance(condition, And):
        return any(_pins_partition(term, keys) for term in condition.terms)
    if isinstance(condition, Or):
        return all(_pins_partition(term, keys) for term in condition.terms)
    return _equality_value(condition, keys.hash_key) is not None


def check_key_types(
    where: Condition | None, keys: KeySchema, parameters: list[AttributeValue]
) -> None:
    """A SELECT's key conditions (in every OR branch) hold values of the key's own type, as
    AWS checks before it reads: 'Key value must be of type S, N, or B' for a value no key
    can hold, 'Key attribute's data type should match ...' for another key type."""
    if where is None:
        return
    branches = _spread(where, keys)
    if branches is None:
        return
    types = {keys.hash_key: keys.hash_type, keys.range_key: keys.range_type}
    for branch in branches:
        for term in branch.keys:
            if isinstance(term, Compare):
                name, values = term.left, [term.right]
            elif isinstance(term, Between):
                name, values = term.subject, [term.low, term.high]
            else:  # begins_with: the item API words its operand's type
                continue
            assert isinstance(name, Path)
            attribute = str(name.top)
            for operand in values:
                assert isinstance(operand, Value)
                kind = next(iter(bind(operand.value, parameters)), "")
                if kind not in ("S", "N", "B"):
                    raise validation(
                        "Key value must be of type S, N, or B. Key name: "
                        f"{attribute}, Key type: {kind}"
                    )
                if kind != types[attribute]:
                    raise validation(
                        "Key attribute's data type should match its data type in table's "
                        f"schema: Key {attribute}"
                    )


def check_overlap(
    where: Condition | None, keys: KeySchema, parameters: list[AttributeValue]
) -> None:
    """AWS runs a SELECT whose OR branches each name one partition as one read per branch
    and refuses branches whose sort-key ranges overlap within a partition. A branch that
    tests the sort key in a way no range can hold (``<>``, ``NOT``) makes it read with a
    filter instead, so nothing is refused then (a conformance suite, against AWS)."""
    if where is None:
        return
    branches = _spread(where, keys)
    if branches is None or len(branches) < 2:
        return
    seen: list[tuple[Any, tuple[_Bound, _Bound]]] = []
    for branch in branches:
        partitions = {
            _ordering(bind(term.right.value, parameters))
            for term in branch.keys
            if isinstance(term, Compare)
            and _is_attribute(term.left, keys.hash_key)
            and isinstance(term.right, Value)
        }
        if len(partitions) != 1 or None in partitions:
            return
        if keys.range_key is not None and any(
            _names(term, keys.range_key) for term in branch.filters
        ):
            return
        span = _sort_range(branch, keys, parameters)
        if span is None:
            return
        (partition,) = partitions
        for other_partition, other in seen:
            kinds = _kinds(span) | _kinds(other)
            if other_partition != partition or len(kinds) > 1:
                continue  # another partition, or bounds the key's own checks refuse
            if _nonempty(_intersect(span, other)):
                raise validation(OVERLAP)
        seen.append((partition, span))


def _spread(condition: Condition, keys: KeySchema) -> list[_Branch] | None:
    """``condition`` as OR-branches, splitting only ORs (and INs) that name a key;
    None when there would be too many."""
    if (
        isinstance(condition, In)
        and _key_attribute(condition.subject, keys)
        and all(isinstance(choice, Value) for choice in condition.choices)
    ):
        return [
            _Branch([Compare(condition.subject, "=", choice)], []) for choice in condition.choices
        ]
    if _is_key_term(condition, keys):
        return [_Branch([_as_key_term(condition, keys)], [])]
    if isinstance(condition, And):
        branches: list[_Branch] = [_Branch([], [])]
        for term in condition.terms:
            spread = _spread(term, keys)
            if spread is None or len(branches) * len(spread) > _MOST_BRANCHES:
                return None
            branches = [left.joined(right) for left in branches for right in spread]
        return branches
    if isinstance(condition, Or) and _names_key(condition, keys):
        branches = []
        for term in condition.terms:
            spread = _spread(term, keys)
            if spread is None or len(branches) + len(spread) > _MOST_BRANCHES:
                return None
            branches.extend(spread)
        return branches
    return [_Branch([], [condition])]


def _key_attribute(operand: Any, keys: KeySchema) -> bool:
    return any(_is_attribute(operand, name) for name in keys.names)


def _is_key_term(condition: Condition, keys: KeySchema) -> bool:
    if _equality_value(condition, keys.hash_key) is not None:
        return True
    return keys.range_key is not None and _key_condition(condition, keys.range_key) is not None


def _as_key_term(condition: Condition, keys: KeySchema) -> Condition:
    """A key term with its attribute on the left."""
    value = _equality_value(condition, keys.hash_key)
    if value is not None:
        return Compare(Path((keys.hash_key,)), "=", value)
    assert keys.range_key is not None
    term = _key_condition(condition, keys.range_key)
    assert term is not None
    return term


def _names_key(condition: Condition, keys: KeySchema) -> bool:
    """Whether a key term or a key IN stands anywhere in ``condition`` outside a NOT."""
    if isinstance(condition, And | Or):
        return any(_names_key(term, keys) for term in condition.terms)
    if isinstance(condition, In):
        return _key_attribute(condition.subject, keys)
    return _is_key_term(condition, keys)


def _ordering(value: AttributeValue) -> tuple[str, Any] | None:
    """A key value in DynamoDB's order: numbers by value, strings and binaries bytewise."""
    ((kind, inner),) = value.items()
    if kind == "N":
        try:
            return ("N", Decimal(inner))
        except (InvalidOperation, TypeError):
            return None
    if kind == "S":
        return ("B", str(inner).encode())
    if kind == "B":
        return ("B", bytes(inner))
    return None


def _sort_range(
    branch: _Branch, keys: KeySchema, parameters: list[AttributeValue]
) -> tuple[_Bound, _Bound] | None:
    """The sort-key range a branch reads; None when its bounds cannot be ordered."""
    span: tuple[_Bound, _Bound] = (None, None)
    kinds: set[str] = set()
    for term in branch.keys:
        if _equality_value(term, keys.hash_key) is not None:
            continue
        own = _term_range(term, parameters)
        if own is None:
            return None
        kinds.update(bound[0] for bound in own if bound is not None)
        span = _intersect(span, own)
    return None if len(kinds) > 1 else span


def _term_range(term: Condition, parameters: list[AttributeValue]) -> tuple[_Bound, _Bound] | None:
    def bound(operand: Any, inclusive: bool) -> _Bound:
        assert isinstance(operand, Value)
        found = _ordering(bind(operand.value, parameters))
        return None if found is None else (found[0], found[1], inclusive)

    if isinstance(term, Between):
        low, high = bound(term.low, True), bound(term.high, True)
        return None if low is None or high is None else (low, high)
    if isinstance(term, Function):  # begins_with: from the prefix to its successor
        prefix = bound(term.call.args[1], True)
        if prefix is None or prefix[0] != "B":
            return None
        return prefix, _successor(prefix[1])
    assert isinstance(term, Compare)
    value = bound(term.right, term.operator in ("=", "<=", ">="))
    if value is None:
        return None
    if term.operator == "=":
        return value, value
    return (value, None) if term.operator in (">", ">=") else (None, value)


def _successor(prefix: bytes) -> _Bound:
    """The first byte string after every string that starts with ``prefix``."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return ("B", trimmed[:-1] + bytes((trimmed[-1] + 1,)), False)


def _intersect(left: tuple[_Bound, _Bound], right: tuple[_Bound, _Bound]) -> tuple[_Bound, _Bound]:
    return _tighter(left[0], right[0], lower=True), _tighter(left[1], right[1], lower=False)


def _tighter(one: _Bound, other: _Bound, *, lower: bool) -> _Bound:
    if one is None or other is None:
        return other if one is None else one
    if one[1] == other[1]:
        return one if not one[2] else other
    return one if (one[1] > other[1]) == lower else other


def _kinds(span: tuple[_Bound, _Bound]) -> set[str]:
    return {bound[0] for bound in span if bound is not None}


def _nonempty(span: tuple[_Bound, _Bound]) -> bool:
    low, high = span
    if low is None or high is None or low[0] != high[0]:
        return True
    return bool(low[1] < high[1] or (low[1] == high[1] and low[2] and high[2]))


def _existing(writer: ExpressionWriter, keys: KeySchema, rest: list[Condition]) -> str:
    """The condition of an UPDATE or EXISTS: the item exists and the rest holds."""
    exists = Function(Call("attribute_exists", (Path((keys.hash_key,)),)))
    return writer.condition(And((exists, *rest)))


def _update_expression(update: Update, writer: ExpressionWriter) -> str:
    sets: list[str] = []
    adds: list[str] = []
    deletes: list[str] = []
    for assignment in update.assignments:
        value = assignment.value
        if isinstance(value, Call) and value.name in ("set_add", "set_delete"):
            if len(value.args) != 2 or value.args[0] != assignment.path:
                raise validation(
                    f"{value.name} must name the attribute it sets: "
                    f"SET a = {value.name}(a, <<...>>)"
                )
            clause = f"{writer.path(assignment.path)} {writer.operand(value.args[1])}"
            (adds if value.name == "set_add" else deletes).append(clause)
            continue
        sets.append(f"{writer.path(assignment.path)} = {writer.operand(value)}")
    parts = []
    if sets:
        parts.append("SET " + ", ".join(sets))
    if update.removals:
        parts.append("REMOVE " + ", ".join(writer.path(p) for p in update.removals))
    if adds:
        parts.append("ADD " + ", ".join(adds))
    if deletes:
        parts.append("DELETE " + ", ".join(deletes))
    return " ".join(parts)


def _batch_error(error: AwsError) -> dict[str, Any]:
    code = {
        "ConditionalCheckFailedException": "ConditionalCheckFailed",
        "ValidationException": "ValidationError",
    }.get(error.code, error.code.removesuffix("Exception"))
    body: dict[str, Any] = {"Code": code, "Message": error.message}
    if "Item" in error.fields:
        body["Item"] = error.fields["Item"]
    return body


def _duplicates_named(error: AwsError, statements: list[Statement]) -> AwsError:
    """A cancelled transaction's reasons, with a failed INSERT's as DuplicateItem."""
    reasons = list(error.fields.get("CancellationReasons", []))
    for index, statement in enumerate(statements):
        if isinstance(statement, Insert) and reasons[index].get("Code") == "ConditionalCheckFailed":
            reasons[index] = {"Code": "DuplicateItem", "Message": DUPLICATE_ITEM}
    codes = ", ".join(reason["Code"] for reason in reasons)
    return AwsError(
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        fields={"CancellationReasons": reasons},
    )
