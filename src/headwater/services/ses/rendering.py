"""SES template rendering: the part of Handlebars SES templates use.

Served: ``{{name}}`` and ``{{{name}}}`` (dotted paths ``{{user.name}}``; text is not
HTML-escaped), ``{{#if x}}...{{else}}...{{/if}}``, ``{{#unless x}}...{{/unless}}``,
``{{#each list}}...{{/each}}`` (``{{this}}`` and the item's fields inside; ``{{@index}}``)
and ``{{! comments}}``. Other helpers and partials are refused as an invalid template.
No maintained Python Handlebars fits (pybars3 is unmaintained; chevron is Mustache, whose
``{{#x}}`` sections differ), so this small renderer serves the subset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TAG = re.compile(r"\{\{\{\s*(.*?)\s*\}\}\}|\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_BLOCKS = ("if", "unless", "each")


class TemplateSyntaxError(ValueError):
    """A template this renderer cannot read (an unclosed block, an unknown helper)."""


class MissingVariable(KeyError):
    """A ``{{name}}`` the rendering data does not hold."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass
class _Block:
    helper: str
    argument: str
    body: list[Any] = field(default_factory=list)
    otherwise: list[Any] = field(default_factory=list)
    in_else: bool = False

    def add(self, node: Any) -> None:
        (self.otherwise if self.in_else else self.body).append(node)


def _parse(template: str) -> list[Any]:
    """Nodes: text (str), variables (("var", path)) and blocks (``_Block``)."""
    root = _Block("", "")
    stack = [root]
    position = 0
    for found in _TAG.finditer(template):
        if found.start() > position:
            stack[-1].add(template[position : found.start()])
        position = found.end()
        expression = found.group(1) if found.group(1) is not None else found.group(2)
        if expression.startswith("!"):
            continue
        if expression.startswith("#"):
            helper, _, argument = expression[1:].partition(" ")
            if helper not in _BLOCKS or not argument.strip():
                raise TemplateSyntaxError(f"unsupported block helper {{{{#{helper}}}}}")
            block = _Block(helper, argument.strip())
            stack[-1].add(block)
            stack.append(block)
        elif expression.startswith("/"):
            if len(stack) == 1 or stack[-1].helper != expression[1:].strip():
                raise TemplateSyntaxError(f"unexpected {{{{{expression}}}}}")
            stack.pop()
        elif expression == "else":
            if len(stack) == 1:
                raise TemplateSyntaxError("{{else}} outside a block")
            stack[-1].in_else = True
        elif not expression or " " in expression or expression.startswith((">", "&")):
            raise TemplateSyntaxError(f"unsupported expression {{{{{expression}}}}}")
        else:
            stack[-1].add(("var", expression))
    if len(stack) > 1:
        raise TemplateSyntaxError(f"unclosed {{{{#{stack[-1].helper}}}}}")
    if position < len(template):
        root.add(template[position:])
    return root.body


_MISSING = object()


def _lookup(path: str, scopes: list[Any]) -> Any:
    if path in ("this", "."):
        return scopes[-1]
    if path.startswith("this."):
        scopes, path = scopes[-1:], path[5:]
    first, *rest = path.split(".")
    for scope in reversed(scopes):
        if isinstance(scope, dict) and first in scope:
            value = scope[first]
            for part in rest:
                if not isinstance(value, dict) or part not in value:
                    return _MISSING
                value = value[part]
            return value
    return _MISSING


def _text(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _render(nodes: list[Any], scopes: list[Any], strict: bool) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, tuple):
            value = _lookup(node[1], scopes)
            if value is _MISSING:
                if strict:
                    raise MissingVariable(node[1])
                value = ""
            out.append(_text(value))
        else:
            value = _lookup(node.argument, scopes)
            truthy = value is not _MISSING and bool(value)
            if node.helper == "each":
                items = list(value.values()) if isinstance(value, dict) else value
                if truthy and isinstance(items, list):
                    for index, item in enumerate(items):
                        frame = [*scopes, {"@index": index}, item]
                        out.append(_render(node.body, frame, strict))
                else:
                    out.append(_render(node.otherwise, scopes, strict))
            elif truthy == (node.helper == "if"):
                out.append(_render(node.body, scopes, strict))
            else:
                out.append(_render(node.otherwise, scopes, strict))
    return "".join(out)


def check_template(template: str) -> None:
    """Raise ``TemplateSyntaxError`` when ``template`` cannot be rendered."""
    _parse(template)


def render(template: str, data: dict[str, Any], *, strict: bool = False) -> str:
    """``template`` with ``data`` substituted; ``strict`` raises ``MissingVariable`` for a
    variable ``data`` lacks (TestRenderTemplate), else it renders as nothing."""
    return _render(_parse(template), [data], strict)
