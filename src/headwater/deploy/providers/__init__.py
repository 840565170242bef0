"""Resource providers: one per CloudFormation resource type headwater can deploy."""

from __future__ import annotations

from headwater.deploy.providers.base import (
    ClientFactory,
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
)
from headwater.deploy.providers.dynamodb import TableProvider
from headwater.deploy.providers.kinesis import StreamProvider
from headwater.deploy.providers.lambda_ import EventSourceMappingProvider, FunctionProvider
from headwater.deploy.providers.lambda_extras import (
    AliasProvider,
    PermissionProvider,
    VersionProvider,
)
from headwater.deploy.providers.observability import AlarmProvider, LogGroupProvider
from headwater.deploy.providers.sns import (
    SubscriptionProvider,
    TopicPolicyProvider,
    TopicProvider,
)
from headwater.deploy.providers.sqs import QueuePolicyProvider, QueueProvider
from headwater.deploy.providers.ssm import ParameterProvider
from headwater.deploy.providers.stored import stored_providers

__all__ = [
    "ClientFactory",
    "ProviderResult",
    "ResourceProvider",
    "ResourceRequest",
    "default_providers",
]


def default_providers() -> dict[str, ResourceProvider]:
    """Resource type -> provider, for every type headwater can deploy."""
    providers: list[ResourceProvider] = [
        QueueProvider(),
        QueuePolicyProvider(),
        FunctionProvider(),
        EventSourceMappingProvider(),
        PermissionProvider(),
        VersionProvider(),
        AliasProvider(),
        StreamProvider(),
        TableProvider(),
        ParameterProvider(),
        TopicProvider(),
        SubscriptionProvider(),
        TopicPolicyProvider(),
        AlarmProvider(),
        LogGroupProvider(),
        *stored_providers(),
    ]
    return {provider.type_name: provider for provider in providers}
