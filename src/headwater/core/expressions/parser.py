"""One recursive-descent parser for every DynamoDB expression kind.

Condition, filter and key-condition expressions share one grammar; update and projection
expressions reuse its paths and operands. Errors carry AWS's wording; when an expression
has several problems, the one AWS reports first wins (syntax, then the categories in
``_CONDITION_ORDER`` / ``_UPDATE_ORDER``). Checks that depend on
``ExpressionAttributeValues`` (operand types, BETWEEN bounds) are deferred to ``bind`` so
parsed expressions can be cached across calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from headwater.core.expressions.documents import Path, path_text
from headwater.core.expressions.lexer import (
    EOF,
    IDENT,
    NAME,
    NUMBER,
    PUNCT,
    VALUE,
    ExpressionSyntaxError,
    Token,
    check_source,
    syntax_error,
    tokenize,
)
from headwater.core.expressions.reserved_words import is_reserved
from headwater.core.expressions.syntax import (
    And,
    Arithmetic,
    Between,
    Comparison,
    FunctionCall,
    IfNotExists,
    In,
    ListAppend,
    Not,
    Or,
    Parsed,
    PathOperand,
    SizeOperand,
    UpdateAction,
    ValueOperand,
)
from headwater.core.expressions.values import AttributeValue, compare, validation, value_type

ValueCheck = Callable[[Mapping[str, AttributeValue]], "str | None"]

COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
CONDITION_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})
UPDATE_KEYWORDS = frozenset({"SET", "REMOVE", "ADD", "DELETE"})
#: Condition functions and how many operands each takes (size is an operand, not a condition).
CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
MAX_IN_OPERANDS = 100
#: The largest list index a path may name (an unsigned 32-bit integer's largest less one):
#: AWS appends at l[2000000000] and refuses l[4294967295] (us-east-1, 2026-09-05, as
#: reported in floci-io/floci#3073).
MAX_LIST_INDEX = 4294967294

_CONDITION_ORDER = (
    "parens", "unknown_function", "misused_function", "reserved",
    "name", "operand", "distinct", "function",
)  # fmt: skip
_UPDATE_ORDER = (
    "reserved", "unknown_function", "section", "name",
    "overlap", "conflict", "operand", "function",
)  # fmt: skip
_TYPE_WORDS = {
    "S": "STRING", "N": "NUMBER", "B": "BINARY", "NULL": "NULL",
    "BOOL": "BOOLEAN", "L": "LIST", "M": "MAP",
}  # fmt: skip


class _Backtrack(Exception):
    pass


class _Parser:
    def __init__(self, source: str, names: Mapping[str, str], keywords: frozenset[str]) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0
        self.names = names
        self.keywords = keywords
        self.names_used: set[str] = set()
        self.values_used: list[str] = []
        self.errors: dict[str, str] = {}
        self.checks: list[ValueCheck] = []
        self.paren_spans: set[tuple[int, int]] = set()

    # ---- tokens ----

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self) -> ExpressionSyntaxError:
        return syntax_error(self.source, self.tokens, self.pos)

    def is_punct(self, text: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == PUNCT and token.text == text

    def expect(self, text: str) -> Token:
        if not self.is_punct(text):
            raise self.fail()
        return self.advance()

    def at_keyword(self, word: str) -> bool:
        return self.peek().keyword() == word

    def note(self, category: str, message: str) -> None:
        self.errors.setdefault(category, message)

    def first_error(self, order: tuple[str, ...]) -> str | None:
        for category in order:
            if category in self.errors:
                return self.errors[category]
        return None

    def snapshot(self) -> tuple[Any, ...]:
        return (
            self.pos, dict(self.errors), set(self.names_used), list(self.values_used),
            len(self.checks), set(self.paren_spans),
        )  # fmt: skip

    def restore(self, state: tuple[Any, ...]) -> None:
        self.pos, self.errors, self.names_used, self.values_used, count, self.paren_spans = state
        del self.checks[count:]

    # ---- paths and operands ----

    def path(self) -> Path:
        parts: list[str | int] = [self.path_element()]
        while True:
            if self.is_punct("."):
                self.advance()
                parts.append(self.path_element())
            elif self.is_punct("["):
                self.advance()
                token = self.peek()
                if token.kind != NUMBER:
                    raise self.fail()
                self.advance()
                self.expect("]")
                index = int(token.text)
                if index > MAX_LIST_INDEX:
                    # Found in the pass that finds reserved words, in written order.
                    self.note(
                        "reserved",
                        f"List index is not within the allowable range; index: [{token.text}]",
                    )
                parts.append(index)
            else:
                return tuple(parts)

    def path_element(self) -> str:
        token = self.peek()
        if token.kind == IDENT and token.text.upper() not in self.keywords:
            self.advance()
            if is_reserved(token.text):
                self.note(
                    "reserved",
                    f"Attribute name is a reserved keyword; reserved keyword: {token.text}",
                )
            return token.text
        if token.kind == NAME and len(token.text) > 1:
            self.advance()
            name = self.names.get(token.text)
            if name is None:
                self.note(
                    "name",
                    "An expression attribute name used in the document path is not defined; "
                    f"attribute name: {token.text}",
                )
                return token.text
            self.names_used.add(token.text)
            return name
        raise self.fail()

    def value(self) -> ValueOperand:
        token = self.peek()
        if token.kind != VALUE or len(token.text) < 2:
            raise self.fail()
        self.advance()
        if token.text not in self.values_used:
            self.values_used.append(token.text)
        return ValueOperand(token.text)

    def arguments(self, operand: Callable[[], Any]) -> list[Any]:
        self.expect("(")
        args = [operand()]
        while self.is_punct(","):
            self.advance()
            args.append(operand())
        self.expect(")")
        return args

    def parenthesized(self, inner: Callable[[], Any]) -> Any:
        start = self.pos
        self.expect("(")
        node = inner()
        end = self.pos
        self.expect(")")
        if (start + 1, end - 1) in self.paren_spans:
            self.note("parens", "The expression has redundant parentheses;")
        self.paren_spans.add((start, end))
        return node

    # ---- conditions ----

    def condition(self) -> Any:
        left = self.conjunction()
        while self.at_keyword("OR"):
            self.advance()
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Any:
        left = self.negation()
        while self.at_keyword("AND"):
            self.advance()
            left = And(left, self.negation())
        return left

    def negation(self) -> Any:
        if self.at_keyword("NOT"):
            self.advance()
            return Not(self.negation())
        return self.primary()

    def primary(self) -> Any:
        if self.is_punct("("):
            state = self.snapshot()
            try:
                node = self.parenthesized(self.condition)
                following = self.peek()
                if (following.kind == PUNCT and following.text in COMPARATORS) or (
                    following.keyword() in ("BETWEEN", "IN")
                ):
                    raise _Backtrack
                return node
            except (ExpressionSyntaxError, _Backtrack):
                self.restore(state)
        return self.predicate()

    def predicate(self) -> Any:
        left = self.operand()
        token = self.peek()
        if token.kind == PUNCT and token.text in COMPARATORS:
            self.advance()
            right = self.operand()
            self.misused(left, right)
            self.distinct(token.text, left, right)
            return Comparison(token.text, left, right)
        word = token.keyword()
        if word == "BETWEEN":
            self.advance()
            low = self.operand()
            if not self.at_keyword("AND"):
                raise self.fail()
            self.advance()
            high = self.operand()
            self.misused(left, low, high)
            self.between_check(low, high)
            return Between(left, low, high)
        if word == "IN":
            self.advance()
            options = self.arguments(self.operand)
            self.misused(left, *options)
            if len(options) > MAX_IN_OPERANDS:
                self.note(
                    "operand",
                    "The IN operator is provided with too many operands; "
                    f"number of operands: {len(options)}",
                )
            return In(left, tuple(options))
        if isinstance(left, FunctionCall):
            return left
        if isinstance(left, SizeOperand):
            self.note(
                "misused_function",
                "The function is not allowed to be used this way in an expression; function: size",
            )
            return left
        raise self.fail()

    def misused(self, *operands: Any) -> None:
        for operand in operands:
            if isinstance(operand, FunctionCall):
                self.note(
                    "misused_function",
                    "The function is not allowed to be used this way in an expression; "
                    f"function: {operand.name}",
                )

    def distinct(self, operator: str, first: Any, *rest: Any) -> None:
        if isinstance(first, PathOperand) and any(
            isinstance(other, PathOperand) and other.path == first.path for other in rest
        ):
            self.note(
                "distinct",
                "The first operand must be distinct from the remaining operands for this "
                f"operator or function; operator: {operator}, first operand: "
                f"{path_text(first.path)}",
            )

    def operand(self) -> Any:
        token = self.peek()
        if token.kind == PUNCT and token.text == "(":
            return self.parenthesized(self.operand)
        if token.kind == VALUE:
            return self.value()
        if (
            token.kind == IDENT
            and self.is_punct("(", 1)
            and token.text.upper() not in self.keywords
        ):
            return self.function()
        if token.kind in (IDENT, NAME):
            return PathOperand(self.path())
        raise self.fail()

    def function(self) -> Any:
        name = self.advance().text
        args = self.arguments(self.operand)
        expected = CONDITION_FUNCTIONS.get(name)
        if expected is None:
            self.note("unknown_function", _unknown_function(name, UPDATE_FUNCTIONS, "a condition"))
            return FunctionCall(name, tuple(args))
        self.misused(*args)
        if len(args) != expected:
            self.note(
                "operand",
                "Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(args)}",
            )
            return FunctionCall(name, tuple(args))
        self.distinct(name, *args)
        if name in ("attribute_exists", "attribute_not_exists") and not isinstance(
            args[0], PathOperand
        ):
            self.note(
                "function",
                f"Operator or function requires a document path; operator or function: {name}",
            )
        elif name == "begins_with":
            for arg in args:
                self.require_types(arg, name, ("S", "B"))
        elif name == "attribute_type":
            self.attribute_type_check(args[1])
        elif name == "size":
            self.require_types(args[0], name, ("S", "B", "SS", "NS", "BS", "L", "M"))
            return SizeOperand(args[0])
        return FunctionCall(name, tuple(args))

    # ---- value checks (deferred to bind) ----

    def require_types(self, operand: Any, name: str, allowed: tuple[str, ...]) -> None:
        if not isinstance(operand, ValueOperand):
            return
        key = operand.name

        def check(values: Mapping[str, AttributeValue]) -> str | None:
            kind = value_type(values[key])
            if kind in allowed:
                return None
            return (
                "Incorrect operand type for operator or function; "
                f"operator or function: {name}, operand type: {kind}"
            )

        self.checks.append(check)

    def attribute_type_check(self, operand: Any) -> None:
        if not isinstance(operand, ValueOperand):
            return
        key = operand.name

        def check(values: Mapping[str, AttributeValue]) -> str | None:
            value = values[key]
            kind = value_type(value)
            if kind != "S":
                return (
                    "Incorrect operand type for operator or function; "
                    f"operator or function: attribute_type, operand type: {kind}"
                )
            if value["S"] not in ATTRIBUTE_TYPES:
                return (
                    f"Invalid attribute type name found; type: {value['S']}, "
                    "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
                )
            return None

        self.checks.append(check)

    def between_check(self, low: Any, high: Any) -> None:
        if not (isinstance(low, ValueOperand) and isinstance(high, ValueOperand)):
            return
        low_key, high_key = low.name, high.name

        def check(values: Mapping[str, AttributeValue]) -> str | None:
            first, second = values[low_key], values[high_key]
            first_kind, second_kind = value_type(first), value_type(second)
            shown = (
                f"lower bound operand: AttributeValue: {{{first_kind}:{first[first_kind]}}}, "
                f"upper bound operand: AttributeValue: {{{second_kind}:{second[second_kind]}}}"
            )
            if first_kind != second_kind:
                return (
                    "The BETWEEN operator requires same data type for lower and upper "
                    f"bounds; {shown}"
                )
            order = compare(first, second)
            if order is not None and order > 0:
                return (
                    "The BETWEEN operator requires upper bound to be greater than or equal to "
                    f"lower bound; {shown}"
                )
            return None

        self.checks.append(check)

    # ---- update expressions ----

    def update(self) -> tuple[UpdateAction, ...]:
        actions: list[UpdateAction] = []
        seen: set[str] = set()
        if self.peek().kind == EOF:
            raise self.fail()
        while self.peek().kind != EOF:
            word = self.peek().keyword()
            if word not in UPDATE_KEYWORDS:
                raise self.fail()
            self.advance()
            if word in seen:
                self.note(
                    "section",
                    f'The "{word}" section can only be used once in an update expression;',
                )
            seen.add(word)
            while True:
                actions.append(self.update_action(word))
                if not self.is_punct(","):
                    break
                self.advance()
        self.overlaps([action.path for action in actions])
        return tuple(actions)

    def update_action(self, word: str) -> UpdateAction:
        path = self.path()
        if word == "SET":
            self.expect("=")
            return UpdateAction("SET", path, self.set_value())
        if word == "REMOVE":
            return UpdateAction("REMOVE", path)
        value = self.value()
        self.operand_type_check(word, value)
        return UpdateAction(word, path, value)

    def set_value(self) -> Any:
        if self.is_punct("("):
            state = self.snapshot()
            try:
                start = self.pos
                self.advance()
                node = self.set_value()
                end = self.pos
                self.expect(")")
                self.paren_spans.add((start, end))
                return node
            except ExpressionSyntaxError:
                self.restore(state)
        left = self.update_operand()
        if self.is_punct("+") or self.is_punct("-"):
            operator = self.advance().text
            right = self.update_operand()
            for operand in (left, right):
                self.require_types(operand, operator, ("N",))
            return Arithmetic(operator, left, right)
        return left

    def update_operand(self) -> Any:
        token = self.peek()
        if token.kind == PUNCT and token.text == "(":
            return self.parenthesized(self.update_operand)
        if token.kind == VALUE:
            return self.value()
        if (
            token.kind == IDENT
            and self.is_punct("(", 1)
            and token.text.upper() not in self.keywords
        ):
            name = self.advance().text
            args = self.arguments(self.update_operand)
            expected = UPDATE_FUNCTIONS.get(name)
            if expected is None:
                self.note(
                    "unknown_function", _unknown_function(name, CONDITION_FUNCTIONS, "an update")
                )
            elif len(args) != expected:
                self.note(
                    "function",
                    "Incorrect number of operands for operator or function; "
                    f"operator or function: {name}, number of operands: {len(args)}",
                )
            elif name == "if_not_exists":
                if isinstance(args[0], PathOperand):
                    return IfNotExists(args[0].path, args[1])
                self.note(
                    "function",
                    "Operator or function requires a document path; operator or function: "
                    "if_not_exists",
                )
            else:
                for arg in args:
                    self.require_types(arg, name, ("L",))
                return ListAppend(args[0], args[1])
            return ValueOperand("")  # placeholder; an error is always noted
        if token.kind in (IDENT, NAME):
            return PathOperand(self.path())
        raise self.fail()

    def operand_type_check(self, operator: str, value: ValueOperand) -> None:
        key = value.name

        def check(values: Mapping[str, AttributeValue]) -> str | None:
            kind = value_type(values[key])
            if kind in _TYPE_WORDS and not (operator == "ADD" and kind == "N"):
                return (
                    "Incorrect operand type for operator or function; "
                    f"operator: {operator}, operand type: {_TYPE_WORDS[kind]}"
                )
            return None

        self.checks.append(check)

    def overlaps(self, paths: list[Path]) -> None:
        for index, second in enumerate(paths):
            for first in paths[:index]:
                message = _overlap(first, second)
                if message is not None:
                    self.note(*message)
                    return

    # ---- projections ----

    def projection(self) -> tuple[Path, ...]:
        paths = [self.path()]
        while self.is_punct(","):
            self.advance()
            paths.append(self.path())
        self.overlaps(paths)
        return tuple(paths)


def _overlap(first: Path, second: Path) -> tuple[str, str] | None:
    shown = (
        f"must remove or rewrite one of these paths; path one: {path_text(first)}, "
        f"path two: {path_text(second)}"
    )
    for a, b in zip(first, second, strict=False):
        if type(a) is not type(b):
            return "conflict", f"Two document paths conflict with each other; {shown}"
        if a != b:
            return None
    return "overlap", f"Two document paths overlap with each other; {shown}"


# ---- entry points ----

CONDITION_LABELS = frozenset({"ConditionExpression", "FilterExpression", "KeyConditionExpression"})


def _unknown_function(name: str, other_kind: dict[str, int], expression: str) -> str:
    """AWS's error for a function this kind of expression does not have: a function of the
    other kind (``size`` in an update, ``if_not_exists`` in a condition) is named so."""
    if name in other_kind:
        return f"The function is not allowed in {expression} expression; function: {name}"
    return f"Invalid function name; function: {name}"


@lru_cache(maxsize=2048)
def _parse(label: str, source: str, names: tuple[tuple[str, str], ...]) -> Parsed:
    check_source(source, label)
    if label == "UpdateExpression":
        parser = _Parser(source, dict(names), UPDATE_KEYWORDS)
        parse: Callable[[], Any] = parser.update
        order = _UPDATE_ORDER
    elif label == "ProjectionExpression":
        parser = _Parser(source, dict(names), frozenset())
        parse = parser.projection
        order = _UPDATE_ORDER
    else:
        parser = _Parser(source, dict(names), CONDITION_KEYWORDS)
        parse = parser.condition
        order = _CONDITION_ORDER
    try:
        root = parse()
        if parser.peek().kind != EOF:
            raise parser.fail()
    except ExpressionSyntaxError as error:
        raise validation(f"Invalid {label}: {error.message}") from None
    message = parser.first_error(order)
    if message is not None:
        raise validation(f"Invalid {label}: {message}")
    return Parsed(
        root, frozenset(parser.names_used), tuple(parser.values_used), tuple(parser.checks)
    )


def parse(label: str, source: str, names: Mapping[str, str] | None = None) -> Parsed:
    """Parse ``source`` as the expression parameter ``label`` (``"UpdateExpression"``...).

    ``names`` is the request's ExpressionAttributeNames. Raises ValidationException with
    AWS's message, prefixed ``Invalid <label>: ``.
    """
    key = tuple(sorted(names.items())) if names else ()
    return _parse(label, source, key)


def bind(label: str, parsed: Parsed, values: Mapping[str, AttributeValue] | None) -> None:
    """Check ``parsed`` against the request's ExpressionAttributeValues."""
    for name in parsed.values_used:
        if values is None or name not in values:
            raise validation(
                f"Invalid {label}: An expression attribute value used in expression is not "
                f"defined; attribute value: {name}"
            )
    for check in parsed.value_checks:
        message = check(values or {})
        if message is not None:
            raise validation(f"Invalid {label}: {message}")
