"""The composition root: which services exist, and how the engine meets them.

``SERVICES`` lists every AWS service headwater serves (botocore name -> class, imported on
first use). ``build_engine`` makes the event source mapping engine and registers one
poller factory per source kind, each wiring the local adapters (``wiring.adapters``)
between the engine's protocols and the services. Nothing else in headwater decides how
the layers are put together.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from headwater.core.arn import kinesis_consumer_stream_arn
from headwater.core.errors import AwsError
from headwater.esm.engine import EsmEngine, Poller
from headwater.esm.leases import NodeMembership, Offload, StoreThreads, inline
from headwater.esm.scaling import ScalingPolicy
from headwater.esm.sqs_poller import SqsPoller
from headwater.esm.streams.stream_poller import StreamMappingHost, StreamPoller
from headwater.services.base import Service, ServiceEnvironment
from headwater.store.checkpoints import open_checkpoint_store
from headwater.store.leases import LeaseStore
from headwater.store.mappings import MappingRecord
from headwater.wiring.adapters import (
    LambdaInvoker,
    LocalDestinations,
    LocalDynamoDBStreamSource,
    LocalKinesisSource,
    LocalQueueSource,
)

if TYPE_CHECKING:
    from headwater.esm.streams.source import StreamSource
    from headwater.services.lambda_ import LambdaService

#: botocore service name -> "module:Class". A listed service whose module is not there
#: yet answers every call with an error naming it.
SERVICES: dict[str, str] = {
    "sqs": "headwater.services.sqs:SqsService",
    "lambda": "headwater.services.lambda_:LambdaService",
    "kinesis": "headwater.services.kinesis:KinesisService",
    "dynamodb": "headwater.services.dynamodb:DynamoDBService",
    "dynamodbstreams": "headwater.services.dynamodbstreams:DynamoDBStreamsService",
    "sns": "headwater.services.sns:SnsService",
    "s3": "headwater.services.s3:S3Service",
    "cloudwatch": "headwater.services.cloudwatch:CloudWatchService",
    "logs": "headwater.services.logs:LogsService",
    "iam": "headwater.services.iam:IamService",
    "sts": "headwater.services.sts:StsService",
    "cloudformation": "headwater.services.cloudformation:CloudFormationService",
    "ssm": "headwater.services.ssm:SsmService",
    "events": "headwater.services.events:EventsService",
    "secretsmanager": "headwater.services.secretsmanager:SecretsManagerService",
    "apigatewayv2": "headwater.services.apigatewayv2:ApiGatewayV2Service",
    "apigateway": "headwater.services.apigateway:ApiGatewayService",
    "codedeploy": "headwater.services.codedeploy:CodeDeployService",
    "stepfunctions": "headwater.services.stepfunctions:StepFunctionsService",
    "scheduler": "headwater.services.scheduler:SchedulerService",
    "cognito-idp": "headwater.services.cognitoidp:CognitoIdpService",
    "ses": "headwater.services.ses:SesService",
    "sesv2": "headwater.services.ses:SesV2Service",
    "kms": "headwater.services.kms:KmsService",
    "firehose": "headwater.services.firehose:FirehoseService",
}


class UnknownService(ValueError):
    """A name that is not an AWS service headwater knows."""


def service_class(name: str) -> type[Service]:
    """The class serving botocore service ``name``.

    Raises ``UnknownService`` for names headwater does not list, and ``AwsError``
    (``UnknownOperationException``) for listed services that are not built yet.
    """
    target = SERVICES.get(name)
    if target is None:
        raise UnknownService(f"headwater has no {name!r} service")
    module_name, class_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is None or not module_name.startswith(error.name):
            raise
        raise AwsError(
            "UnknownOperationException",
            f"headwater does not support the {name} service yet",
        ) from None
    cls: type[Service] = getattr(module, class_name)
    return cls


# ---------------------------------------------------------------------------- the engine


def build_destinations(env: ServiceEnvironment) -> LocalDestinations:
    """Where stream mappings (and asynchronous invokes) deliver failure records.

    Also resumes SNS deliveries a previous run left in its outbox, and the scheduled
    EventBridge rules, EventBridge Scheduler schedules (and their pending target
    deliveries), the records Firehose streams buffer and the Step Functions executions
    of a previous run (the engine starts here).
    """
    from headwater.services.destinations import send_to_s3, send_to_sns

    destinations = LocalDestinations(env.service)
    destinations.register("sns", lambda arn, body: send_to_sns(env, arn, body))
    destinations.register("s3", lambda arn, body: send_to_s3(env, arn, body))
    if _has_component(env, "sns"):
        env.service("sns")  # its deliverer picks up pending outbox rows
    if _has_component(env, "events"):
        env.service("events")  # its scheduler fires the rules that are due
    if _has_component(env, "scheduler"):
        env.service("scheduler")  # its ticker fires the schedules that are due
    if _has_component(env, "firehose"):
        env.service("firehose")  # its ticker flushes what the streams still buffer
    if _has_component(env, "stepfunctions"):
        env.service("stepfunctions")  # its runner resumes the executions that were running
    return destinations


def _has_component(env: ServiceEnvironment, component: str) -> bool:
    """Whether ``component``'s schema exists in the database (it was used before)."""
    with env.database.transaction():
        row = env.database.conn.execute(
            "SELECT version FROM schema_version WHERE component = ?", (component,)
        ).fetchone()
    return row is not None


