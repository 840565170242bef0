"""Pattern JSON text, read the way EventBridge reads it.

EventBridge parses patterns with a streaming Jackson parser: it reads the first JSON value and
ignores what follows, duplicate keys are allowed (the last one wins) and syntax errors carry
Jackson's wording. The rule compiler pulls tokens one at a time, so a rule error early in the
text is reported before a syntax error later in it, as EventBridge does. Python's ``json``
module differs on all of this, so patterns (small, at most a few KB) are read by this pull
tokenizer instead. Events are ordinary JSON and go through orjson elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

#: What Jackson lists when it wanted a value.
_VALUE_LIST = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
_WS = " \t\r\n"
_MAX_DEPTH = 1000
_DEPTH_MESSAGE = (
    "Document nesting depth ({}) exceeds the maximum allowed (1000, from "
    "`StreamReadConstraints.getMaxNestingDepth()`)"
)


#: JSON's digits: ASCII only (``str.isdigit`` also takes "¹" and other Unicode digits,
#: which ``int()`` then refuses).
_DIGITS = frozenset("0123456789")


class PatternSyntaxError(ValueError):
    """Malformed pattern JSON; ``reason`` is Jackson's message (first line)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _char_desc(ch: str) -> str:
    code = ord(ch)
    if code < 32:
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{ch}' (code {code} / 0x{code:x})"
    return f"'{ch}' (code {code})"


def _is_ident_part(ch: str) -> bool:
    # Java's Character.isJavaIdentifierPart, close enough for error messages.
    return ch.isalnum() or ch in "_$"


#: A token: (kind, value, text). Kinds: "{", "}", "[", "]", "field", "string", "number",
#: "true", "false", "null", or None at the end of the input.
Token = tuple[str | None, Any, str]
END: Token = (None, None, "")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


