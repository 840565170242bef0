"""``DynamoDBService``: tables and items, composed of owned parts.

- ``TableCatalog`` (tables.py): table metadata, schemas, tags, TTL and backup settings;
- ``ItemWriter`` (writes.py): the one write path (conditions, indexes, change feed);
- ``ItemOperations``, ``ReadOperations``, ``BatchOperations``, ``TransactionOperations``:
  the item API on top of them; ``VectorSearch`` (vector_search.py): SearchVectors;
- ``ChangeFeed`` (change_feed.py): ordered change records for DynamoDB Streams;
- ``TtlSweeper`` (ttl.py): expired items deleted by the service, driven by the clock.
"""

from __future__ import annotations

import time
from typing import Any

from headwater.core.errors import validation_error
from headwater.services.base import (
    Params,
    RequestContext,
    Result,
    Service,
    ServiceEnvironment,
    operation,
)
from headwater.services.dynamodb.batches import BatchOperations
from headwater.services.dynamodb.change_feed import ChangeFeed
from headwater.services.dynamodb.constraints import check_transaction
from headwater.services.dynamodb.items import ItemOperations
from headwater.services.dynamodb.reads import ReadOperations
from headwater.services.dynamodb.statements import StatementRunner
from headwater.services.dynamodb.tables import TableCatalog
from headwater.services.dynamodb.transactions import TransactionOperations
from headwater.services.dynamodb.ttl import TtlSweeper
from headwater.services.dynamodb.vector_search import VectorSearch
from headwater.services.dynamodb.writes import ItemWriter
from headwater.store.tables import TableStore

#: AWS's default account and table quotas (DescribeLimits).
LIMITS = {
    "AccountMaxReadCapacityUnits": 80000,
    "AccountMaxWriteCapacityUnits": 80000,
    "TableMaxReadCapacityUnits": 40000,
    "TableMaxWriteCapacityUnits": 40000,
}


