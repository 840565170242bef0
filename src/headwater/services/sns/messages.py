"""Published messages: validation with SNS's texts, and the shapes subscribers receive.

A ``Notification`` is what one Publish (or one PublishBatch entry) produced; the envelope
builders turn it into what each protocol delivers: the JSON envelope in SQS bodies and HTTP
posts, ``Records[].Sns`` for Lambda, or the raw message.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.core.errors import AwsError
from headwater.services.sns.errors import invalid_parameter

#: Message plus attributes, in bytes (SNS's 256 KiB limit).
MAX_MESSAGE_BYTES = 262_144
MAX_SUBJECT = 100
_SIGNING_KEY = b"headwater-sns-local-signing-key"
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.\-]+")


def _value_invalid(message: str) -> AwsError:
    return AwsError("ParameterValueInvalid", message)


@dataclass(slots=True)
class Notification:
    """One published message, as stored in the outbox and rendered per subscriber."""

    message_id: str
    topic_arn: str
    message: str
    timestamp: str
    subject: str | None = None
    attributes: dict[str, dict[str, Any]] | None = None
    #: MessageStructure=json: protocol -> message (``default`` always there).
    structure: dict[str, str] | None = None
    group_id: str | None = None
    dedup_id: str | None = None
    sequence_number: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "MessageId": self.message_id,
            "TopicArn": self.topic_arn,
            "Message": self.message,
            "Timestamp": self.timestamp,
        }
        for key, value in (
            ("Subject", self.subject),
            ("MessageAttributes", _attributes_json(self.attributes)),
            ("Structure", self.structure),
            ("MessageGroupId", self.group_id),
            ("MessageDeduplicationId", self.dedup_id),
            ("SequenceNumber", self.sequence_number),
        ):
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Notification:
        return cls(
            message_id=data["MessageId"],
            topic_arn=data["TopicArn"],
            message=data["Message"],
            timestamp=data["Timestamp"],
            subject=data.get("Subject"),
            attributes=_attributes_from_json(data.get("MessageAttributes")),
            structure=data.get("Structure"),
            group_id=data.get("MessageGroupId"),
            dedup_id=data.get("MessageDeduplicationId"),
            sequence_number=data.get("SequenceNumber"),
        )

    def message_for(self, protocol: str) -> str:
        if self.structure is None:
            return self.message
        return self.structure.get(protocol, self.structure["default"])


def _attributes_json(
    attributes: dict[str, dict[str, Any]] | None,
) -> dict[str, dict[str, Any]] | None:
    if not attributes:
        return None
    out: dict[str, dict[str, Any]] = {}
    for name, value in attributes.items():
        item = dict(value)
        if isinstance(item.get("BinaryValue"), bytes | bytearray):
            item["BinaryValue"] = base64.b64encode(item["BinaryValue"]).decode()
            item["_b64"] = True
        out[name] = item
    return out


def _attributes_from_json(
    attributes: dict[str, dict[str, Any]] | None,
) -> dict[str, dict[str, Any]] | None:
    if not attributes:
        return None
    out: dict[str, dict[str, Any]] = {}
    for name, value in attributes.items():
        item = dict(value)
        if item.pop("_b64", False):
            item["BinaryValue"] = base64.b64decode(item["BinaryValue"])
        out[name] = item
    return out


# ---- validation ----


def check_subject(subject: str | None) -> None:
    if subject is None:
        return
    if (
        not subject
        or len(subject) > MAX_SUBJECT
        or not subject.isprintable()
        or subject[0].isspace()
    ):
        raise invalid_parameter("Subject")


def check_message_attributes(attributes: dict[str, dict[str, Any]] | None) -> int:
    """Validate message attributes (SNS's texts); returns their size in bytes."""
    size = 0
    for name, value in (attributes or {}).items():
        if len(name.encode()) >= 256:
            raise _value_invalid("Length of message attribute name must be less than 256 bytes.")
        bad = next((ch for ch in name if not _ATTRIBUTE_NAME.fullmatch(ch)), None)
        if bad is not None:
            raise _value_invalid(
                f"Invalid non-alphanumeric character '#x{ord(bad):X}' was found in the message "
                "attribute name. Can only include alphanumeric characters, hyphens, "
                "underscores, or dots."
            )
        if name.startswith("."):
            raise _value_invalid(
                "Invalid message attribute name starting with character '.' was found."
            )
        if name.endswith("."):
            raise _value_invalid(
                "Invalid message attribute name ending with character '.' was found."
            )
        if ".." in name:
            raise _value_invalid("Message attribute name can not have successive '.' character.")
        data_type = str(value.get("DataType") or "")
        kind = data_type.split(".", 1)[0]
        if kind not in ("String", "Number", "Binary"):
            raise _value_invalid(
                f"The message attribute '{name}' has an invalid message attribute type, the set "
                "of supported type prefixes is Binary, Number, and String."
            )
        string_value = value.get("StringValue")
        binary_value = value.get("BinaryValue")
        field = "Binary" if kind == "Binary" else "String"
        if kind == "Binary":
            if string_value is not None and binary_value is None:
                raise _value_invalid(
                    f"The message attribute '{name}' with type 'Binary' must use field 'Binary'."
                )
            if not binary_value:
                raise _value_invalid(
                    f"The message attribute '{name}' must contain non-empty message attribute "
                    "value for message attribute type 'Binary'."
                )
            size += len(binary_value)
        else:
            if binary_value is not None and string_value is None:
                raise _value_invalid(
                    f"The message attribute '{name}' with type '{kind}' must use field '{field}'."
                )
            if not string_value:
                raise _value_invalid(
                    f"The message attribute '{name}' must contain non-empty message attribute "
                    f"value for message attribute type '{kind}'."
                )
            if kind == "Number":
                _check_number(name, str(string_value))
            if data_type == "String.Array":
                _check_array(name, str(string_value))
            size += len(str(string_value).encode())
        size += len(name.encode()) + len(data_type.encode())
    return size


def _check_number(name: str, text: str) -> None:
    try:
        number = float(text)
    except ValueError:
        raise _value_invalid(
            f"Could not cast message attribute '{name}' value to number."
        ) from None
    if not abs(number) <= 1e9:  # also NaN
        raise _value_invalid(
            f"Value {text} for message attribute '{name}' is out of the supported range."
        )


def _check_array(name: str, text: str) -> None:
    try:
        items = orjson.loads(text)
    except orjson.JSONDecodeError:
        items = None
    if not isinstance(items, list) or any(isinstance(i, dict | list) for i in items):
        raise _value_invalid(
            f"The message attribute '{name}' with type 'String.Array' has an invalid value."
        )


def parse_structure(message: str) -> dict[str, str]:
    """MessageStructure=json: a JSON object of protocol -> message, with ``default``."""
    try:
        parsed = orjson.loads(message)
    except orjson.JSONDecodeError:
        raise invalid_parameter("Message Structure - JSON message body failed to parse") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("default"), str):
        raise invalid_parameter("Message Structure - No default entry in JSON message body")
    return {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in parsed.items()}


