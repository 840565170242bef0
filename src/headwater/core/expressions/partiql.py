"""PartiQL for DynamoDB: the statements ``ExecuteStatement`` and its batch and transaction
forms take, parsed into a small tree.

The subset DynamoDB documents: ``SELECT`` (a projection list or ``*``, ``FROM "table"`` or
``"table"."index"``, ``WHERE``, ``ORDER BY``), ``INSERT INTO ... VALUE {...}``, ``UPDATE
... SET/REMOVE ... WHERE ... [RETURNING ...]``, ``DELETE FROM ... WHERE ... [RETURNING ALL
OLD *]`` and, in transactions, ``EXISTS(SELECT ...)``. Conditions hold comparisons,
``BETWEEN``, ``IN``, ``IS [NOT] MISSING``, ``IS [NOT] NULL``, ``AND`` / ``OR`` / ``NOT``
and the functions ``begins_with``, ``contains``, ``attribute_type`` and ``size``. Values
are PartiQL literals (``'text'``, numbers, ``true``, ``null``, ``[...]``, ``{'k': ...}``,
``<<...>>`` for sets) or ``?`` parameters, numbered left to right.

The service turns a statement into the item API's own requests (services/dynamodb/
statements.py), so conditions, updates and errors behave as they do there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from headwater.core.errors import AwsError
from headwater.core.expressions.values import (
    checked_number,
    integer_fits,
    number_parts,
    validation,
)
from headwater.core.values import JAVA_INT

# ---- the tree ----

#: A document path: attribute names and list indexes, outermost first.
PathSegments = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Path:
    segments: PathSegments

    @property
    def top(self) -> str | int:
        return self.segments[0]


def column_name(segments: PathSegments) -> str:
    """The name a SELECT answers a projected path under: its last attribute name with the
    list indexes that follow it, as AWS names its columns (``m.k[0]`` is ``k[0]``, ``l[0]``
    is ``l[0]``, ``a.b[1].c`` is ``c``)."""
    name = ""
    for step in segments:
        name = step if isinstance(step, str) else f"{name}[{step}]"
    return name


@dataclass(frozen=True, slots=True)
class Value:
    """A literal in DynamoDB's AttributeValue form; ``{"?": n}`` stands for the n-th
    ``?`` parameter and ``{"<<": [...]}`` for a set, both resolved by ``bind``."""

    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # lower case
    args: tuple[Operand, ...]
    #: Where the name and each argument start, as AWS's messages give them: line:column:length.
    position: str = field(default="", compare=False)
    arg_positions: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Arithmetic:
    left: Operand
    operator: str  # + or -
    right: Operand


Operand = Path | Value | Call | Arithmetic


@dataclass(frozen=True, slots=True)
class Compare:
    left: Operand
    operator: str  # = <> < <= > >=
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    subject: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    subject: Operand
    choices: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Is:
    path: Path
    what: Literal["MISSING", "NULL"]
    negated: bool


@dataclass(frozen=True, slots=True)
class Function:
    """A boolean function: begins_with, contains, attribute_type, attribute_exists..."""

    call: Call


@dataclass(frozen=True, slots=True)
class And:
    terms: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Or:
    terms: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    term: Condition


Condition = Compare | Between | In | Is | Function | And | Or | Not

Returning = Literal["ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]


@dataclass(frozen=True, slots=True)
class Select:
    table: str
    index: str | None
    projection: tuple[Path, ...] | None  # None for *
    where: Condition | None
    order_by: tuple[Path, bool] | None = None  # (path, ascending)


@dataclass(frozen=True, slots=True)
class Insert:
    table: str
    item: Value


@dataclass(frozen=True, slots=True)
class Assignment:
    path: Path
    value: Operand


@dataclass(frozen=True, slots=True)
class Update:
    table: str
    assignments: tuple[Assignment, ...]
    removals: tuple[Path, ...]
    where: Condition | None
    returning: Returning | None


@dataclass(frozen=True, slots=True)
class Delete:
    table: str
    where: Condition | None
    returning: Returning | None


@dataclass(frozen=True, slots=True)
class Exists:
    """``EXISTS(SELECT * FROM t WHERE ...)``: a transaction's condition check."""

    select: Select


