import datetime as dt

import pytest

from headwater.core.arn import Arn, lambda_function_arn, sqs_queue_arn
from headwater.core.values import as_bytes, as_epoch_seconds


def test_arn_round_trip() -> None:
    text = "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"
    arn = Arn.parse(text)
    assert (arn.service, arn.region, arn.account, arn.resource) == (
        "kinesis",
        "us-east-1",
        "000000000000",
        "stream/clicks",
    )
    assert str(arn) == text
    assert sqs_queue_arn("eu-west-1", "1", "q") == "arn:aws:sqs:eu-west-1:1:q"
    assert lambda_function_arn("us-east-1", "1", "f", "$LATEST").endswith("function:f:$LATEST")


@pytest.mark.parametrize("text", ["", "arn", "arn:aws", "nope:aws:sqs:r:a:q", "arn::sqs:r:a:q"])
def test_arn_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        Arn.parse(text)
    assert Arn.try_parse(text) is None


def test_value_coercions() -> None:
    assert as_bytes("hé") == "hé".encode()
    assert as_bytes(bytearray(b"x")) == b"x"
    stamp = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert as_epoch_seconds(stamp) == 1704067200.0
    assert as_epoch_seconds("2024-01-01T00:00:00Z") == 1704067200.0
    assert as_epoch_seconds(5) == 5.0
    with pytest.raises(TypeError):
        as_epoch_seconds(True)
