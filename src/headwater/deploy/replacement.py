"""Which property changes replace a resource instead of updating it in place.

A property is "create-only" when AWS cannot change it on an existing resource (a queue's
name, a mapping's event source): changing it makes CloudFormation create a new resource,
point dependents at it, then delete the old one. The table lists each type's
``createOnlyProperties`` from the CloudFormation resource provider schemas (as shipped in
cfn-lint 1.58, MIT-0), plus DynamoDB's ``KeySchema``, which the CloudFormation user guide
documents as "Update requires: Replacement". Paths are property names joined by ``/``.
"""

from __future__ import annotations

from typing import Any

CREATE_ONLY: dict[str, tuple[str, ...]] = {
    "AWS::SQS::Queue": ("FifoQueue", "QueueName"),
    "AWS::SQS::QueuePolicy": (),
    "AWS::Lambda::Function": ("FunctionName", "PackageType", "TenancyConfig"),
    "AWS::Lambda::EventSourceMapping": (
        "EventSourceArn",
        "StartingPosition",
        "StartingPositionTimestamp",
        "SelfManagedEventSource",
    ),
    "AWS::Lambda::Permission": (
        "FunctionName",
        "FunctionUrlAuthType",
        "InvokedViaFunctionUrl",
        "SourceAccount",
        "SourceArn",
        "Principal",
        "PrincipalOrgID",
        "Action",
        "EventSourceToken",
    ),
    "AWS::Lambda::Version": (
        "FunctionName",
        "Description",
        "CodeSha256",
        "ProvisionedConcurrencyConfig",
        "RuntimePolicy",
    ),
    "AWS::Lambda::Alias": ("Name", "FunctionName"),
    # From the CloudFormation user guide ("Update requires: Replacement").
    "AWS::CodeDeploy::Application": ("ApplicationName", "ComputePlatform"),
    "AWS::CodeDeploy::DeploymentGroup": ("ApplicationName", "DeploymentGroupName"),
    "AWS::Lambda::LayerVersion": (
        "CompatibleRuntimes",
        "LicenseInfo",
        "CompatibleArchitectures",
        "LayerName",
        "Description",
        "Content",
    ),
    "AWS::Lambda::LayerVersionPermission": (
        "OrganizationId",
        "Principal",
        "Action",
        "LayerVersionArn",
    ),
    "AWS::Lambda::EventInvokeConfig": ("FunctionName", "Qualifier"),
    "AWS::Lambda::Url": ("TargetFunctionArn", "Qualifier"),
    "AWS::Kinesis::Stream": ("Name",),
    "AWS::DynamoDB::Table": ("TableName", "ImportSourceSpecification", "KeySchema"),
    "AWS::SNS::Topic": ("TopicName", "FifoTopic"),
    "AWS::SNS::Subscription": ("Endpoint", "Protocol", "TopicArn"),
    "AWS::SNS::TopicPolicy": (),
    "AWS::S3::Bucket": ("BucketName", "BucketNamePrefix", "BucketNamespace"),
    "AWS::S3::BucketPolicy": ("Bucket",),
    "AWS::CloudWatch::Alarm": ("AlarmName",),
    "AWS::CloudWatch::CompositeAlarm": ("AlarmName",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::Logs::SubscriptionFilter": ("FilterName", "LogGroupName"),
    "AWS::Logs::MetricFilter": ("FilterName", "LogGroupName"),
    "AWS::IAM::Role": ("Path", "RoleName"),
    "AWS::IAM::Policy": (),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", "Description", "Path"),
    "AWS::IAM::InstanceProfile": ("InstanceProfileName", "Path"),
    "AWS::IAM::User": ("UserName",),
    "AWS::SSM::Parameter": ("Name",),
    "AWS::Events::Rule": ("Name", "EventBusName"),
    "AWS::Events::EventBus": ("Name", "EventSourceName"),
    "AWS::Scheduler::Schedule": ("Name", "GroupName"),
    "AWS::Scheduler::ScheduleGroup": ("Name",),
    "AWS::SecretsManager::Secret": ("Name",),
    "AWS::SecretsManager::ResourcePolicy": ("SecretId",),
    # The sources and the name, as the schema lists them (cfn-lint was not at hand to copy
    # the whole list; the destinations headwater refuses are never updated anyway).
    "AWS::KinesisFirehose::DeliveryStream": (
        "DeliveryStreamName",
        "DeliveryStreamType",
        "KinesisStreamSourceConfiguration",
        "MSKSourceConfiguration",
    ),
    "AWS::Cognito::UserPool": ("AliasAttributes", "UsernameAttributes", "UsernameConfiguration"),
    "AWS::Cognito::UserPoolClient": ("UserPoolId", "GenerateSecret"),
    "AWS::Cognito::UserPoolGroup": ("GroupName", "UserPoolId"),
    "AWS::ApiGatewayV2::Api": (),
    "AWS::ApiGatewayV2::Stage": ("ApiId", "StageName"),
    "AWS::ApiGatewayV2::Route": ("ApiId",),
    "AWS::ApiGatewayV2::Integration": ("ApiId",),
    "AWS::ApiGatewayV2::Deployment": ("ApiId",),
    "AWS::ApiGateway::RestApi": (),
    "AWS::ApiGateway::Resource": ("RestApiId", "ParentId", "PathPart"),
    "AWS::ApiGateway::Method": ("RestApiId", "ResourceId", "HttpMethod"),
    "AWS::ApiGateway::Deployment": ("RestApiId", "DeploymentCanarySettings"),
    "AWS::ApiGateway::Stage": ("RestApiId", "StageName"),
    "AWS::StepFunctions::StateMachine": ("StateMachineName", "StateMachineType"),
    "AWS::CloudFormation::Stack": (),
    "AWS::ECR::Repository": (
        "RepositoryName",
        "EncryptionConfiguration",
        "EncryptionConfiguration/EncryptionType",
        "EncryptionConfiguration/KmsKey",
    ),
    # KeySpec and KeyUsage: the user guide's "Update requires: Replacement" (a key's
    # material and usage never change), though the schema lists no create-only property.
    "AWS::KMS::Key": ("KeySpec", "KeyUsage", "MultiRegion"),
    "AWS::KMS::Alias": ("AliasName",),
    "AWS::SES::EmailIdentity": ("EmailIdentity",),
    "AWS::SES::Template": ("Template/TemplateName",),
    "AWS::SES::ConfigurationSet": ("Name",),
}

#: The property that names a resource: replacing a resource whose name is set (and kept)
#: would need two resources with one name, so CloudFormation refuses the update. (Not a
#: layer version's LayerName: the replacement is the layer's next version, beside the old.)
NAME_PROPERTY: dict[str, str] = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::CompositeAlarm": "AlarmName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName",
    "AWS::SSM::Parameter": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::SES::ConfigurationSet": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::Lambda::Alias": "Name",
}


def _lookup(properties: Any, path: str) -> Any:
    value = properties
    for part in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def changed_properties(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Top-level property names whose value differs (added and removed ones included)."""
    names = list(dict.fromkeys([*old, *new]))
    return [name for name in names if old.get(name) != new.get(name)]


def replacing_properties(type_name: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The create-only property paths whose value changes between ``old`` and ``new``."""
    return [
        path for path in CREATE_ONLY.get(type_name, ()) if _lookup(old, path) != _lookup(new, path)
    ]


def requires_replacement(type_name: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether going from ``old`` to ``new`` properties replaces the resource."""
    return bool(replacing_properties(type_name, old, new))


def kept_custom_name(type_name: str, old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """The custom name that would block a replacement (same name before and after), if any."""
    prop = NAME_PROPERTY.get(type_name)
    if prop is None:
        return None
    name = new.get(prop)
    if name is not None and old.get(prop) == name:
        return str(name)
    return None