Statement = Select | Insert | Update | Delete | Exists


@dataclass(slots=True)
class ParsedStatement:
    statement: Statement
    parameters: int = 0  # how many ``?`` it holds


# ---- errors ----


def malformed(detail: str = "") -> AwsError:
    """AWS's answer to a statement it cannot parse (nothing after the colon for text it
    cannot read at all: a stray character, a number it cannot convert)."""
    return AwsError(
        "ValidationException", f"Statement wasn't well formed, can't be processed: {detail}"
    )


LEFTOVER = "Unexpected token after expression"
#: The largest list index a PartiQL path may name: a signed 32-bit integer's (l[2147483647]
#: reads, l[2147483648] and l[-1] are refused: eu-west-2, 2026-09-17, captured in floci's
#: PartiQL edge-case tests).
MAX_LIST_INDEX = 2147483647
AFTER_SEMICOLON = "Unexpected token after semicolon. (Only one query is allowed.)"
MISSING_RIGHT = "Missing right-hand side expression of infix operator"
SIMPLE_PATH = "Expected identifier for simple path"
DOT_COMPONENT = "Invalid path dot component"
#: The functions a WHERE clause may call (any case): tests, and ``size`` as an operand.
CONDITION_FUNCTIONS = frozenset(
    ("attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains")
)
WHERE_FUNCTIONS = CONDITION_FUNCTIONS | {"size"}
#: ``x IS <type>``: the DynamoDB type each PartiQL type name tests for. A word that names
#: no PartiQL type (NUMBER, MAP ...) is "Expected type name".
TYPE_NAMES = {
    "BOOL": "BOOL",
    "BOOLEAN": "BOOL",
    "STRING": "S",
    "NUMERIC": "N",
    "INT": "N",
    "INTEGER": "N",
    "DECIMAL": "N",
    "FLOAT": "N",
    "BLOB": "B",
    "LIST": "L",
    "STRUCT": "M",
    "TUPLE": "M",
}