class DynamoDBService(Service):
    """DynamoDB tables, items, indexes, batches, transactions and TTL on the store."""

    service_name = "dynamodb"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.store = TableStore(env.database)
        self.feed = ChangeFeed(self.store, env.options.dynamodb_stream_shard_seconds)
        self.catalog = TableCatalog(self.store, self.feed, env.clock)
        self.writer = ItemWriter(self.store, self.feed, env.clock)
        self.items = ItemOperations(self.catalog, self.writer)
        self.reads = ReadOperations(self.catalog, self.store)
        self.batches = BatchOperations(self.catalog, self.writer)
        self.transactions = TransactionOperations(self.catalog, self.writer)
        self.statements = StatementRunner(self)
        self.vectors = VectorSearch(self.catalog, self.store)
        self.ttl = TtlSweeper(self.writer, env.clock, env.options.dynamodb_ttl_sweep_interval)
        if any((row.spec.get("TimeToLive") or {}).get("Enabled") for row in self._tables()):
            self.ttl.ensure_running()

    def _tables(self) -> list[Any]:
        with self.store.db.read():
            return self.store.all_tables()

    def close(self) -> None:
        self.ttl.close()

    def call(
        self, operation_name: str, params: Params, ctx: RequestContext | None = None
    ) -> Result:
        """Run an operation; successful item operations are reported for AWS/DynamoDB."""
        started = time.perf_counter()
        result = super().call(operation_name, params, ctx)
        if params.get("TableName"):
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            region = (ctx or self.env.default_context()).region
            self.env.telemetry.dynamodb_request(
                region, params["TableName"], operation_name, elapsed_ms, result.get("Count")
            )
        return result

    # ---- tables ----

    @operation("CreateTable")
    def create_table(self, params: Params, ctx: RequestContext) -> Result:
        return self.catalog.create(params, ctx)

    @operation("DescribeTable")
    def describe_table(self, params: Params, ctx: RequestContext) -> Result:
        return self.catalog.describe_table(params, ctx)

    @operation("UpdateTable")
    def update_table(self, params: Params, ctx: RequestContext) -> Result:
        return self.catalog.update(params, ctx)

    @operation("DeleteTable")
    def delete_table(self, params: Params, ctx: RequestContext) -> Result:
        return self.catalog.delete(params, ctx)

    @operation("ListTables")
    def list_tables(self, params: Params, ctx: RequestContext) -> Result:
        return self.catalog.list_tables(params, ctx)

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        return self.catalog.tag(params, ctx)

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        return self.catalog.untag(params, ctx)

    @operation("ListTagsOfResource")
    def list_tags_of_resource(self, params: Params, ctx: RequestContext) -> Result:
        return self.catalog.list_tags(params, ctx)

    @operation("UpdateTimeToLive")
    def update_time_to_live(self, params: Params, ctx: RequestContext) -> Result:
        result = self.catalog.update_ttl(params, ctx)
        self.ttl.ensure_running()
        return result

    @operation("DescribeTimeToLive")
    def describe_time_to_live(self, params: Params, ctx: RequestContext) -> Result:
        return self.catalog.describe_ttl(params, ctx)

    @operation("DescribeContinuousBackups")
    def describe_continuous_backups(self, params: Params, ctx: RequestContext) -> Result:
        return self.catalog.describe_backups(params, ctx)

    @operation("UpdateContinuousBackups")
    def update_continuous_backups(self, params: Params, ctx: RequestContext) -> Result:
        return self.catalog.update_backups(params, ctx)

    @operation("DescribeContributorInsights")
    def describe_contributor_insights(self, params: Params, ctx: RequestContext) -> Result:
        with self.store.db.read():
            row = self.catalog.row(ctx, params["TableName"])
        result: Result = {"TableName": row.name, "ContributorInsightsStatus": "DISABLED"}
        if params.get("IndexName"):
            result["IndexName"] = params["IndexName"]
        return result

    @operation("DescribeLimits")
    def describe_limits(self, params: Params, ctx: RequestContext) -> Result:
        return dict(LIMITS)

    @operation("DescribeEndpoints")
    def describe_endpoints(self, params: Params, ctx: RequestContext) -> Result:
        address = f"dynamodb.{ctx.region}.amazonaws.com"
        if ctx.endpoint is not None:
            address = ctx.endpoint.split("://", 1)[-1]
        return {"Endpoints": [{"Address": address, "CachePeriodInMinutes": 1440}]}

    # ---- items ----

    @operation("PutItem")
    def put_item(self, params: Params, ctx: RequestContext) -> Result:
        return self.items.put_item(params, ctx)

    @operation("GetItem")
    def get_item(self, params: Params, ctx: RequestContext) -> Result:
        return self.items.get_item(params, ctx)

    @operation("UpdateItem")
    def update_item(self, params: Params, ctx: RequestContext) -> Result:
        return self.items.update_item(params, ctx)

    @operation("DeleteItem")
    def delete_item(self, params: Params, ctx: RequestContext) -> Result:
        return self.items.delete_item(params, ctx)

    @operation("Query")
    def query(self, params: Params, ctx: RequestContext) -> Result:
        return self.reads.query(params, ctx)

    @operation("Scan")
    def scan(self, params: Params, ctx: RequestContext) -> Result:
        return self.reads.scan(params, ctx)

    @operation("SearchVectors")
    def search_vectors(self, params: Params, ctx: RequestContext) -> Result:
        return self.vectors.search(params, ctx)

    @operation("BatchGetItem")
    def batch_get_item(self, params: Params, ctx: RequestContext) -> Result:
        return self.batches.batch_get(params, ctx)

    @operation("BatchWriteItem")
    def batch_write_item(self, params: Params, ctx: RequestContext) -> Result:
        return self.batches.batch_write(params, ctx)

    @operation("TransactWriteItems")
    def transact_write_items(self, params: Params, ctx: RequestContext) -> Result:
        check_transaction(params, writes=True)
        return self.transactions.transact_write(params, ctx)

    @operation("TransactGetItems")
    def transact_get_items(self, params: Params, ctx: RequestContext) -> Result:
        check_transaction(params, writes=False)
        return self.transactions.transact_get(params, ctx)

    # ---- PartiQL ----

    @operation("ExecuteStatement")
    def execute_statement(self, params: Params, ctx: RequestContext) -> Result:
        parameters = params.get("Parameters")
        if parameters is not None and not parameters:
            raise validation_error(
                "[]", "parameters", "Member must have length greater than or equal to 1"
            )
        return self.statements.execute(params, ctx)

    @operation("BatchExecuteStatement")
    def batch_execute_statement(self, params: Params, ctx: RequestContext) -> Result:
        return self.statements.batch(params, ctx)

    @operation("ExecuteTransaction")
    def execute_transaction(self, params: Params, ctx: RequestContext) -> Result:
        return self.statements.transaction(params, ctx)