def build_engine(env: ServiceEnvironment, destinations: LocalDestinations) -> EsmEngine:
    """The mapping engine of ``env``'s services, with the local poller factories."""
    lambda_service: LambdaService = env.service("lambda")  # type: ignore[assignment]
    options = env.options
    offload: Offload = inline if env.database.kind == "memory" else StoreThreads()
    membership = NodeMembership(
        env.database.store(LeaseStore), ttl=options.esm_lease_ttl_seconds, offload=offload
    )
    engine = EsmEngine(
        lambda_service,
        env.clock,
        stop_grace_seconds=options.esm_stop_grace_seconds,
        gc_freeze=options.esm_gc_freeze,
        membership=membership,
    )
    invoker = LambdaInvoker(lambda_service)
    policy = scaling_policy(env)

    def sqs_poller(record: MappingRecord, loop: asyncio.AbstractEventLoop) -> Poller:
        source = LocalQueueSource(env.service("sqs"), record.source_arn, offload)  # type: ignore[arg-type]
        return SqsPoller(
            record,
            source,
            invoker,
            env.clock,
            loop,
            policy=policy,
            telemetry=env.telemetry,
            share=membership.share,
        )

    def stream_poller(
        make_source: Callable[[str], StreamSource], filter_kind: str
    ) -> Callable[[MappingRecord, asyncio.AbstractEventLoop], Poller]:
        def factory(record: MappingRecord, loop: asyncio.AbstractEventLoop) -> Poller:
            host = StreamMappingHost(
                checkpoints=env.database.store(open_checkpoint_store),
                destinations=destinations,
                function_role=invoker.function_role,
                processing_result=lambda_service.set_processing_result,
                mapping_exists=lambda uuid: lambda_service.get_mapping_record(uuid) is not None,
                poll_interval=options.esm_stream_poll_interval,
                backoff_seconds=options.esm_stream_retry_backoff,
                backoff_max_seconds=options.esm_stream_retry_backoff_max,
                filter_kind=filter_kind,
                membership=membership,
                telemetry=env.telemetry,
            )
            source = make_source(record.source_arn)
            return StreamPoller(record, source, invoker, env.clock, loop, host=host)

        return factory

    def kinesis_source(arn: str) -> StreamSource:
        # A consumer's mapping (enhanced fan-out) reads its stream's records, which name the
        # stream as their eventSourceARN.
        stream_arn = kinesis_consumer_stream_arn(arn) or arn
        return LocalKinesisSource(env.service("kinesis"), stream_arn, offload)  # type: ignore[arg-type]

    def dynamodb_source(arn: str) -> StreamSource:
        return LocalDynamoDBStreamSource(env.service("dynamodbstreams"), arn, offload)  # type: ignore[arg-type]

    engine.register_poller_kind("sqs", sqs_poller)
    engine.register_poller_kind("kinesis", stream_poller(kinesis_source, "kinesis"))
    engine.register_poller_kind("dynamodb", stream_poller(dynamodb_source, "dynamodb"))
    return engine


def scaling_policy(env: ServiceEnvironment) -> ScalingPolicy:
    """The SQS scaling settings of ``env``'s options."""
    options = env.options
    return ScalingPolicy(
        initial=options.esm_initial_concurrency,
        scale_up_per_minute=options.esm_scale_up_per_minute,
        ceiling=options.esm_max_concurrency,
    )
