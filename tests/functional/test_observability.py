"""Built-in metrics, record journeys and the DLQ alarm, in process on a ManualClock."""

from __future__ import annotations

import datetime as dt
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.runtime.inline import InlineRuntime
from headwater.server.prometheus import MetricsEndpoint
from headwater.telemetry.recorder import MAX_LAMBDA_SAMPLES, Recorder
from headwater.testing import wait_for_drain
from tests.conformance.recorded import assert_matches, recorded

HANDLER = """
def handler(event, context):
    for record in event["Records"]:
        print("handling", record["body"])
        if record["body"] == "poison":
            raise ValueError("cannot digest " + record["messageId"])
"""


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline"}


def _at(clock: ManualClock, offset: float = 0.0) -> dt.datetime:
    return dt.datetime.fromtimestamp(clock.now() + offset, dt.UTC)


def metric_values(
    hw: Headwater, clock: ManualClock, namespace: str, name: str, dims: dict[str, str], stat: str
) -> list[float]:
    result = hw.client("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                    },
                    "Period": 60,
                    "Stat": stat,
                },
            }
        ],
        StartTime=_at(clock, -3600),
        EndTime=_at(clock, 120),
        ScanBy="TimestampAscending",
    )
    values: list[float] = result["MetricDataResults"][0]["Values"]
    return values


def create_digest_function(hw: Headwater, tmp_path: Path) -> None:
    """The function ``digest`` running ``HANDLER`` (fails on a body of "poison")."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "poison_app.py").write_text(HANDLER)
    hw.lambda_.create_function_from_directory("digest", code, "poison_app.handler")


def deploy(hw: Headwater, tmp_path: Path) -> tuple[str, str, str, str]:
    create_digest_function(hw, tmp_path)
    sqs = hw.client("sqs")
    dlq_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url = sqs.create_queue(
        QueueName="orders", Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "30"}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    hw.lambda_.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="digest", BatchSize=1,
        MetricsConfig={"Metrics": ["EventCount"]},
    )  # fmt: skip
    return url, arn, dlq_url, dlq_arn


def test_sqs_and_lambda_metrics_are_time_series(hw: Headwater, clock: ManualClock) -> None:
    sqs = hw.client("sqs")
    url = sqs.create_queue(QueueName="metrics")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is not None
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None
    queue = {"QueueName": "metrics"}
    assert metric_values(hw, clock, "AWS/SQS", "NumberOfMessagesSent", queue, "Sum") == [1.0]
    assert metric_values(hw, clock, "AWS/SQS", "SentMessageSize", queue, "Average") == [5.0]
    assert metric_values(hw, clock, "AWS/SQS", "NumberOfMessagesReceived", queue, "Sum") == [1.0]
    assert metric_values(hw, clock, "AWS/SQS", "NumberOfEmptyReceives", queue, "Sum") == [1.0]
    clock.advance(60)  # the collector samples queue depths once a minute
    # the received message's 30 s visibility timeout has run out: it is visible again
    depth = metric_values(
        hw, clock, "AWS/SQS", "ApproximateNumberOfMessagesVisible", queue, "Maximum"
    )
    assert depth == [1.0]
    listed = hw.client("cloudwatch").list_metrics(Namespace="AWS/SQS")["Metrics"]
    assert {m["MetricName"] for m in listed} >= {
        "NumberOfMessagesSent",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
    }


def test_lambda_invocation_metrics(hw: Headwater, clock: ManualClock, tmp_path: Path) -> None:
    create_digest_function(hw, tmp_path)
    ok = {"Records": [{"body": "fine", "messageId": "1"}]}
    bad = {"Records": [{"body": "poison", "messageId": "2"}]}
    hw.lambda_.invoke(FunctionName="digest", Payload=json.dumps(ok))
    hw.lambda_.invoke(FunctionName="digest", Payload=json.dumps(bad))
    fn = {"FunctionName": "digest"}
    assert metric_values(hw, clock, "AWS/Lambda", "Invocations", fn, "Sum") == [2.0]
    assert metric_values(hw, clock, "AWS/Lambda", "Errors", fn, "Sum") == [1.0]
    assert metric_values(hw, clock, "AWS/Lambda", "Duration", fn, "SampleCount") == [2.0]
    assert metric_values(hw, clock, "AWS/Lambda", "Invocations", {}, "Sum") == [2.0]


def digest_function_and_recorder(hw: Headwater, tmp_path: Path) -> Recorder:
    """The digest function created, and the recorder its invocations report to."""
    create_digest_function(hw, tmp_path)
    recorder = hw.service("lambda").env.telemetry
    assert isinstance(recorder, Recorder)
    return recorder


def test_lambda_samples_queued_between_flushes_stay_bounded(
    hw: Headwater, clock: ManualClock, tmp_path: Path
) -> None:
    # an invocation queues its metric sample; past MAX_LAMBDA_SAMPLES (no flush in
    # between: the clock does not move) they are folded into the minute's aggregates
    recorder = digest_function_and_recorder(hw, tmp_path)
    count = MAX_LAMBDA_SAMPLES + 10
    ok = json.dumps({"Records": [{"body": "fine", "messageId": "1"}]})
    for _ in range(count):
        hw.lambda_.invoke_function("digest", ok)
    assert recorder._lambda_queued == 10
    fn = {"FunctionName": "digest"}
    assert metric_values(hw, clock, "AWS/Lambda", "Invocations", fn, "Sum") == [count]
    assert metric_values(hw, clock, "AWS/Lambda", "Duration", {}, "SampleCount") == [count]
    peak = metric_values(hw, clock, "AWS/Lambda", "ConcurrentExecutions", fn, "Maximum")
    assert peak == [1.0]
    assert recorder._lambda_queued == 0 and recorder._lambda_pending == {}


def test_prometheus_lambda_counters_include_invocations_not_yet_flushed(
    hw: Headwater, clock: ManualClock, tmp_path: Path
) -> None:
    # invocations only queue their samples; the Prometheus counters are worked out from the
    # queue when read, so a scrape right after the invocations sees every one of them
    recorder = digest_function_and_recorder(hw, tmp_path)
    ok = json.dumps({"Records": [{"body": "fine", "messageId": "1"}]})
    bad = json.dumps({"Records": [{"body": "poison", "messageId": "2"}]})
    for _ in range(5):
        hw.lambda_.invoke_function("digest", ok)
    hw.lambda_.invoke_function("digest", bad)
    assert recorder._lambda_queued == 6
    text = MetricsEndpoint(hw).respond().body.decode()
    assert 'headwater_lambda_invocations_total{functionname="digest"} 6.0' in text
    assert 'headwater_lambda_errors_total{functionname="digest"} 1.0' in text
    assert recorder._lambda_queued == 0 and recorder._lambda_pending == {}
    assert metric_values(hw, clock, "AWS/Lambda", "Invocations", {"FunctionName": "digest"},
                         "Sum") == [6.0]  # fmt: skip


def test_an_invocation_that_raises_stops_counting_as_running(
    hw: Headwater, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = digest_function_and_recorder(hw, tmp_path)

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(InlineRuntime, "invoke", interrupted)
    with pytest.raises(KeyboardInterrupt):
        hw.lambda_.invoke_function("digest", {"Records": []})
    assert recorder._running == {}
    assert recorder._lambda_queued == 0  # nothing ended to count


SLOW_HANDLER = """
import os
import time