# ---- what subscribers receive ----


_second_text: tuple[int, str] = (-1, "")


def iso_timestamp(epoch: float) -> str:
    """``2025-11-25T16:34:01.000Z``, as SNS writes Timestamp (the seconds part is formatted
    once per second: a third of a publish's own CPU went to strftime)."""
    global _second_text
    second = int(epoch)
    cached = _second_text
    if cached[0] != second:
        moment = dt.datetime.fromtimestamp(second, dt.UTC)
        cached = _second_text = (second, moment.strftime("%Y-%m-%dT%H:%M:%S."))
    return f"{cached[1]}{int((epoch - second) * 1000):03d}Z"


def _signature(text: str) -> str:
    """A stable stand-in of an RSA signature's shape (344 base64 characters)."""
    digest = hashlib.sha256(_SIGNING_KEY + text.encode()).digest()
    return base64.b64encode(digest * 8).decode()


def _cert_url(region: str) -> str:
    return (
        f"https://sns.{region}.amazonaws.com/SimpleNotificationService-"
        f"{hashlib.md5(region.encode()).hexdigest()}.pem"
    )


def unsubscribe_url(base: str, subscription_arn: str) -> str:
    return f"{base}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"


def envelope_attributes(attributes: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """Message attributes as the JSON envelope shows them (``Type`` / ``Value``)."""
    out: dict[str, Any] = {}
    for name, value in (attributes or {}).items():
        if value.get("BinaryValue") is not None:
            shown = base64.b64encode(bytes(value["BinaryValue"])).decode()
        else:
            shown = str(value.get("StringValue"))
        out[name] = {"Type": value["DataType"], "Value": shown}
    return out


def envelope(
    note: Notification,
    *,
    protocol: str,
    subscription_arn: str,
    region: str,
    base_url: str,
    fifo: bool,
    signature_version: str = "1",
) -> dict[str, Any]:
    """The JSON document SNS delivers to SQS (non-raw), HTTP/S and email-json endpoints."""
    body: dict[str, Any] = {"Type": "Notification", "MessageId": note.message_id}
    if note.sequence_number is not None:
        body["SequenceNumber"] = note.sequence_number
    body["TopicArn"] = note.topic_arn
    if note.subject is not None:
        body["Subject"] = note.subject
    body["Message"] = note.message_for(protocol)
    body["Timestamp"] = note.timestamp
    if not fifo:
        body["SignatureVersion"] = signature_version
        body["Signature"] = _signature(note.message_id + note.timestamp + body["Message"])
        body["SigningCertURL"] = _cert_url(region)
    body["UnsubscribeURL"] = unsubscribe_url(base_url, subscription_arn)
    attributes = envelope_attributes(note.attributes)
    if attributes:
        body["MessageAttributes"] = attributes
    return body


def lambda_event(
    note: Notification, *, subscription_arn: str, region: str, base_url: str
) -> dict[str, Any]:
    """The event a subscribed function receives (one record per notification)."""
    message = note.message_for("lambda")
    sns = {
        "Type": "Notification",
        "MessageId": note.message_id,
        "TopicArn": note.topic_arn,
        "Subject": note.subject,
        "Message": message,
        "Timestamp": note.timestamp,
        "SignatureVersion": "1",
        "Signature": _signature(note.message_id + note.timestamp + message),
        "SigningCertUrl": _cert_url(region),
        "UnsubscribeUrl": unsubscribe_url(base_url, subscription_arn),
        "MessageAttributes": envelope_attributes(note.attributes),
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": sns,
            }
        ]
    }


def confirmation_message(
    *, topic_arn: str, token: str, message_id: str, timestamp: str, region: str, base_url: str
) -> dict[str, Any]:
    """The SubscriptionConfirmation an HTTP/S endpoint receives on Subscribe."""
    url = f"{base_url}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}"
    text = (
        f"You have chosen to subscribe to the topic {topic_arn}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message."
    )
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": text,
        "SubscribeURL": url,
        "Timestamp": timestamp,
        "SignatureVersion": "1",
        "Signature": _signature(message_id + timestamp + text),
        "SigningCertURL": _cert_url(region),
    }
