"""ARNs, accounts and regions."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
PARTITION = "aws"


@dataclass(frozen=True, slots=True)
class Arn:
    """``arn:partition:service:region:account:resource``."""

    service: str
    region: str
    account: str
    resource: str
    partition: str = PARTITION

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @classmethod
    def parse(cls, text: str) -> Arn:
        """Parse an ARN; raises ``ValueError`` if ``text`` is not one."""
        parts = text.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2]:
            raise ValueError(f"not an ARN: {text!r}")
        return cls(
            partition=parts[1],
            service=parts[2],
            region=parts[3],
            account=parts[4],
            resource=parts[5],
        )

    @classmethod
    def try_parse(cls, text: str) -> Arn | None:
        """Parse an ARN, or ``None`` if ``text`` is not one."""
        try:
            return cls.parse(text)
        except ValueError:
            return None


def sqs_queue_arn(region: str, account: str, name: str) -> str:
    return str(Arn("sqs", region, account, name))


def lambda_function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    resource = f"function:{name}" if qualifier is None else f"function:{name}:{qualifier}"
    return str(Arn("lambda", region, account, resource))


def kinesis_stream_arn(region: str, account: str, name: str) -> str:
    return str(Arn("kinesis", region, account, f"stream/{name}"))


def kinesis_consumer_stream_arn(consumer_arn: str) -> str | None:
    """The stream of a Kinesis stream consumer's ARN
    (``arn:aws:kinesis:<region>:<account>:stream/<name>/consumer/<consumer>:<created>``), or
    ``None`` if ``consumer_arn`` is not one."""
    arn = Arn.try_parse(consumer_arn)
    if arn is None or arn.service != "kinesis" or not arn.resource.startswith("stream/"):
        return None
    stream, marker, consumer = arn.resource.partition("/consumer/")
    if not marker or not consumer or "/" in stream[len("stream/") :]:
        return None
    return str(Arn("kinesis", arn.region, arn.account, stream, arn.partition))


def esm_arn(region: str, account: str, uuid: str) -> str:
    return str(Arn("lambda", region, account, f"event-source-mapping:{uuid}"))
