"""A few resources of each service, and the names that point fuzzed calls at them.

The odd-input properties (``test_odd_input_properties``) draw an operation's parameters from
its botocore shape; a drawn ``TableName`` of random text only ever reaches "table not found".
``make_resources(hw, service)`` creates a queue, a stream, a table, a function, a bucket, a
topic ... in ``hw`` and returns, per member name, values that name them (and strategies for
the members whose useful values have structure, such as a DynamoDB item's key).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from hypothesis import strategies as st

from headwater import Headwater
from headwater.models import operation_model
from tests.shape_inputs import Names, shape_values

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/r"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
TEMPLATE = json.dumps({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}})


def function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def make_resources(hw: Headwater, service: str) -> Names:
    """Create ``service``'s resources in ``hw``; the names that reach them."""
    return _MAKERS[service](hw)


def _sqs(hw: Headwater) -> Names:
    sqs = hw.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.create_queue(QueueName="dlq")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    receipt = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]
    return {
        "QueueUrl": [url],
        "QueueName": ["q", "dlq"],
        "QueueNamePrefix": ["q"],
        "ReceiptHandle": [receipt["ReceiptHandle"]],
        "SourceArn": [QUEUE_ARN],
        "DestinationArn": [QUEUE_ARN.replace(":q", ":dlq")],
        "Label": ["l"],
        "AttributeName": ["All", "VisibilityTimeout", "RedrivePolicy", "Policy"],
        "Attributes": st.sampled_from(
            [
                {"VisibilityTimeout": "-1"},
                {
                    "RedrivePolicy": '{"deadLetterTargetArn":"'
                    + QUEUE_ARN
                    + '","maxReceiveCount":"\ud800"}'
                },
                {"Policy": "\ud800"},
                {"MessageRetentionPeriod": "1e400"},
                {"FifoQueue": "true"},
            ]
        ),
    }


