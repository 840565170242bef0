"""Resource providers: one per CloudFormation resource type headwater can deploy."""

from __future__ import annotations

from headwater.deploy.providers.apigateway import (
    RestApiProvider,
    RestAuthorizerProvider,
    RestDeploymentProvider,
    RestMethodProvider,
    RestResourceProvider,
    RestStageProvider,
)
from headwater.deploy.providers.apigatewayv2 import (
    HttpApiAuthorizerProvider,
    HttpApiDeploymentProvider,
    HttpApiIntegrationProvider,
    HttpApiProvider,
    HttpApiRouteProvider,
    HttpApiStageProvider,
)
from headwater.deploy.providers.base import (
    ClientFactory,
    ProviderResult,
    ResourceProvider,
    ResourceRequest,
)
from headwater.deploy.providers.codedeploy import ApplicationProvider, DeploymentGroupProvider
from headwater.deploy.providers.cognito import (
    UserPoolClientProvider,
    UserPoolGroupProvider,
    UserPoolProvider,
)
from headwater.deploy.providers.dynamodb import TableProvider
from headwater.deploy.providers.events import EventBusProvider, RuleProvider
from headwater.deploy.providers.firehose import DeliveryStreamProvider
from headwater.deploy.providers.iam import ManagedPolicyProvider, PolicyProvider, RoleProvider
from headwater.deploy.providers.kinesis import StreamProvider
from headwater.deploy.providers.kms import AliasProvider as KmsAliasProvider
from headwater.deploy.providers.kms import KeyProvider
from headwater.deploy.providers.lambda_ import EventSourceMappingProvider, FunctionProvider
from headwater.deploy.providers.lambda_extras import (
    AliasProvider,
    EventInvokeConfigProvider,
    PermissionProvider,
    UrlProvider,
    VersionProvider,
)
from headwater.deploy.providers.lambda_layers import (
    LayerVersionPermissionProvider,
    LayerVersionProvider,
)
from headwater.deploy.providers.nested import NestedStackProvider
from headwater.deploy.providers.observability import (
    AlarmProvider,
    LogGroupProvider,
    MetricFilterProvider,
    SubscriptionFilterProvider,
)
from headwater.deploy.providers.s3 import BucketPolicyProvider, BucketProvider
from headwater.deploy.providers.scheduler import ScheduleGroupProvider, ScheduleProvider
from headwater.deploy.providers.secretsmanager import ResourcePolicyProvider, SecretProvider
from headwater.deploy.providers.ses import (
    ConfigurationSetProvider,
    EmailIdentityProvider,
    TemplateProvider,
)
from headwater.deploy.providers.sns import (
    SubscriptionProvider,
    TopicPolicyProvider,
    TopicProvider,
)
from headwater.deploy.providers.sqs import QueuePolicyProvider, QueueProvider
from headwater.deploy.providers.ssm import ParameterProvider
from headwater.deploy.providers.stepfunctions import StateMachineProvider
from headwater.deploy.providers.stored import stored_providers

__all__ = [
    "ClientFactory",
    "ProviderResult",
    "ResourceProvider",
    "ResourceRequest",
    "default_providers",
]


def default_providers() -> dict[str, list[ResourceProvider]]:
    """Resource type -> its providers, preferred first.

    A type with a service-backed provider and a stored one (S3 buckets, which ``cdk
    bootstrap`` declares) deploys through the service once it exists and is kept in the
    stack before that.
    """
    providers: list[ResourceProvider] = [
        QueueProvider(),
        QueuePolicyProvider(),
        FunctionProvider(),
        EventSourceMappingProvider(),
        PermissionProvider(),
        VersionProvider(),
        AliasProvider(),
        EventInvokeConfigProvider(),
        UrlProvider(),
        LayerVersionProvider(),
        LayerVersionPermissionProvider(),
        StreamProvider(),
        TableProvider(),
        ParameterProvider(),
        SecretProvider(),
        ResourcePolicyProvider(),
        DeliveryStreamProvider(),
        StateMachineProvider(),
        TopicProvider(),
        SubscriptionProvider(),
        TopicPolicyProvider(),
        AlarmProvider(),
        LogGroupProvider(),
        MetricFilterProvider(),
        SubscriptionFilterProvider(),
        BucketProvider(),
        BucketPolicyProvider(),
        NestedStackProvider(),
        RuleProvider(),
        EventBusProvider(),
        ScheduleProvider(),
        ScheduleGroupProvider(),
        RoleProvider(),
        PolicyProvider(),
        HttpApiProvider(),
        HttpApiStageProvider(),
        HttpApiRouteProvider(),
        HttpApiIntegrationProvider(),
        HttpApiAuthorizerProvider(),
        HttpApiDeploymentProvider(),
        RestApiProvider(),
        RestResourceProvider(),
        RestMethodProvider(),
        RestDeploymentProvider(),
        RestStageProvider(),
        RestAuthorizerProvider(),
        ManagedPolicyProvider(),
        ApplicationProvider(),
        DeploymentGroupProvider(),
        UserPoolProvider(),
        UserPoolClientProvider(),
        UserPoolGroupProvider(),
        KeyProvider(),
        KmsAliasProvider(),
        EmailIdentityProvider(),
        TemplateProvider(),
        ConfigurationSetProvider(),
        *stored_providers(),
    ]
    found: dict[str, list[ResourceProvider]] = {}
    for provider in providers:
        found.setdefault(provider.type_name, []).append(provider)
    return found