# ---- lexer ----

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<punct><<|>>|<=|>=|<>|!=|[=<>()\[\]{},.:;?*+\-])
    """,
    re.VERBOSE | re.DOTALL,
)

#: PartiQL's reserved words (its SQL-92 and PartiQL keyword lists): unquoted, none of them
#: names an attribute or a table. A path through one is refused as AWS's parser refuses it.
KEYWORDS = frozenset(
    """ABSOLUTE ACTION ADD ALL ALLOCATE ALTER AND ANY ARE AS ASC ASSERTION AT AUTHORIZATION AVG
    BEGIN BETWEEN BIT BIT_LENGTH BY CASCADE CASCADED CASE CAST CATALOG CHAR CHARACTER
    CHARACTER_LENGTH CHAR_LENGTH CHECK CLOSE COALESCE COLLATE COLLATION COLUMN COMMIT CONNECT
    CONNECTION CONSTRAINT CONSTRAINTS CONTINUE CONVERT CORRESPONDING COUNT CREATE CROSS CURRENT
    CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATE DEALLOCATE DEC DECIMAL
    DECLARE DEFAULT DEFERRABLE DEFERRED DELETE DESC DESCRIBE DESCRIPTOR DIAGNOSTICS DISCONNECT
    DISTINCT DOMAIN DOUBLE DROP ELSE END ESCAPE EXCEPT EXCEPTION EXEC EXECUTE EXISTS EXTERNAL
    EXTRACT DATE_ADD DATE_DIFF FALSE FETCH FIRST FLOAT FOR FOREIGN FOUND FROM FULL GET GLOBAL GO
    GOTO GRANT GROUP HAVING IDENTITY IMMEDIATE IN INDICATOR INITIALLY INNER INPUT INSENSITIVE
    INSERT INT INTEGER INTERSECT INTERVAL INTO IS ISOLATION JOIN KEY LANGUAGE LAST LEFT LEVEL LIKE
    LOCAL LOWER MATCH MAX MIN MODULE NAMES NATIONAL NATURAL NCHAR NEXT NO NOT NULL NULLIF NUMERIC
    OCTET_LENGTH OF ON ONLY OPEN OPTION OR ORDER OUTER OUTPUT OVERLAPS PAD PARTIAL POSITION
    PRECISION PREPARE PRESERVE PRIMARY PRIOR PRIVILEGES PROCEDURE PUBLIC READ REAL REFERENCES
    RELATIVE RESTRICT REVOKE RIGHT ROLLBACK ROWS SCHEMA SCROLL SECTION SELECT SESSION
    SESSION_USER SET SIZE SMALLINT SOME SPACE SQL SQLCODE SQLERROR SQLSTATE SUBSTRING SUM
    SYSTEM_USER TABLE TEMPORARY THEN TIME TIMESTAMP TO TRANSACTION TRANSLATE TRANSLATION TRIM
    TRUE UNION UNIQUE UNKNOWN UPDATE UPPER USAGE USER USING VALUE VALUES VARCHAR VARYING VIEW
    WHEN WHENEVER WHERE WITH WORK WRITE ZONE
    CAN_CAST CAN_LOSSLESS_CAST MISSING PIVOT UNPIVOT LIMIT OFFSET TUPLE REMOVE INDEX LET INTEGER2
    INT2 INTEGER4 INT4 INTEGER8 INT8 BIGINT CONFLICT DO NOTHING RETURNING MODIFIED NEW OLD BOOL
    BOOLEAN STRING SYMBOL CLOB BLOB STRUCT LIST SEXP BAG""".split()  # noqa: SIM905
)
#: PartiQL's type names, as its parser reads them after IS, and the data type each is.
PARTIQL_TYPES = {
    "MISSING": "MISSING",
    "NULL": "NULL",
    "BOOLEAN": "BOOLEAN",
    "BOOL": "BOOLEAN",
    "SMALLINT": "SMALLINT",
    "INT2": "SMALLINT",
    "INTEGER2": "SMALLINT",
    "INTEGER4": "INTEGER4",
    "INT4": "INTEGER4",
    "INTEGER8": "INTEGER8",
    "INT8": "INTEGER8",
    "BIGINT": "INTEGER8",
    "INTEGER": "INTEGER",
    "INT": "INTEGER",
    "FLOAT": "FLOAT",
    "REAL": "REAL",
    "DOUBLE PRECISION": "DOUBLE_PRECISION",
    "DECIMAL": "DECIMAL",
    "DEC": "DECIMAL",
    "NUMERIC": "NUMERIC",
    "TIMESTAMP": "TIMESTAMP",
    "DATE": "DATE",
    "TIME": "TIME",
    "CHARACTER": "CHARACTER",
    "CHAR": "CHARACTER",
    "CHARACTER VARYING": "CHARACTER_VARYING",
    "VARCHAR": "CHARACTER_VARYING",
    "STRING": "STRING",
    "SYMBOL": "SYMBOL",
    "CLOB": "CLOB",
    "BLOB": "BLOB",
    "STRUCT": "STRUCT",
    "TUPLE": "TUPLE",
    "LIST": "LIST",
    "SEXP": "SEXP",
    "BAG": "BAG",
}
IS_TYPE_UNSUPPORTED = (
    "Unsupported data type for IS operator: {}. Supported data types are [MISSING, NULL, "
    "BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]"
)
#: Reserved words that are operators: where a term should start, "Unexpected operator".
OPERATOR_WORDS = frozenset(
    ("AND", "OR", "NOT", "IS", "IN", "LIKE", "BETWEEN", "UNION", "EXCEPT", "INTERSECT")
)
OPERATOR_MARKS = frozenset(("=", "<>", "!=", "<", "<=", ">", ">="))
#: Reserved words that still name a function when a parenthesis follows them.
FUNCTION_WORDS = frozenset(
    """EXISTS COUNT AVG MAX MIN SUM SUBSTRING CHAR_LENGTH CHARACTER_LENGTH OCTET_LENGTH
    BIT_LENGTH UPPER LOWER SIZE SEXP LIST BAG""".split()  # noqa: SIM905
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # number string quoted name keyword punct end
    text: str
    value: str
    line: int = 1
    column: int = 1

    @property
    def position(self) -> str:
        """``line:column:length``, as AWS's messages point at a token."""
        return f"{self.line}:{self.column}:{len(self.text)}"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    line, line_start = 1, 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # a stray character, an open quote or comment
            raise malformed()
        start, position = position, match.end()
        kind = match.lastgroup or ""
        raw = match.group()
        column = start - line_start + 1
        if kind in ("space", "comment"):
            newlines = raw.count("\n")
            if newlines:
                line += newlines
                line_start = start + raw.rindex("\n") + 1
            continue
        if kind == "string":
            token = Token(kind, raw, raw[1:-1].replace("''", "'"), line, column)
        elif kind == "quoted":
            token = Token(kind, raw, raw[1:-1].replace('""', '"'), line, column)
        elif kind == "name" and raw.upper() in KEYWORDS:
            token = Token("keyword", raw, raw.upper(), line, column)
        else:
            token = Token(kind, raw, raw, line, column)
        tokens.append(token)
    tokens.append(Token("end", "", "", line, position - line_start + 1))
    return tokens