def _kinesis(hw: Headwater) -> Names:
    kinesis = hw.client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=2)
    arn = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamARN"]
    put = kinesis.put_record(StreamName="s", Data=b"d", PartitionKey="p")
    iterator = kinesis.get_shard_iterator(
        StreamName="s", ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c")["Consumer"]
    return {
        "StreamName": ["s"],
        "StreamARN": [arn],
        "ResourceARN": [arn, consumer["ConsumerARN"]],
        "ShardId": ["shardId-000000000000", "shardId-000000000001"],
        "ShardToSplit": ["shardId-000000000000"],
        "ShardToMerge": ["shardId-000000000000"],
        "AdjacentShardToMerge": ["shardId-000000000001"],
        "ExclusiveStartShardId": ["shardId-000000000000"],
        "ShardIterator": [iterator],
        "StartingSequenceNumber": [put["SequenceNumber"]],
        "ExplicitHashKey": ["0", "340282366920938463463374607431768211455", "-1", "1" * 40],
        "NewStartingHashKey": ["1", "170141183460469231731687303715884105728"],
        "ConsumerName": ["c"],
        "ConsumerARN": [consumer["ConsumerARN"]],
        "PartitionKey": ["p"],
    }


def _item_strategy(key_values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A DynamoDB item: the table's key ``pk`` (a drawn value) and a few drawn attributes."""
    attribute = operation_model("dynamodb", "PutItem").input_shape.members["Item"]
    others = shape_values(attribute)
    return st.tuples(key_values, others).map(lambda pair: {**pair[1], "pk": pair[0]})


def _dynamodb(hw: Headwater) -> Names:
    dynamodb = hw.client("dynamodb")
    table = dynamodb.create_table(
        TableName="tbl",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    dynamodb.put_item(TableName="tbl", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    attribute = operation_model("dynamodb", "PutItem").input_shape.members["Item"].value
    key_value = st.one_of(
        st.sampled_from([{"S": "a"}, {"S": "\ud800"}, {"S": ""}, {"N": "1"}]),
        shape_values(attribute),
    )
    item = _item_strategy(key_value)
    expression_values = st.dictionaries(
        st.sampled_from([":v", ":w"]), shape_values(attribute), min_size=1, max_size=2
    )
    return {
        "TableName": ["tbl", table["TableArn"]],
        "ResourceArn": [table["TableArn"]],
        "Item": item,
        "Key": item.map(lambda whole: {"pk": whole["pk"]}),
        "ExclusiveStartKey": item.map(lambda whole: {"pk": whole["pk"]}),
        "ExpressionAttributeValues": expression_values,
        "ExpressionAttributeNames": [{"#a": "n"}, {"#a": "\ud800"}, {"#a": ""}],
        "KeyConditionExpression": ["pk = :v", "#a = :v", "pk = :v AND begins_with(n, :w)"],
        "FilterExpression": ["n > :v", "attribute_exists(#a)", "size(n) = :v", "contains(n, :v)"],
        "ConditionExpression": ["attribute_not_exists(pk)", "n = :v", "n IN (:v, :w)"],
        "UpdateExpression": ["SET n = :v", "ADD n :v", "REMOVE n", "SET n = n + :v", "DELETE n :v"],
        "ProjectionExpression": ["pk, n", "#a", "n[0].x"],
        "Statement": [
            "SELECT * FROM tbl",
            "INSERT INTO tbl VALUE {'pk': ?}",
            "UPDATE tbl SET n = ? WHERE pk = 'a'",
            "DELETE FROM tbl WHERE pk = ?",
        ],
        "AttributeName": ["pk", "n"],
    }


def _dynamodbstreams(hw: Headwater) -> Names:
    dynamodb = hw.client("dynamodb")
    dynamodb.create_table(
        TableName="tbl",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    dynamodb.put_item(TableName="tbl", Item={"pk": {"S": "a"}})
    streams = hw.client("dynamodbstreams")
    arn = streams.list_streams()["Streams"][0]["StreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return {
        "StreamArn": [arn],
        "TableName": ["tbl"],
        "ShardId": [shard["ShardId"]],
        "ExclusiveStartShardId": [shard["ShardId"]],
        "ShardIterator": [iterator],
        "SequenceNumber": [shard["SequenceNumberRange"]["StartingSequenceNumber"]],
    }


def _lambda(hw: Headwater) -> Names:
    lam = hw.client("lambda")
    code = function_zip()
    function = lam.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler="app.handler",
        Code={"ZipFile": code},
    )
    lam.create_alias(FunctionName="f", Name="live", FunctionVersion="$LATEST")
    sqs = hw.client("sqs")
    sqs.create_queue(QueueName="q")
    mapping = lam.create_event_source_mapping(FunctionName="f", EventSourceArn=QUEUE_ARN)
    layer = lam.publish_layer_version(LayerName="l", Content={"ZipFile": code})
    return {
        "FunctionName": ["f", function["FunctionArn"], "f:live", f"{function['FunctionArn']}:1"],
        "Resource": [function["FunctionArn"]],
        "Qualifier": ["$LATEST", "live", "1"],
        "Role": [ROLE_ARN],
        "Runtime": ["python3.12", "nodejs20.x"],
        "Handler": ["app.handler"],
        "ZipFile": [code],
        "Name": ["live"],
        "FunctionVersion": ["$LATEST", "1"],
        "EventSourceArn": [QUEUE_ARN],
        "UUID": [mapping["UUID"]],
        "LayerName": ["l", layer["LayerArn"]],
        "Arn": [layer["LayerVersionArn"]],
        "VersionNumber": [layer["Version"]],
        "StatementId": ["s"],
        "Action": ["lambda:InvokeFunction"],
        "Principal": ["s3.amazonaws.com", ACCOUNT],
        "Payload": [b"{}", b"[", b"\xff", '{"a": "\ud800"}'.encode("utf-8", "surrogatepass")],
    }


def _s3(hw: Headwater) -> Names:
    s3 = hw.client("s3")
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="k", Body=b"body")
    upload = s3.create_multipart_upload(Bucket="bkt", Key="m")
    return {
        "Bucket": ["bkt"],
        "Key": ["k", "m", "dir/k"],
        "UploadId": [upload["UploadId"]],
        "CopySource": ["bkt/k", "/bkt/k", "bkt/k?versionId=null"],
        "PartNumber": [1, 10000, 10001],
        "Range": ["bytes=0-1", "bytes=-1", "bytes=5-", "bytes=9-2"],
    }


def _sns(hw: Headwater) -> Names:
    sns = hw.client("sns")
    hw.client("sqs").create_queue(QueueName="q")
    topic = sns.create_topic(Name="topic")["TopicArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=QUEUE_ARN)
    return {
        "TopicArn": [topic],
        "ResourceArn": [topic],
        "SubscriptionArn": [subscription["SubscriptionArn"]],
        "Name": ["topic"],
        "Protocol": ["sqs", "lambda", "http"],
        "Endpoint": [QUEUE_ARN],
        "AttributeName": ["Policy", "DisplayName", "RawMessageDelivery", "FilterPolicy"],
        "AttributeValue": ['{"a": ["\ud800"]}', "true", '{"a": [{"numeric": [">", "x"]}]}'],
    }


def _cloudwatch(hw: Headwater) -> Names:
    cloudwatch = hw.client("cloudwatch")
    cloudwatch.put_metric_data(Namespace="ns", MetricData=[{"MetricName": "m", "Value": 1.0}])
    cloudwatch.put_metric_alarm(
        AlarmName="alarm",
        MetricName="m",
        Namespace="ns",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    arn = cloudwatch.describe_alarms(AlarmNames=["alarm"])["MetricAlarms"][0]["AlarmArn"]
    return {
        "Namespace": ["ns"],
        "MetricName": ["m"],
        "AlarmName": ["alarm"],
        "AlarmNames": [["alarm"]],
        "ResourceARN": [arn],
        "Period": [60, 1, 0, 10],
    }


def _logs(hw: Headwater) -> Names:
    logs = hw.client("logs")
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    arn = logs.describe_log_groups()["logGroups"][0]["arn"]
    return {
        "logGroupName": ["g"],
        "logGroupIdentifier": ["g", arn],
        "logGroupNamePrefix": ["g"],
        "logStreamName": ["s"],
        "logStreamNamePrefix": ["s"],
        "resourceArn": [arn.removesuffix(":*")],
        "filterPattern": ["ERROR", '{ $.a = "\ud800" }', "[a, b]", '"'],
    }


def _iam(hw: Headwater) -> Names:
    iam = hw.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    policy = iam.create_policy(PolicyName="p", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.create_instance_profile(InstanceProfileName="ip")
    key = iam.create_access_key(UserName="u")["AccessKey"]["AccessKeyId"]
    return {
        "RoleName": ["r"],
        "UserName": ["u"],
        "GroupName": ["g"],
        "PolicyName": ["p"],
        "PolicyArn": [policy],
        "PermissionsBoundary": [policy],
        "InstanceProfileName": ["ip"],
        "AccessKeyId": [key],
        "VersionId": ["v1", "v2"],
        "PolicyDocument": [POLICY, '{"Statement": "\ud800"}', "{"],
        "AssumeRolePolicyDocument": [TRUST],
        "AWSServiceName": ["lambda.amazonaws.com"],
    }


def _sts(hw: Headwater) -> Names:
    hw.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    return {
        "RoleArn": [ROLE_ARN],
        "RoleSessionName": ["s"],
        "Policy": [POLICY, "{"],
        "AccessKeyId": ["AKIDHEADWATERTEST", "ASIA0000000000000000"],
        "DurationSeconds": [900, 3600, 129600],
    }


def _ssm(hw: Headwater) -> Names:
    ssm = hw.client("ssm")
    ssm.put_parameter(Name="/app/p", Value="v", Type="String")
    ssm.put_parameter(Name="p", Value="v", Type="SecureString")
    return {
        "Name": ["/app/p", "p", "/app/p:1"],
        "Names": [["/app/p", "p"]],
        "Path": ["/", "/app"],
        "ResourceId": ["/app/p", "p"],
        "ResourceType": ["Parameter"],
    }


def _events(hw: Headwater) -> Names:
    events = hw.client("events")
    sqs = hw.client("sqs")
    sqs.create_queue(QueueName="q")
    bus = events.create_event_bus(Name="bus")["EventBusArn"]
    rule = events.put_rule(Name="r", EventPattern='{"source": ["s"]}')["RuleArn"]
    events.put_rule(Name="tick", ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": QUEUE_ARN}])
    return {
        "Name": ["r", "tick", "bus"],
        "Rule": ["r", "tick"],
        "EventBusName": ["default", "bus", bus],
        "ResourceARN": [rule, bus],
        "Ids": [["t"]],
        "TargetArn": [QUEUE_ARN],
        "Arn": [QUEUE_ARN],
        "EventPattern": ['{"source": ["s"]}', '{"detail": {"n": [{"numeric": [">", 1]}]}}'],
        "ScheduleExpression": ["rate(5 minutes)", "cron(0 12 * * ? *)"],
        "Detail": ['{"n": 2}'],
        "Source": ["s"],
    }


def _scheduler(hw: Headwater) -> Names:
    scheduler = hw.client("scheduler")
    hw.client("sqs").create_queue(QueueName="q")
    group = scheduler.create_schedule_group(Name="g")["ScheduleGroupArn"]
    scheduler.create_schedule(
        Name="s",
        GroupName="g",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": QUEUE_ARN, "RoleArn": "arn:aws:iam::000000000000:role/scheduler"},
    )
    return {
        "Name": ["s", "g"],
        "GroupName": ["g", "default"],
        "ResourceArn": [group],
        "Arn": [QUEUE_ARN],
        "ScheduleExpression": ["rate(5 minutes)", "cron(0 12 * * ? *)", "at(2027-01-04T00:10:00)"],
        "ScheduleExpressionTimezone": ["UTC", "Europe/Paris"],
    }


def _cloudformation(hw: Headwater) -> Names:
    cloudformation = hw.client("cloudformation")
    cloudformation.create_stack(StackName="st", TemplateBody=TEMPLATE)
    cloudformation.create_change_set(
        StackName="st", ChangeSetName="cs", TemplateBody=TEMPLATE, ChangeSetType="UPDATE"
    )
    return {
        "StackName": ["st"],
        "ChangeSetName": ["cs"],
        "TemplateBody": [TEMPLATE, "Resources: {}", "{", "Resources:\n  Q: !Ref"],
        "LogicalResourceId": ["Queue"],
    }


def _codedeploy(hw: Headwater) -> Names:
    codedeploy = hw.client("codedeploy")
    codedeploy.create_application(applicationName="app", computePlatform="Lambda")
    codedeploy.create_deployment_group(
        applicationName="app",
        deploymentGroupName="group",
        serviceRoleArn="arn:aws:iam::000000000000:role/codedeploy",
    )
    return {
        "applicationName": ["app"],
        "deploymentGroupName": ["group"],
        "currentDeploymentGroupName": ["group"],
        "deploymentConfigName": ["CodeDeployDefault.LambdaAllAtOnce"],
    }


def _secretsmanager(hw: Headwater) -> Names:
    secrets = hw.client("secretsmanager")
    arn = secrets.create_secret(Name="app/db", SecretString='{"u": "a"}')["ARN"]
    return {"SecretId": ["app/db", arn], "Name": ["app/db"], "SecretString": ['{"u": "b"}']}


def _firehose(hw: Headwater) -> Names:
    hw.client("s3").create_bucket(Bucket="hose-sink")
    hw.client("firehose").create_delivery_stream(
        DeliveryStreamName="hose",
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE_ARN,
            "BucketARN": "arn:aws:s3:::hose-sink",
        },
    )
    return {
        "DeliveryStreamName": ["hose"],
        "CurrentDeliveryStreamVersionId": ["1"],
        "DestinationId": ["destinationId-000000000001"],
    }


def _ses(hw: Headwater) -> Names:
    ses = hw.client("ses")
    ses.verify_email_identity(EmailAddress="me@example.com")
    ses.verify_domain_identity(Domain="example.com")
    ses.create_template(
        Template={"TemplateName": "t", "SubjectPart": "Hi {{name}}", "TextPart": "{{name}}"}
    )
    ses.create_configuration_set(ConfigurationSet={"Name": "c"})
    return {
        "Source": ["me@example.com", "Me <me@example.com>"],
        "FromEmailAddress": ["me@example.com"],
        "EmailAddress": ["me@example.com"],
        "Identity": ["me@example.com", "example.com"],
        "EmailIdentity": ["me@example.com", "example.com"],
        "Domain": ["example.com"],
        "Template": ["t"],
        "TemplateName": ["t"],
        "TemplateData": ['{"name": "a"}'],
        "DefaultTemplateData": ['{"name": "a"}'],
        "ConfigurationSetName": ["c"],
    }


def _kms(hw: Headwater) -> Names:
    kms = hw.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    signer = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    mac = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    kms.create_alias(AliasName="alias/k", TargetKeyId=key)
    blob = kms.encrypt(KeyId=key, Plaintext=b"p")["CiphertextBlob"]
    return {
        "KeyId": [key, "alias/k", "alias/aws/s3", signer["KeyId"], mac["KeyId"]],
        "TargetKeyId": [key],
        "DestinationKeyId": [key],
        "SourceKeyId": [key],
        "AliasName": ["alias/k", "alias/new"],
        "CiphertextBlob": [blob],
        "SigningAlgorithm": ["ECDSA_SHA_256"],
        "MacAlgorithm": ["HMAC_SHA_256"],
        "KeySpec": ["AES_256"],
        "KeyPairSpec": ["ECC_NIST_P256"],
    }


def _stepfunctions(hw: Headwater) -> Names:
    sfn = hw.client("stepfunctions")
    definition = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'
    machine = sfn.create_state_machine(
        name="m", definition=definition, roleArn="arn:aws:iam::000000000000:role/sfn"
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="e")["executionArn"]
    return {
        "stateMachineArn": [machine],
        "executionArn": [execution],
        "resourceArn": [machine],
        "definition": [definition],
        "roleArn": ["arn:aws:iam::000000000000:role/sfn"],
    }


_AUTHORIZER_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:a/invocations"
)


def _apigatewayv2(hw: Headwater) -> Names:
    apis = hw.client("apigatewayv2")
    api = apis.create_api(Name="a", ProtocolType="HTTP")["ApiId"]
    authorizer = apis.create_authorizer(
        ApiId=api,
        Name="a",
        AuthorizerType="REQUEST",
        AuthorizerUri=_AUTHORIZER_URI,
        AuthorizerPayloadFormatVersion="2.0",
        IdentitySource=["$request.header.a"],
    )["AuthorizerId"]
    return {"ApiId": [api], "StageName": ["$default"], "AuthorizerId": [authorizer]}


def _apigateway(hw: Headwater) -> Names:
    gateway = hw.client("apigateway")
    api = gateway.create_rest_api(name="a")["id"]
    root = gateway.get_resources(restApiId=api)["items"][0]["id"]
    # a MOCK method with a response, and an authorizer, so their operations get past
    # "not found"
    method = {"restApiId": api, "resourceId": root, "httpMethod": "GET"}
    gateway.put_method(**method, authorizationType="NONE")
    gateway.put_integration(**method, type="MOCK")
    gateway.put_method_response(**method, statusCode="200")
    gateway.put_integration_response(**method, statusCode="200")
    authorizer = gateway.create_authorizer(
        restApiId=api,
        name="a",
        type="TOKEN",
        authorizerUri=_AUTHORIZER_URI,
        identitySource="method.request.header.Authorization",
    )["id"]
    return {
        "restApiId": [api],
        "resourceId": [root],
        "parentId": [root],
        "httpMethod": ["GET"],
        "statusCode": ["200"],
        "authorizerId": [authorizer],
    }


def _cognito_idp(hw: Headwater) -> Names:
    idp = hw.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="c", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="ann", MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=pool, Username="ann", Password="Passw0rd!", Permanent=True
    )
    idp.create_group(UserPoolId=pool, GroupName="g")
    tokens = idp.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann", "PASSWORD": "Passw0rd!"},
    )["AuthenticationResult"]
    return {
        "UserPoolId": [pool],
        "ClientId": [client],
        "Username": ["ann"],
        "GroupName": ["g"],
        "AccessToken": [tokens["AccessToken"]],
        "Token": [tokens["RefreshToken"]],
    }


_MAKERS = {
    "sqs": _sqs,
    "kinesis": _kinesis,
    "dynamodb": _dynamodb,
    "dynamodbstreams": _dynamodbstreams,
    "lambda": _lambda,
    "s3": _s3,
    "sns": _sns,
    "cloudwatch": _cloudwatch,
    "logs": _logs,
    "iam": _iam,
    "sts": _sts,
    "ssm": _ssm,
    "events": _events,
    "scheduler": _scheduler,
    "cloudformation": _cloudformation,
    "codedeploy": _codedeploy,
    "secretsmanager": _secretsmanager,
    "firehose": _firehose,
    "ses": _ses,
    "kms": _kms,
    "sesv2": _ses,
    "stepfunctions": _stepfunctions,
    "apigatewayv2": _apigatewayv2,
    "apigateway": _apigateway,
    "cognito-idp": _cognito_idp,
}
