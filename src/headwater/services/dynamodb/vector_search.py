"""SearchVectors: an exact k-nearest-neighbour search over a vector index.

Every item of the table is read and scored (a brute-force search: fine for the tables a
local tool holds; AWS's approximate index answers the same question faster, and may miss
a neighbour). The checks come in AWS's order, with its texts: a conformance suite's and an
emulator's captures against live AWS (eu-west-2 and us-east-1, August 2026); where they
are silent, the Query family's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headwater.core.errors import constraint_finding, validation_errors
from headwater.core.expressions import project, read_expressions
from headwater.core.expressions.syntax import And, Comparison, PathOperand, ValueOperand
from headwater.core.expressions.values import AttributeValue, Item, validation, value_type
from headwater.services.base import RequestContext
from headwater.services.dynamodb.constraints import CAPACITY_MODES
from headwater.services.dynamodb.schema import (
    TableSchema,
    VectorIndexSchema,
    check_key_not_empty,
)
from headwater.services.dynamodb.table_specs import name_violations
from headwater.services.dynamodb.tables import TableCatalog
from headwater.services.dynamodb.vector_indexes import (
    MIN_VECTOR_REQUEST_BYTES,
    billed_entry_bytes,
    f32_text,
    indexed_vector,
    score,
    search_vector,
)
from headwater.store.tables import TableStore
from headwater.store.tables.codec import decode_item

MAX_TOP_K = 100
MAX_SEARCH_VECTOR = 4096
EXPRESSIONS = ("SearchConditionExpression", "ProjectionExpression")
SCAN_BATCH = 500


def invalid_comparator() -> Exception:
    """AWS's refusal of a SearchConditionExpression term that is not ``attribute = value``:
    a search filters by equality only."""
    return validation(
        "Invalid SearchConditionExpression: Invalid comparator used in SearchConditionExpression"
    )


def _member_findings(params: Mapping[str, Any]) -> list[str]:
    """The request model's constraints, all reported at once. AWS names a too-short
    IndexName and an empty SearchVector without echoing them, and with a capital letter
    (captured, both regions)."""
    found: list[str] = []
    name = params["TableName"]
    if not name:
        found.append(
            constraint_finding(
                name, "tableName", "Member must have length greater than or equal to 1"
            )
        )
    elif not name.startswith("arn:"):
        found.extend(name_violations(name, "tableName"))
    index = params["IndexName"]
    if len(index) < 3:
        found.append(
            "Value at 'IndexName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 3"
        )
    elif len(index) > 255:
        found.append(
            "Value at 'IndexName' failed to satisfy constraint: "
            "Member must have length less than or equal to 255"
        )
    vector = params["SearchVector"]
    if not vector:
        found.append(
            "Value at 'SearchVector' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    elif len(vector) > MAX_SEARCH_VECTOR:
        found.append(
            "Value at 'SearchVector' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_SEARCH_VECTOR}"
        )
    top_k = params["TopK"]
    if top_k < 1:
        found.append(
            constraint_finding(
                str(top_k), "topK", "Member must have value greater than or equal to 1"
            )
        )
    mode = params.get("ReturnConsumedCapacity")
    if mode is not None and mode not in CAPACITY_MODES:
        found.append(
            constraint_finding(
                mode,
                "returnConsumedCapacity",
                f"Member must satisfy enum value set: [{', '.join(CAPACITY_MODES)}]",
            )
        )
    return found


def _equalities(condition: Any) -> list[tuple[tuple[Any, ...], str]]:
    """A SearchConditionExpression's ``(path, value placeholder)`` equalities: only ``=``
    comparisons of an attribute with a value, joined by AND, are searchable."""
    found: list[tuple[tuple[Any, ...], str]] = []
    pending = [condition]
    while pending:
        node = pending.pop()
        if isinstance(node, And):
            pending += (node.right, node.left)
            continue
        if not isinstance(node, Comparison) or node.operator != "=":
            raise invalid_comparator()
        left, right = node.left, node.right
        if isinstance(left, ValueOperand) and isinstance(right, PathOperand):
            left, right = right, left
        if not isinstance(left, PathOperand) or not isinstance(right, ValueOperand):
            raise invalid_comparator()
        found.append((tuple(left.path), right.name))
    return found


class VectorSearch:
    """The SearchVectors operation over the table catalog and store."""

    def __init__(self, catalog: TableCatalog, store: TableStore) -> None:
        self.catalog = catalog
        self.store = store

    def search(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """SearchVectors: the request checked in AWS's order (member constraints, TopK,
        expressions, table and index, the vector, the condition), then the ``TopK``
        nearest items the index holds, best first."""
        findings = _member_findings(params)
        if findings:
            raise validation_errors(findings)
        top_k = params["TopK"]
        if top_k > MAX_TOP_K:
            raise validation(
                f"Provided TopK value '{top_k}' is out of valid range. The value must be "
                f"between 1 and {MAX_TOP_K} inclusive"
            )
        expressions = read_expressions(params, EXPRESSIONS)
        condition = expressions.get("SearchConditionExpression")
        equalities = [] if condition is None else _equalities(condition.root)
        table = self.catalog.schema(ctx, params["TableName"])
        index = next((i for i in table.vector_indexes if i.name == params["IndexName"]), None)
        if index is None:
            raise validation(f"The table does not have the specified index: {params['IndexName']}")
        query = search_vector(params["SearchVector"])
        if query is None:
            raise validation(
                "Search vector contains invalid values. All values in the search vector must "
                "be a 32-bit floating-point number attribute"
            )
        if len(query) != index.dimensions:
            raise validation(
                f"Input search vector dimension {len(query)} does not match vector index "
                f"dimension {index.dimensions}"
            )
        self._check_condition(index, equalities, expressions.values)
        projection = expressions.get("ProjectionExpression")
        results = self._nearest(
            table, index, query, top_k, condition=condition, values=expressions.values
        )
        answer: dict[str, Any] = {
            "SearchResults": [
                {"Item": self._returned(table, index, item, projection), "Score": value}
                for value, _, item in results[0]
            ]
        }
        if params.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES"):
            # AWS's figure is the bytes the search read, and does not repeat from one call
            # to the next; headwater's is the billed size of the entries it scored.
            answer["ConsumedCapacity"] = {
                "VectorSearchRequestBytes": float(max(MIN_VECTOR_REQUEST_BYTES, results[1]))
            }
        return answer

    @staticmethod
    def _check_condition(
        index: VectorIndexSchema,
        equalities: list[tuple[tuple[Any, ...], str]],
        values: Mapping[str, AttributeValue],
    ) -> None:
        schema = dict(index.search_attributes)
        for path, _ in equalities:
            if path[0] not in schema:
                raise validation(
                    "SearchConditionExpression must not contain any attributes that is not in "
                    f"SearchSchema. Invalid attribute: {path[0]}"
                )
        if any(len(path) > 1 for path, _ in equalities):
            raise validation(
                "Invalid SearchConditionExpression: SearchConditionExpression cannot have "
                "conditions on nested attributes"
            )
        named = [path[0] for path, _ in equalities]
        if len(set(named)) != len(named):
            raise validation(
                "Invalid SearchConditionExpression: SearchConditionExpression must only "
                "contain one condition per attribute"
            )
        hash_attribute = index.hash_attribute
        if hash_attribute is None:
            return
        if hash_attribute not in named:
            raise validation(
                "SearchConditionExpression must be provided when SearchSchema has a HASH key"
            )
        operand = values[equalities[named.index(hash_attribute)][1]]
        kind, actual = schema[hash_attribute], value_type(operand)
        if actual != kind:
            raise validation(
                f"Type of '{hash_attribute}' attribute in SearchConditionExpression ({actual}) "
                f"does not match type in search schema ({kind})"
            )
        # an empty string or binary, as a key value anywhere
        check_key_not_empty(operand, hash_attribute)

    def _nearest(
        self,
        table: TableSchema,
        index: VectorIndexSchema,
        query: list[float],
        top_k: int,
        *,
        condition: Any,
        values: Mapping[str, AttributeValue],
    ) -> tuple[list[tuple[float, tuple[bytes, bytes], Item]], int]:
        """The ``top_k`` best-scored items the index holds that meet the condition, best
        first (equal scores in key order: AWS's order for them varies from call to call),
        and the billed bytes of the entries scored."""
        scored: list[tuple[float, tuple[bytes, bytes], Item]] = []
        scanned = 0
        with self.store.db.read():
            after = None
            while True:
                batch = self.store.scan_items(table.id, 0, 1 << 31, after, SCAN_BATCH)
                if not batch:
                    break
                for stored in batch:
                    item = decode_item(stored.item)
                    vector = indexed_vector(table, index, item)
                    if vector is None:
                        continue
                    if condition is not None and not condition.root.evaluate(item, values):
                        continue
                    scanned += billed_entry_bytes(index, table.index_view(index, item))
                    scored.append(
                        (score(index.distance, query, vector), (stored.key.pk, stored.key.sk), item)
                    )
                after = batch[-1].key
        higher_first = index.distance == "DOT_PRODUCT"
        scored.sort(key=lambda entry: (-entry[0] if higher_first else entry[0], entry[1]))
        return scored[:top_k], scanned

    @staticmethod
    def _returned(
        table: TableSchema, index: VectorIndexSchema, item: Item, projection: Any
    ) -> Item:
        """A result's attributes: what the index projects, narrowed by the
        ProjectionExpression. The vector itself only when the expression names it (and
        the index projects it), as the index's 32-bit copy."""
        view = dict(table.index_view(index, item))
        vector = view.pop(index.attribute, None)
        if index.projection != "ALL" and index.attribute not in index.non_key_attributes:
            vector = None  # held for the search, not projected
        if projection is None:
            return view
        paths = list(projection.root)
        if vector is not None and any(path[0] == index.attribute for path in paths):
            view[index.attribute] = {
                "L": [{"N": f32_text(v)} for v in search_vector(vector["L"]) or []]
            }
        return project(view, paths)