def number_literal(text: str, path: str) -> dict[str, Any]:
    """A number literal as an AttributeValue: AWS reads it as Java's BigDecimal (an
    exponent or scale beyond a 32-bit integer cannot be read), then holds it to
    DynamoDB's number limits, naming where in the value it stands."""
    mantissa, _, written = text.lower().partition("e")
    if written and not integer_fits(written, 32):
        raise malformed()
    scale = len(mantissa.partition(".")[2]) - (int(written) if written else 0)
    if scale not in JAVA_INT:
        raise malformed()
    parts = number_parts(text)
    if parts is None:
        raise malformed()
    try:
        checked_number(*parts)
    except AwsError as error:
        raise validation(f"{error.message} under {path}") from None
    return {"N": text}


# ---- parser ----


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.at = 0
        self.parameters = 0

    # -- token access --

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def advance(self) -> Token:
        token = self.tokens[self.at]
        if token.kind != "end":
            self.at += 1
        return token

    def is_keyword(self, *words: str) -> bool:
        return self.token.kind == "keyword" and self.token.value in words

    def is_punct(self, *marks: str) -> bool:
        return self.token.kind == "punct" and self.token.value in marks

    def take_keyword(self, *words: str) -> bool:
        if self.is_keyword(*words):
            self.advance()
            return True
        return False

    def take_punct(self, mark: str) -> bool:
        if self.is_punct(mark):
            self.advance()
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.take_keyword(word):
            raise self.unexpected()

    def expect_punct(self, mark: str) -> None:
        if not self.take_punct(mark):
            raise self.unexpected()

    def unexpected(self) -> AwsError:
        token = self.token
        if token.kind == "end":
            return malformed("Unexpected end of statement")
        if token.kind == "keyword":
            return malformed("Unexpected keyword")
        return malformed("Unexpected token")

    def unexpected_term(self) -> AwsError:
        """What AWS's parser answers where a term (a path, a value, a call) should start."""
        token = self.token
        if token.kind == "keyword":
            operator = token.value in OPERATOR_WORDS
            return malformed("Unexpected operator" if operator else "Unexpected keyword")
        if token.kind == "punct" and token.value in OPERATOR_MARKS:
            return malformed("Unexpected operator")
        if token.kind in ("end", "punct"):
            return malformed("Unexpected term")
        return malformed("Unexpected token")

    def right_side(self) -> None:
        """After an infix operator: AWS's parser wants something, not the statement's end."""
        if self.token.kind == "end":
            raise malformed(MISSING_RIGHT)

    def at_call(self) -> bool:
        """Whether a function call starts here: a name, or a reserved function name such as
        size, then a parenthesis."""
        token = self.token
        callable_word = token.kind == "keyword" and token.value in FUNCTION_WORDS
        return (token.kind == "name" or callable_word) and self.tokens[self.at + 1].value == "("

    # -- statements --

    def statement(self) -> Statement:
        if self.take_keyword("SELECT"):
            statement: Statement = self.select()
        elif self.take_keyword("INSERT"):
            statement = self.insert()
        elif self.take_keyword("UPDATE"):
            statement = self.update(self.table())
        elif self.take_keyword("FROM"):  # FROM "t" WHERE ... SET ...: an UPDATE
            statement = self.update_from()
        elif self.take_keyword("DELETE"):
            statement = self.delete()
        elif self.take_keyword("EXISTS"):
            self.expect_punct("(")
            self.expect_keyword("SELECT")
            statement = Exists(self.select())
            self.expect_punct(")")
        else:
            self.bare_type_test()
            raise self.unexpected()
        if self.take_punct(";"):
            if self.token.kind != "end":
                raise malformed(AFTER_SEMICOLON)
        elif self.token.kind != "end":
            raise malformed(LEFTOVER)
        return statement

    def bare_type_test(self) -> None:
        """``x IS <type>`` as a whole statement: AWS's parser reads it, then AWS refuses the
        operation it is."""
        start = self.at
        if self.token.kind in ("name", "quoted"):
            self.operand()
            if self.take_keyword("IS") and self.type_name() is not None:
                if self.token.kind != "end":
                    raise malformed(LEFTOVER)
                raise validation("Unsupported operation: IsType")
        self.at = start

    def type_name(self) -> str | None:
        """The PartiQL type named here (consumed), or None."""
        token = self.token
        if token.kind not in ("name", "keyword"):
            return None
        word = token.value.upper()
        following = self.tokens[self.at + 1].value.upper()
        if (word, following) in (("DOUBLE", "PRECISION"), ("CHARACTER", "VARYING")):
            self.advance()
            word = f"{word} {following}"
        found = PARTIQL_TYPES.get(word)
        if found is not None:
            self.advance()
        return found

    def table(self) -> str:
        """A table name, which AWS will not let a statement give an alias."""
        name = self.identifier(SIMPLE_PATH)
        if self.token.kind in ("name", "quoted") or self.is_keyword("AS"):
            raise validation("Aliasing is not supported")
        return name

    def select(self) -> Select:
        projection: tuple[Path, ...] | None
        if self.take_punct("*"):
            projection = None
        else:
            paths = [self.projected_path()]
            while self.take_punct(","):
                paths.append(self.projected_path())
            projection = tuple(paths)
        self.expect_keyword("FROM")
        table = self.identifier()
        index = None
        if self.take_punct("."):
            index = self.identifier(DOT_COMPONENT)
        if self.token.kind in ("name", "quoted") or self.is_keyword("AS"):
            raise validation("Aliasing is not supported")
        where = self.condition() if self.take_keyword("WHERE") else None
        order_by = None
        if self.take_keyword("ORDER"):
            self.expect_keyword("BY")
            path = self.path()
            ascending = not self.take_keyword("DESC")
            if ascending:
                self.take_keyword("ASC")
            order_by = (path, ascending)
        return Select(table, index, projection, where, order_by)

    def projected_path(self) -> Path:
        if self.at_call():
            raise validation(f"Unexpected path component at {self.token.position}")
        path = self.path()
        # a column alias (``s AS x``, ``s x``) parses, then AWS refuses it as it does a
        # table's: each path answers under its own column name
        if self.token.kind in ("name", "quoted") or self.is_keyword("AS"):
            raise validation("Aliasing is not supported")
        return path

    def insert(self) -> Insert:
        self.expect_keyword("INTO")
        table = self.identifier(SIMPLE_PATH)
        if not self.is_keyword("VALUE"):
            raise malformed(LEFTOVER)
        self.advance()
        if not self.is_punct("{", "?"):
            raise self.unexpected()
        return Insert(table, self.value(in_item=True, item=True))

    def update(self, table: str) -> Update:
        assignments, removals = self.changes()
        where = self.condition() if self.take_keyword("WHERE") else None
        return Update(table, assignments, removals, where, self.returning())

    def update_from(self) -> Update:
        """``FROM t [WHERE ...] SET ...``: the WHERE, which may be left out, comes first."""
        table = self.table()
        where = self.condition() if self.take_keyword("WHERE") else None
        assignments, removals = self.changes()
        return Update(table, assignments, removals, where, self.returning())

    def changes(self) -> tuple[tuple[Assignment, ...], tuple[Path, ...]]:
        """The SET and REMOVE clauses of an UPDATE, in any number and order."""
        assignments: list[Assignment] = []
        removals: list[Path] = []
        if not self.is_keyword("SET", "REMOVE"):
            raise self.unexpected()
        while self.is_keyword("SET", "REMOVE"):
            if self.take_keyword("SET"):
                assignments.append(self.assignment())
                while self.take_punct(","):
                    assignments.append(self.assignment())
            else:
                self.advance()
                removals.append(self.path(SIMPLE_PATH))
                while self.take_punct(","):
                    removals.append(self.path(SIMPLE_PATH))
        return tuple(assignments), tuple(removals)

    def assignment(self) -> Assignment:
        path = self.path(SIMPLE_PATH)
        self.expect_punct("=")
        self.right_side()
        value = self.operand()
        if self.is_punct("+", "-"):
            operator = self.advance().value
            self.right_side()
            value = Arithmetic(value, operator, self.operand())
        if isinstance(value, Call) and value.name in ("set_add", "set_delete"):
            _check_set_function(value, path)
        return Assignment(path, value)

    def delete(self) -> Delete:
        if not self.take_keyword("FROM"):
            raise malformed("Expected FROM after DELETE")
        table = self.table()
        where = self.condition() if self.take_keyword("WHERE") else None
        return Delete(table, where, self.returning())

    def returning(self) -> Returning | None:
        if not self.take_keyword("RETURNING"):
            return None
        if self.take_keyword("ALL"):
            which = "ALL"
        elif self.take_keyword("MODIFIED"):
            which = "UPDATED"
        else:
            raise self.unexpected()
        if self.take_keyword("OLD"):
            age = "OLD"
        elif self.take_keyword("NEW"):
            age = "NEW"
        else:
            raise self.unexpected()
        self.expect_punct("*")
        returning: Returning = f"{which}_{age}"  # type: ignore[assignment]
        return returning

    # -- names and paths --

    def identifier(self, refusal: str | None = None) -> str:
        """A name, or a quoted one; ``refusal`` is AWS's detail for anything else where a
        simple path or a dot component stands, None where a term stands."""
        token = self.token
        if token.kind in ("name", "quoted"):
            self.advance()
            return token.value
        raise self.unexpected_term() if refusal is None else malformed(refusal)

    def path(self, refusal: str | None = None) -> Path:
        segments: list[str | int] = [self.identifier(refusal)]
        while True:
            if self.take_punct("."):
                segments.append(self.identifier(DOT_COMPONENT))
            elif self.take_punct("["):
                negative = self.take_punct("-")
                token = self.advance()
                if token.kind == "number" and token.value.isdigit():
                    # AWS's parser folds the sign into the number, then holds it to a
                    # 32-bit index, pointing at the digits (-0 is 0)
                    index = -int(token.value) if negative else int(token.value)
                    if not 0 <= index <= MAX_LIST_INDEX:
                        raise validation(
                            "List index is not within the allowable range; "
                            f"index: [{index}] at {token.position}"
                        )
                    segments.append(index)
                elif negative:
                    raise malformed("Invalid path component")
                elif token.kind == "string":
                    segments.append(token.value)
                else:
                    raise malformed("Invalid path component")
                self.expect_punct("]")
            else:
                return Path(tuple(segments))

    # -- conditions --

    def condition(self) -> Condition:
        terms = [self.conjunction()]
        while self.take_keyword("OR"):
            self.right_side()
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def conjunction(self) -> Condition:
        terms = [self.negation()]
        while self.take_keyword("AND"):
            self.right_side()
            terms.append(self.negation())
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def negation(self) -> Condition:
        if self.take_keyword("NOT"):
            return Not(self.negation())
        return self.predicate()

    def predicate(self) -> Condition:
        if self.is_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        if self.is_keyword("EXISTS"):  # EXISTS(path) is no function in a WHERE
            raise validation(f"Unrecognized function: exists at {self.token.position}")
        subject = self.operand()
        if isinstance(subject, Call):
            if subject.name not in WHERE_FUNCTIONS:
                raise validation(f"Unrecognized function: {subject.name} at {subject.position}")
            if subject.name in CONDITION_FUNCTIONS:
                return self.function_test(subject)
        if self.take_keyword("BETWEEN"):
            self.right_side()
            low = self.operand()
            self.expect_keyword("AND")
            return Between(subject, low, self.operand())
        if self.take_keyword("IN"):
            self.right_side()
            return In(subject, self.choices())
        if self.take_keyword("IS"):
            if not isinstance(subject, Path):
                raise self.unexpected()
            negated = self.take_keyword("NOT")
            written = self.token.value.upper()
            partiql_type = self.type_name()
            if partiql_type in ("MISSING", "NULL"):
                return Is(subject, partiql_type, negated)  # type: ignore[arg-type]
            if partiql_type is None:
                raise malformed("Expected type name")
            kind = TYPE_NAMES.get(written)
            if kind is None:  # a PartiQL type with no DynamoDB counterpart
                raise validation(IS_TYPE_UNSUPPORTED.format(partiql_type))
            test: Condition = Function(Call("attribute_type", (subject, Value({"S": kind}))))
            return Not(test) if negated else test
        if self.is_punct("=", "<>", "!=", "<", "<=", ">", ">="):
            operator = self.advance().value
            self.right_side()
            return Compare(subject, "<>" if operator == "!=" else operator, self.operand())
        raise self.unexpected()

    def function_test(self, call: Call) -> Condition:
        """A boolean function, alone or compared with ``true`` / ``false``."""
        test: Condition = Function(call)
        if self.is_punct("=", "<>", "!="):
            at = self.at
            operator = self.advance().value
            if self.is_keyword("TRUE", "FALSE"):
                wanted = self.advance().value == "TRUE"
                return test if wanted == (operator == "=") else Not(test)
            self.at = at
        return test

    def choices(self) -> tuple[Operand, ...]:
        closing = "]" if self.take_punct("[") else ")" if self.take_punct("(") else None
        if closing is None:
            raise self.unexpected()
        values = [self.operand()]
        while self.take_punct(","):
            values.append(self.operand())
        self.expect_punct(closing)
        return tuple(values)

    # -- operands and values --

    def operand(self) -> Operand:
        token = self.token
        if self.at_call():
            name = self.advance().value.lower()
            self.advance()
            args: list[Operand] = []
            positions: list[str] = []
            if not self.is_punct(")"):
                positions.append(self.token.position)
                args.append(self.operand())
                while self.take_punct(","):
                    positions.append(self.token.position)
                    args.append(self.operand())
            self.expect_punct(")")
            return Call(name, tuple(args), token.position, tuple(positions))
        if token.kind in ("name", "quoted"):
            return self.path()
        return self.value()

    def value(self, path: str = "root", *, in_item: bool = False, item: bool = False) -> Value:
        """A literal; ``path`` names where it stands in the value, as AWS's number
        messages do. ``in_item``: within an INSERT's document, where a function is no
        value; ``item``: the document itself, whose attributes each start at "root"."""
        start = self.at
        token = self.advance()
        if token.kind == "string":
            return Value({"S": token.value})
        if token.kind == "number":
            return Value(number_literal(token.value, path))
        if token.kind == "punct":
            mark = token.value
            if mark == "-" and self.token.kind == "number":
                return Value(number_literal("-" + self.advance().value, path))
            if mark == "?":
                self.parameters += 1
                return Value({"?": self.parameters - 1})
            if mark == "[":
                return Value({"L": self.sequence("]", path, in_item)})
            if mark == "<<":
                members = self.sequence(">>", path, in_item)
                if not members:
                    raise validation("Empty bags are not supported")
                return Value({"<<": members})
            if mark == "{":
                return Value({"M": self.members(path, in_item, item)})
        if token.kind == "keyword":
            if token.value in ("TRUE", "FALSE"):
                return Value({"BOOL": token.value == "TRUE"})
            if token.value == "NULL":
                return Value({"NULL": True})
        if in_item and token.kind == "name" and self.token.value == "(":
            raise validation(
                f"Unsupported data type: {token.value.lower()} under key root at {token.position}"
            )
        self.at = start
        if token.kind == "punct" and token.value in ("-", "+"):
            self.advance()  # a sign before something that is no number
        raise self.unexpected_term()

    def sequence(self, closing: str, path: str, in_item: bool) -> list[dict[str, Any]]:
        values: list[dict[str, Any]] = []
        if self.take_punct(closing):
            return values
        while True:
            values.append(self.value(f"{path}[{len(values)}]", in_item=in_item).value)
            if not self.take_punct(","):
                break
        self.expect_punct(closing)
        return values

    def members(self, path: str, in_item: bool, item: bool) -> dict[str, Any]:
        members: dict[str, Any] = {}
        if self.take_punct("}"):
            return members
        while True:
            if self.token.kind not in ("string", "quoted"):
                raise self.unexpected()
            token = self.advance()
            self.expect_punct(":")
            inner = "root" if item else f"{path}.{token.value}"
            members[token.value] = self.value(inner, in_item=in_item).value
            if self.take_punct("}"):
                return members
            self.expect_punct(",")


