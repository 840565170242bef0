import base64
import gzip
import json
import os
import urllib.parse

import boto3


def on_upload(event, context):
    """S3 ObjectCreated -> one item per object in the uploads table."""
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    for record in event["Records"]:
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        table.put_item(
            Item={
                "pk": key,
                "bucket": record["s3"]["bucket"]["name"],
                "size": record["s3"]["object"].get("size", 0),
                "stage": os.environ["STAGE"],
            }
        )
    return {"stored": len(event["Records"])}


def on_records(event, context):
    """Work messages become items in the uploads table; the table's INSERTs come back
    through its stream and are printed. Kinesis and SNS records, EventBridge events and the
    log batches a CloudWatch Logs subscription sends are printed."""
    if "awslogs" in event:
        logs = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
        print(f"{len(logs['logEvents'])} log events from {logs['logGroup']}")
        return None
    if "Records" not in event:  # an EventBridge rule's event (its detail, by InputPath)
        print(f"event {json.dumps(event, sort_keys=True)}")
        return {}
    table = None
    for record in event.get("Records", []):
        source = record.get("eventSource") or record.get("EventSource")
        if source == "aws:sqs":
            body = json.loads(record["body"])
            table = table or boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
            table.put_item(Item={"pk": body["id"], "stage": os.environ["STAGE"]})
            print(f"stored work {body['id']}")
        elif source == "aws:dynamodb":
            print(f"table {record['eventName']} {record['dynamodb']['Keys']['pk']['S']}")
        else:
            print(f"{source} record")
    return {"batchItemFailures": []}


def on_http(event, context):
    """A function URL's or HTTP API's request (payload format 2.0) or a REST API's (1.0)
    -> what was asked, as JSON."""
    asked = {
        "path": event["rawPath"] if event.get("version") == "2.0" else event["path"],
        "query": event.get("queryStringParameters") or {},
        "stage": os.environ["STAGE"],
    }
    if event.get("version") == "2.0":
        return asked  # 2.0 reads any other JSON as the body of a 200
    return {"statusCode": 200, "body": json.dumps(asked)}  # 1.0 needs a response document


def pre_traffic(event, context):
    """CodeDeploy's PreTraffic hook: reports that the shift to the new version may start."""
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status="Succeeded",
    )