def handler(event, context):
    # rendezvous of the three invocations (each its own worker process): they overlap
    open(os.path.join(event["dir"], context.aws_request_id), "w").close()
    deadline = time.monotonic() + 20
    while len(os.listdir(event["dir"])) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(os.listdir(event["dir"]))
"""


def test_concurrent_executions_metric(clock: ManualClock, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "slow_app.py").write_text(SLOW_HANDLER)
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    payload = json.dumps({"dir": str(meeting)})
    # worker processes (not the fixture's inline functions): invocations really run at once
    with Headwater(data_dir=None, clock=clock) as hw:
        hw.lambda_.create_function_from_directory("slow", code, "slow_app.handler")
        with ThreadPoolExecutor(3) as pool:
            results = list(
                pool.map(lambda _: hw.lambda_.invoke(FunctionName="slow", Payload=payload), "abc")
            )
        assert [json.loads(r["Payload"].read()) for r in results] == [3, 3, 3]
        fn = {"FunctionName": "slow"}
        # AWS's gauge, read as Maximum: three ran at once, per function and account-wide
        peak = metric_values(hw, clock, "AWS/Lambda", "ConcurrentExecutions", fn, "Maximum")
        assert peak == [3.0]
        assert metric_values(hw, clock, "AWS/Lambda", "ConcurrentExecutions", {}, "Maximum") == [
            3.0
        ]
        clock.advance(60)
        hw.lambda_.invoke(FunctionName="slow", Payload=json.dumps({"dir": str(meeting)}))
        # the next minute had one invocation at a time
        peak = metric_values(hw, clock, "AWS/Lambda", "ConcurrentExecutions", fn, "Maximum")
        assert peak == [3.0, 1.0]


def test_poisoned_message_journey_and_dlq_alarm(
    hw: Headwater, clock: ManualClock, tmp_path: Path
) -> None:
    url, arn, dlq_url, dlq_arn = deploy(hw, tmp_path)
    cw = hw.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName="dlq-not-empty", Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": "orders-dlq"}], Statistic="Maximum",
        Period=60, EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching", AlarmActions=["arn:aws:sns:us-east-1:000000000000:ops"],
    )  # fmt: skip
    sqs = hw.client("sqs")
    hw.start()
    sent = sqs.send_message(QueueUrl=url, MessageBody="poison")["MessageId"]
    sqs.send_message(QueueUrl=url, MessageBody="fine")
    wait_for_drain(hw, url)
    assert (
        sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "1"
    )

    steps = hw.journey(sent)
    kinds = [s["kind"] for s in steps]
    assert kinds[0] == "sent" and kinds.count("received") == 2 and kinds.count("invoked") == 2
    assert kinds[-1] == "dead-letter" and steps[-1]["to"] == dlq_arn
    invoked = [s for s in steps if s["kind"] == "invoked"]
    assert all(s["outcome"] == "function_error" for s in invoked)
    assert invoked[0]["error"] == f"ValueError: cannot digest {sent}"
    assert invoked[0]["request_id"] != invoked[1]["request_id"]

    for _ in range(3):  # sample, then let the alarm evaluate the completed minute
        clock.advance(60)
    alarm = cw.describe_alarms(AlarmNames=["dlq-not-empty"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM", alarm["StateReason"]
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 datapoint [1.0")

    # redrive back to the source (StartMessageMoveTask): the fixed function eats it now
    hw.stop()
    sqs.purge_queue(QueueUrl=url)
    task = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn)
    assert task["TaskHandle"]
    moved = hw.service("sqs")
    for _ in range(10):
        clock.advance(1)
        if (
            moved.call("ListMessageMoveTasks", {"SourceArn": dlq_arn})["Results"][0]["Status"]
            == "COMPLETED"
        ):
            break
    assert hw.journey(sent)[-1]["kind"] == "redrive"
    for _ in range(3):
        clock.advance(60)
    alarm = cw.describe_alarms(AlarmNames=["dlq-not-empty"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "OK", alarm["StateReason"]
    history = cw.describe_alarm_history(AlarmName="dlq-not-empty")["AlarmHistoryItems"]
    summaries = [h["HistorySummary"] for h in history]
    # missing data counts as good: OK until the DLQ fills, ALARM, OK after the redrive
    # (the action to SNS fails while headwater has no SNS; it is recorded either way)
    assert summaries[0] == "Alarm updated from ALARM to OK"
    assert summaries[1].endswith("execute action arn:aws:sns:us-east-1:000000000000:ops")
    assert summaries[2:5] == [
        "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK",
        'Alarm "dlq-not-empty" created',
    ]
    actions = [h for h in history if h["HistoryItemType"] == "Action"]
    assert actions and "arn:aws:sns:us-east-1:000000000000:ops" in actions[-1]["HistorySummary"]


def test_function_logs_are_cloudwatch_logs(hw: Headwater, tmp_path: Path) -> None:
    create_digest_function(hw, tmp_path)
    result = hw.lambda_.invoke_function("digest", {"Records": [{"body": "x", "messageId": "1"}]})
    logs = hw.client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/digest")["logStreams"]
    assert len(streams) == 1
    assert streams[0]["logStreamName"].split("/")[3].startswith("[$LATEST]")
    events = logs.filter_log_events(logGroupName="/aws/lambda/digest", filterPattern="handling")
    assert [e["message"] for e in events["events"]] == ["handling x\n"]
    text = hw.lambda_.function_logs("digest")
    assert f"START RequestId: {result.request_id}" in text and "REPORT RequestId" in text


def test_function_log_stream_sizes_and_times_count_every_line(
    hw: Headwater, clock: ManualClock, tmp_path: Path
) -> None:
    # the sink queues each invocation's lines with their stored size (UTF-8 bytes + 26 a
    # line) and timestamps; the stream and group then say what GetLogEvents returns
    create_digest_function(hw, tmp_path)
    hw.lambda_.invoke_function("digest", {"Records": [{"body": "caf\u00e9", "messageId": "1"}]})
    clock.advance(5)
    hw.lambda_.invoke_function("digest", {"Records": [{"body": "plain", "messageId": "2"}]})
    logs = hw.client("logs")
    (stream,) = logs.describe_log_streams(logGroupName="/aws/lambda/digest")["logStreams"]
    events = logs.get_log_events(
        logGroupName="/aws/lambda/digest", logStreamName=stream["logStreamName"]
    )["events"]
    messages = [e["message"] for e in events]
    assert "handling caf\u00e9\n" in messages and "handling plain\n" in messages
    assert sum(m.startswith(("START", "END", "REPORT")) for m in messages) == 6
    stored = sum(len(m.encode()) + 26 for m in messages)
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/digest")["logGroups"]
    assert group["storedBytes"] == stored  # (a stream's storedBytes is 0, as on AWS)
    stamps = [e["timestamp"] for e in events]
    assert stamps[-1] - stamps[0] == 5000
    assert (stream["firstEventTimestamp"], stream["lastEventTimestamp"]) == (stamps[0], stamps[-1])


def test_observability_off_records_nothing(tmp_path: Path) -> None:
    with Headwater.in_memory(clock=ManualClock(), metrics=False, journeys=False) as hw:
        sqs = hw.client("sqs")
        url = sqs.create_queue(QueueName="quiet")["QueueUrl"]
        sent = sqs.send_message(QueueUrl=url, MessageBody="x")["MessageId"]
        assert hw.journey(sent) == []
        assert hw.client("cloudwatch").list_metrics()["Metrics"] == []


def test_recorded_sqs_metrics(hw: Headwater, clock: ManualClock) -> None:
    """AWS's recording of the SQS metrics a send, an empty receive, a receive and a delete make."""
    sqs = hw.client("sqs")
    url = sqs.create_queue(QueueName="recorded")["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)  # empty
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)

    def query(qid: str, name: str, stat: str) -> dict[str, Any]:
        metric = {
            "Namespace": "AWS/SQS",
            "MetricName": name,
            "Dimensions": [{"Name": "QueueName", "Value": "recorded"}],
        }
        return {"Id": qid, "MetricStat": {"Metric": metric, "Period": 3600, "Stat": stat}}

    cw = hw.client("cloudwatch")
    window = {"StartTime": _at(clock, -3600), "EndTime": _at(clock, 60)}
    first = cw.get_metric_data(
        MetricDataQueries=[
            query("sent", "NumberOfMessagesSent", "Sum"),
            query("sent_size", "SentMessageSize", "Sum"),
            query("empty_receives", "NumberOfEmptyReceives", "Sum"),
        ],
        **window,
    )
    test = "test_aws_sqs_metrics_created"
    assert_matches(first, recorded("cloudwatch", test, "get_metric_data"))
    second = cw.get_metric_data(
        MetricDataQueries=[
            query("num_msg_received", "NumberOfMessagesReceived", "Sum"),
            query("num_msg_deleted", "NumberOfMessagesDeleted", "Sum"),
        ],
        **window,
    )
    assert_matches(second, recorded("cloudwatch", test, "get_metric_data_2"))