class TokenReader:
    """A pull parser over pattern text with Jackson's behaviour and messages."""

    __slots__ = ("pos", "root_done", "stack", "starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.root_done = False
        #: open containers: (kind, state); state is start | after_name | after_value
        self.stack: list[tuple[str, str]] = []
        #: offsets of the open containers (for "start marker at" in end-of-input errors)
        self.starts: list[int] = []

    # -- scanning helpers -------------------------------------------------------------------
    def skip_ws(self) -> str:
        """Skip whitespace; return the next char or "" at end of input."""
        text, pos = self.text, self.pos
        n = len(text)
        while pos < n and text[pos] in _WS:
            pos += 1
        self.pos = pos
        return text[pos] if pos < n else ""

    def eof(self, what: str) -> PatternSyntaxError:
        return PatternSyntaxError(f"Unexpected end-of-input{what}")

    def unclosed(self, kind: str) -> PatternSyntaxError:
        start = self.starts[-1] if self.starts else 0
        line = self.text.count("\n", 0, start) + 1
        column = start - (self.text.rfind("\n", 0, start) + 1) + 1
        source = self.text
        if len(source) > 500:
            source = f'{source[:500]}"[truncated {len(source) - 500} chars]'
            quoted = f'(String)"{source}'
        else:
            quoted = f'(String)"{source}"'
        message = (
            f"Unexpected end-of-input: expected close marker for {kind} (start marker at "
            f"[Source: {quoted}; line: {line}, column: {column}])"
        )
        # AWS reports the first line of the parser's message.
        return PatternSyntaxError(message.split("\n", 1)[0])

    def unexpected_in_number(self, ch: str, expecting: str) -> PatternSyntaxError:
        return PatternSyntaxError(
            f"Unexpected character ({_char_desc(ch)}) in numeric value: {expecting}"
        )

    def unexpected(self, ch: str, expecting: str) -> PatternSyntaxError:
        return PatternSyntaxError(f"Unexpected character ({_char_desc(ch)}): {expecting}")

    def invalid_token(self, start: int) -> PatternSyntaxError:
        end = start
        text = self.text
        while end < len(text) and _is_ident_part(text[end]) and end - start < 256:
            end += 1
        token = text[start:end] or text[start : start + 1]
        return PatternSyntaxError(f"Unrecognized token '{token}': was expecting {_VALUE_LIST}")

    # -- tokens ----------------------------------------------------------------------------
    def next_token(self) -> Token:
        """The next token, like Jackson's ``nextToken()``; END at the end of the root value."""
        if not self.stack:
            if self.root_done:
                return END
            self.root_done = True
            ch = self.skip_ws()
            if ch == "":
                return END
            if ch == '"':
                # Jackson decodes string contents lazily: a root string is "not an object"
                # before anything inside it is read.
                return ("string", None, "")
            return self.value_token(ch, "root")
        kind, state = self.stack[-1]
        ch = self.skip_ws()
        if kind == "Object":
            if state == "after_value":
                if ch == "}":
                    return self.close()
                if ch == "":
                    raise self.unclosed("Object")
                if ch != ",":
                    raise self.unexpected(ch, "was expecting comma to separate Object entries")
                self.pos += 1
                ch = self.skip_ws()
            elif state == "start" and ch == "}":
                return self.close()
            elif state == "after_name":
                if ch == "":
                    raise self.unclosed("Object")
                if ch != ":":
                    raise self.unexpected(
                        ch, "was expecting a colon to separate field name and value"
                    )
                self.pos += 1
                self.stack[-1] = (kind, "after_value")
                ch = self.skip_ws()
                if ch == "":
                    raise self.unclosed("Object")
                return self.value_token(ch, "Object")
            # a field name
            if ch == "":
                raise self.unclosed("Object")
            if ch != '"':
                raise self.unexpected(ch, "was expecting double-quote to start field name")
            self.pos += 1
            name = self.string()
            self.stack[-1] = (kind, "after_name")
            return ("field", name, name)
        # Array
        if state == "after_value":
            if ch == "]":
                return self.close()
            if ch == "":
                raise self.unclosed("Array")
            if ch != ",":
                raise self.unexpected(ch, "was expecting comma to separate Array entries")
            self.pos += 1
            ch = self.skip_ws()
        elif ch == "]":
            return self.close()
        if ch == "":
            raise self.unclosed("Array")
        self.stack[-1] = (kind, "after_value")
        return self.value_token(ch, "Array")

    def close(self) -> Token:
        kind, _ = self.stack.pop()
        self.starts.pop()
        self.pos += 1
        return ("}", None, "}") if kind == "Object" else ("]", None, "]")

    def open(self, kind: str) -> Token:
        if len(self.stack) >= _MAX_DEPTH:
            raise PatternSyntaxError(_DEPTH_MESSAGE.format(len(self.stack) + 1))
        self.stack.append((kind, "start"))
        self.starts.append(self.pos)
        self.pos += 1
        return ("{", None, "{") if kind == "Object" else ("[", None, "[")

    def value_token(self, ch: str, context: str) -> Token:
        if ch == "{":
            return self.open("Object")
        if ch == "[":
            return self.open("Array")
        if ch == '"':
            self.pos += 1
            text = self.string()
            return ("string", text, text)
        if ch == "-" or ch in _DIGITS:
            start = self.pos
            number = self.number()
            return ("number", number, self.text[start : self.pos])
        for word in ("true", "false", "null"):
            if self.text.startswith(word, self.pos):
                after = self.pos + len(word)
                if after < len(self.text) and _is_ident_part(self.text[after]):
                    raise self.invalid_token(self.pos)
                self.pos = after
                return (word, _LITERALS[word], word)
        if ch.isalpha() or ch in "_$":
            raise self.invalid_token(self.pos)
        if ch in "]}" and context != "root":
            raise self.unexpected(ch, "expected a value")
        raise self.unexpected(ch, f"expected a valid value {_VALUE_LIST}")

    def string(self) -> str:
        text = self.text
        start = self.pos
        end = text.find('"', start)
        if end >= 0 and "\\" not in text[start:end] and _no_ctrl(text, start, end):
            self.pos = end + 1
            return text[start:end]
        parts: list[str] = []
        pos = start
        n = len(text)
        while True:
            if pos >= n:
                self.pos = pos
                raise self.eof(": was expecting closing quote for a string value")
            ch = text[pos]
            if ch == '"':
                self.pos = pos + 1
                return _join_surrogates("".join(parts))
            if ch == "\\":
                pos += 1
                if pos >= n:
                    raise self.eof(" in character escape sequence")
                esc = text[pos]
                simple = {
                    '"': '"',
                    "\\": "\\",
                    "/": "/",
                    "b": "\b",
                    "f": "\f",
                    "n": "\n",
                    "r": "\r",
                    "t": "\t",
                }
                if esc in simple:
                    parts.append(simple[esc])
                    pos += 1
                    continue
                if esc == "u":
                    digits = text[pos + 1 : pos + 5]
                    if len(digits) < 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                        bad = next((c for c in digits if c not in "0123456789abcdefABCDEF"), "")
                        if not bad:
                            raise self.eof(" in character escape sequence")
                        raise self.unexpected(
                            bad, "expected a hex-digit for character escape sequence"
                        )
                    parts.append(chr(int(digits, 16)))
                    pos += 5
                    continue
                raise PatternSyntaxError(f"Unrecognized character escape {_char_desc(esc)}")
            if ord(ch) < 32:
                raise PatternSyntaxError(
                    f"Illegal unquoted character ({_char_desc(ch)}): has to be escaped using "
                    "backslash to be included in string value"
                )
            parts.append(ch)
            pos += 1

    def number(self) -> int | float:
        text = self.text
        start = pos = self.pos
        n = len(text)
        if text[pos] == "-":
            pos += 1
            if pos >= n or text[pos] not in _DIGITS:
                if pos >= n:
                    raise self.eof(" in a Number value")
                raise self.unexpected_in_number(
                    text[pos],
                    "expected digit (0-9) to follow minus sign, for valid numeric value",
                )
        int_start = pos
        while pos < n and text[pos] in _DIGITS:
            pos += 1
        if pos - int_start > 1 and text[int_start] == "0":
            raise PatternSyntaxError("Invalid numeric value: Leading zeroes not allowed")
        is_float = False
        if pos < n and text[pos] == ".":
            is_float = True
            pos += 1
            frac_start = pos
            while pos < n and text[pos] in _DIGITS:
                pos += 1
            if pos == frac_start:
                if pos >= n:
                    raise self.eof(" in a Number value")
                raise self.unexpected_in_number(text[pos], "Decimal point not followed by a digit")
        if pos < n and text[pos] in "eE":
            is_float = True
            pos += 1
            if pos < n and text[pos] in "+-":
                pos += 1
            exp_start = pos
            while pos < n and text[pos] in _DIGITS:
                pos += 1
            if pos == exp_start:
                if pos >= n:
                    raise self.eof(" in a Number value")
                raise self.unexpected_in_number(
                    text[pos], "Exponent indicator not followed by a digit"
                )
        self.pos = pos
        literal = text[start:pos]
        return float(literal) if is_float else int(literal)


def _join_surrogates(text: str) -> str:
    """Combine \\uD83D\\uDE80-style escaped surrogate pairs into one code point."""
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _no_ctrl(text: str, start: int, end: int) -> bool:
    return all(ord(c) >= 32 for c in text[start:end])


class ValueTokens:
    """The same token stream for a pattern given as a Python object."""

    __slots__ = ("_tokens",)

    def __init__(self, value: Any) -> None:
        self._tokens = _tokens_of(value)

    def next_token(self) -> Token:
        return next(self._tokens, END)


def _tokens_of(value: Any) -> Iterator[Token]:
    if isinstance(value, dict):
        yield ("{", None, "{")
        for key, child in value.items():
            if not isinstance(key, str):
                raise TypeError(f"pattern keys must be strings, got {key!r}")
            yield ("field", key, key)
            yield from _tokens_of(child)
        yield ("}", None, "}")
    elif isinstance(value, list | tuple):
        yield ("[", None, "[")
        for child in value:
            yield from _tokens_of(child)
        yield ("]", None, "]")
    elif isinstance(value, str):
        yield ("string", value, value)
    elif value is True or value is False or value is None:
        text = json.dumps(value)
        yield (text, value, text)
    elif isinstance(value, int | float):
        yield ("number", value, json.dumps(value))
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")
