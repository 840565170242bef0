"""DynamoDB's expression language: one parser and evaluator for every operation.

- ``values``: attribute values (validation, exact-decimal numbers, ordering, size);
- ``parser``: condition / filter / key-condition / update / projection expressions;
- ``syntax``: the tree and how conditions evaluate; ``updates``: applying update actions;
- ``documents``: nested paths; ``key_conditions``: a Query's per-key conditions;
- ``legacy``: ``Expected``, ``AttributeUpdates``, ``KeyConditions``, ``QueryFilter``,
  ``ScanFilter``, ``AttributesToGet`` translated into the same tree;
- ``request``: a request's expressions and placeholders checked together;
- ``key_order``: byte strings that sort as DynamoDB sorts S, N and B keys.

Pure logic: no I/O, no clock. Errors are ``AwsError("ValidationException", ...)`` with
AWS's wording.
"""

from __future__ import annotations

from headwater.core.expressions.documents import Path, project, read_path
from headwater.core.expressions.parser import bind, parse
from headwater.core.expressions.request import RequestExpressions, read_expressions
from headwater.core.expressions.syntax import Parsed
from headwater.core.expressions.updates import apply_update
from headwater.core.expressions.values import AttributeValue, Item

__all__ = [
    "AttributeValue",
    "Item",
    "Parsed",
    "Path",
    "RequestExpressions",
    "apply_update",
    "bind",
    "parse",
    "project",
    "read_expressions",
    "read_path",
]