def test_recorded_alarm_on_messages_sent_notifies_sns(hw: Headwater, clock: ManualClock) -> None:
    """AWS's recording of an alarm on NumberOfMessagesSent, and the message it published."""
    sqs, sns, cw = hw.client("sqs"), hw.client("sns"), hw.client("cloudwatch")
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    inbox = sqs.create_queue(QueueName="alarm-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
    url = sqs.create_queue(QueueName="watched")["QueueUrl"]
    cw.put_metric_alarm(
        AlarmName="sent-alarm", AlarmDescription="test messages sent", Namespace="AWS/SQS",
        MetricName="NumberOfMessagesSent", Dimensions=[{"Name": "QueueName", "Value": "watched"}],
        Statistic="SampleCount", Period=60, EvaluationPeriods=1, Threshold=0,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="missing",
        AlarmActions=[topic],
    )  # fmt: skip
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    clock.advance(60)  # the minute of the send is complete: the alarm evaluates it
    test = "test_alarm_number_of_messages_sent"
    described = cw.describe_alarms(AlarmNames=["sent-alarm"])
    alarm = described["MetricAlarms"][0]
    alarm["StateReasonData"] = json.loads(alarm["StateReasonData"])
    alarm["StateReason"] = _mask_dates(alarm["StateReason"])
    described.pop("LogAlarms", None)
    assert_matches(described, recorded("cloudwatch", test, "NumberOfMessagesSent-describe"))
    received = sqs.receive_message(QueueUrl=inbox, WaitTimeSeconds=0)["Messages"]
    message = json.loads(json.loads(received[0]["Body"])["Message"])
    message["NewStateReason"] = _mask_dates(message["NewStateReason"])
    assert_matches(message, recorded("cloudwatch", test, "NumberOfMessagesSent-sqs-msg"))


def _mask_dates(reason: str) -> str:
    return re.sub(r"\(\d\d/\d\d/\d\d \d\d:\d\d:\d\d\)", "(MM/DD/YY HH:MM:SS)", reason)


def test_dynamodb_request_metrics(hw: Headwater, clock: ManualClock) -> None:
    ddb = hw.client("dynamodb")
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for key in ("a", "b"):
        ddb.put_item(TableName="orders", Item={"id": {"S": key}})
    ddb.scan(TableName="orders")
    scan = {"TableName": "orders", "Operation": "Scan"}
    put = {"TableName": "orders", "Operation": "PutItem"}
    assert metric_values(hw, clock, "AWS/DynamoDB", "ReturnedItemCount", scan, "Sum") == [2.0]
    latency = metric_values(
        hw, clock, "AWS/DynamoDB", "SuccessfulRequestLatency", put, "SampleCount"
    )
    assert latency == [2.0]
