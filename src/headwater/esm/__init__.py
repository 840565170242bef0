"""The event source mapping engine.

``engine.EsmEngine`` runs one poller per enabled mapping on an asyncio loop
(``Headwater.start()``). The SQS poller (``sqs_poller``) reads top to bottom:
receive -> filter -> batch (``batching``) -> invoke -> settle (``settle``), with the SQS
record shape in ``records``, concurrency in ``scaling`` and counters in ``metrics``. It
consumes queues and functions only through the ``QueueSource`` / ``Invoker`` protocols of
``sources``. A mapping's settings are the typed ``core.mapping_config.MappingConfig``,
shared with the Lambda API (``services/lambda_/mappings.py``).
"""