def _check_set_function(call: Call, target: Path) -> None:
    """``SET a = set_add(a, <<...>>)``: AWS's rules for set_add and set_delete."""
    name = call.name.upper()
    if len(call.args) != 2:
        raise validation(f"{name} must have exactly two arguments at {call.position}")
    first, second = call.args
    if first != target:
        raise validation(
            f"The first argument to {name} must equal the assignment value at {call.position}"
        )
    if not (isinstance(second, Value) and ("<<" in second.value or "?" in second.value)):
        raise validation(
            f"The second argument to {name} must be a value with type SET at "
            f"{call.arg_positions[0]}"
        )


def bind(value: dict[str, Any], parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """``value`` with its parameters put in and its sets built."""
    if "?" in value:
        parameter: dict[str, Any] = parameters[value["?"]]
        return parameter
    if "<<" in value:
        return _set_of([bind(member, parameters) for member in value["<<"]])
    if "L" in value:
        return {"L": [bind(member, parameters) for member in value["L"]]}
    if "M" in value:
        return {"M": {name: bind(member, parameters) for name, member in value["M"].items()}}
    return value


def _set_of(values: list[dict[str, Any]]) -> dict[str, Any]:
    kinds = {next(iter(value)) for value in values}
    if kinds == {"S"}:
        return {"SS": [value["S"] for value in values]}
    if kinds == {"N"}:
        return {"NS": [value["N"] for value in values]}
    if kinds == {"B"}:
        return {"BS": [value["B"] for value in values]}
    if kinds <= {"SS", "NS", "BS"} and len(values) == 1:  # <<?>> bound to a set
        return values[0]
    raise AwsError(
        "ValidationException", "A set must hold only strings, only numbers or only binaries"
    )


def parse_statement(text: str) -> ParsedStatement:
    """The tree of one PartiQL statement; ``ValidationException`` if it is not one."""
    parser = _Parser(text)
    statement = parser.statement()
    return ParsedStatement(statement, parser.parameters)
