"""Tokens of DynamoDB's expression language, and its syntax-error wording.

AWS reports a syntax error as ``Syntax error; token: "<tok>", near: "<text>"`` where the
near-text runs from the token before the offending one to the token after it, as written
(``token: "-", near: "test-attribute"``; at the end: ``token: "<EOF>", near: "foo"``).
A list index is a number without leading zeros: ``0`` is a token of its own, so ``l[001]``
is ``token: "0", near: "001"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from headwater.core.expressions.values import validation

#: Token kinds.
IDENT, NAME, VALUE, NUMBER, PUNCT, EOF, OTHER = (
    "ident",
    "name",
    "value",
    "number",
    "punct",
    "eof",
    "other",
)

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<name>\#[A-Za-z0-9_]*)
  | (?P<value>:[A-Za-z0-9_]*)
  | (?P<number>0|[1-9][0-9]*)
  | (?P<punct><>|<=|>=|[()\[\],.=<>+\-])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

#: Longest expression AWS accepts (4 KB).
MAX_EXPRESSION_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int
    end: int

    def keyword(self) -> str | None:
        """The upper-cased word of an identifier (to match AND, OR, SET...)."""
        return self.text.upper() if self.kind == IDENT else None


class ExpressionSyntaxError(Exception):
    """A message (without the ``Invalid XExpression:`` prefix) for a malformed expression."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def tokenize(source: str) -> list[Token]:
    """The tokens of ``source``, ending with an EOF token."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup
        if kind == "space":
            continue
        assert kind is not None
        tokens.append(Token(kind, match.group(), match.start(), match.end()))
    tokens.append(Token(EOF, "<EOF>", len(source), len(source)))
    return tokens


def syntax_error(source: str, tokens: list[Token], index: int) -> ExpressionSyntaxError:
    """AWS's syntax error for the token at ``index``."""
    token = tokens[index]
    start = tokens[index - 1].start if index > 0 else token.start
    if token.kind == EOF:
        end = token.start
    else:
        end = tokens[index + 1].end if tokens[index + 1].kind != EOF else token.end
    near = source[start:end]
    return ExpressionSyntaxError(f'Syntax error; token: "{token.text}", near: "{near}"')


def check_source(source: str, label: str) -> None:
    """The checks AWS makes before parsing: not empty, not too long."""
    if not source.strip():
        raise validation(f"Invalid {label}: The expression can not be empty;")
    size = len(source.encode("utf-8"))
    if size > MAX_EXPRESSION_LENGTH:
        if label == "UpdateExpression":
            # AWS gives no size for an UpdateExpression (UpdateItem, quoted from AWS in
            # an SDK issue; TransactWriteItems, captured in ten regions).
            raise validation(
                "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size;"
            )
        raise validation(
            f"Invalid {label}: Expression size has exceeded the maximum allowed size; "
            f"expression size: {size}"
        )
