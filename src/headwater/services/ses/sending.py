"""What SES v1 and v2 share: identities, templates, configuration sets, and the outbox.

Mail goes nowhere: every message SES accepts is kept (``SesStore.add_message``) with its
sender, destinations, subject, bodies, raw MIME, template and data, tags and time, for
tests to read (``SesService.sent_messages``, ``GET /_headwater/ses/messages``,
``headwater ses messages``).

Identities are verified as soon as they are made (there is no mailbox to click a link in).
The account starts out of the sandbox (ProductionAccessEnabled): the sender (From, Source)
must be a verified address or an address of a verified domain, recipients may be anyone,
which is what tests of code written for a production account expect.
"""

from __future__ import annotations

import base64
import email
import email.policy
import secrets
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.values import json_object
from headwater.services.base import RequestContext, ServiceEnvironment
from headwater.services.ses.rendering import (
    MissingVariable,
    TemplateSyntaxError,
    check_template,
    render,
)
from headwater.services.ses.store import (
    CONFIGURATION_SET,
    IDENTITY,
    TEMPLATE,
    SesStore,
)

#: GetSendQuota's numbers: what AWS grants a production account at first.
MAX_24_HOUR_SEND = 50000.0
MAX_SEND_RATE = 14.0
DAY = 86400.0


def message_id(now: float) -> str:
    """A MessageId in AWS's form: the send time in hex milliseconds, a UUID, ``-000000``."""
    return f"{int(now * 1000):016x}-{uuid.uuid4()}-000000"


def identity_type(identity: str) -> str:
    """``EMAIL_ADDRESS`` or ``DOMAIN``, as SES v2 names them."""
    return "EMAIL_ADDRESS" if "@" in identity else "DOMAIN"


def address_of(text: str) -> str:
    """The bare address of ``"Name <a@b>"`` (or of ``a@b``)."""
    return parseaddr(text)[1] or text


def message_rejected(region: str, identities: list[str]) -> AwsError:
    return AwsError(
        "MessageRejected",
        "Email address is not verified. The following identities failed the check in "
        f"region {region.upper()}: {', '.join(identities)}",
    )


def template_data(text: Any) -> dict[str, Any]:
    """TemplateData as a JSON object; ``InvalidRenderingParameter`` when it is not one."""
    data = {} if text is None else json_object(str(text))
    if data is None:
        raise AwsError(
            "InvalidRenderingParameter", "Template data must be a valid JSON object."
        )  # guessed text
    return data


def recipients(
    destination: Any, invalid: Callable[[str], AwsError]
) -> tuple[list[str], list[str], list[str]]:
    """A Destination's (To, Cc, Bcc) addresses; none at all raises ``invalid`` with AWS's
    text for it."""
    destination = destination if isinstance(destination, dict) else {}
    lists = [
        [str(a) for a in destination.get(key) or []]
        for key in ("ToAddresses", "CcAddresses", "BccAddresses")
    ]
    if not any(lists):
        raise invalid("Missing final '@domain'")
    return lists[0], lists[1], lists[2]


def template_record(
    name: str, parts: dict[str, Any], invalid: Callable[[str], AwsError]
) -> dict[str, Any]:
    """A stored template: ``parts`` holds its ``Subject``, ``Text`` and ``Html`` (any may be
    missing); a part the renderer cannot read raises ``invalid(message)``."""
    record = {"Name": name, **{key: parts.get(key) for key in ("Subject", "Text", "Html")}}
    for key in ("Subject", "Text", "Html"):
        if record[key] is not None:
            try:
                check_template(str(record[key]))
            except TemplateSyntaxError as error:
                raise invalid(f"Template {name} is not valid: {error}") from None
    return record


class EmailAccount:
    """One database's SES state, as both APIs see it."""

    def __init__(self, env: ServiceEnvironment) -> None:
        self.env = env
        self.store = env.database.store(SesStore)

    # -- identities ------------------------------------------------------------------------

    def verify(
        self, ctx: RequestContext, identity: str, tags: list[dict[str, str]] | None = None
    ) -> dict[str, Any]:
        """Make ``identity`` (verified at once); an existing one is kept as it is."""
        found = self.store.get(ctx.account, ctx.region, IDENTITY, identity)
        if found is not None:
            return found
        record: dict[str, Any] = {
            "Identity": identity,
            "Created": self.env.clock.now(),
            "VerificationToken": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
            "DkimTokens": [secrets.token_hex(16) for _ in range(3)],
            "Tags": tags or [],
        }
        if self.store.insert(ctx.account, ctx.region, IDENTITY, identity, record):
            return record
        # another caller made it first: theirs is the identity (its tokens, its tags)
        return self.store.get(ctx.account, ctx.region, IDENTITY, identity) or record

    def identity(self, ctx: RequestContext, identity: str) -> dict[str, Any] | None:
        return self.store.get(ctx.account, ctx.region, IDENTITY, identity)

    def identities(self, ctx: RequestContext) -> list[dict[str, Any]]:
        return self.store.all(ctx.account, ctx.region, IDENTITY)

    def delete_identity(self, ctx: RequestContext, identity: str) -> bool:
        return self.store.delete(ctx.account, ctx.region, IDENTITY, identity)

    def is_verified(self, ctx: RequestContext, address: str) -> bool:
        """Whether ``address`` may send: it, or its domain, is a verified identity."""
        bare = address_of(address)
        if self.identity(ctx, bare) is not None:
            return True
        domain = bare.rpartition("@")[2]
        return bool(domain) and self.identity(ctx, domain) is not None

    def check_sender(self, ctx: RequestContext, *senders: str | None) -> None:
        failed = [s for s in senders if s and not self.is_verified(ctx, s)]
        if failed:
            raise message_rejected(ctx.region, failed)

    # -- templates -------------------------------------------------------------------------

    def template(self, ctx: RequestContext, name: str) -> dict[str, Any] | None:
        return self.store.get(ctx.account, ctx.region, TEMPLATE, name)

    def add_template(self, ctx: RequestContext, record: dict[str, Any]) -> bool:
        record.setdefault("Created", self.env.clock.now())
        return self.store.insert(ctx.account, ctx.region, TEMPLATE, record["Name"], record)

    def put_template(self, ctx: RequestContext, record: dict[str, Any]) -> None:
        self.store.put(ctx.account, ctx.region, TEMPLATE, record["Name"], record)

    def templates(self, ctx: RequestContext) -> list[dict[str, Any]]:
        return self.store.all(ctx.account, ctx.region, TEMPLATE)

    def delete_template(self, ctx: RequestContext, name: str) -> bool:
        return self.store.delete(ctx.account, ctx.region, TEMPLATE, name)

    @staticmethod
    def render(
        template: dict[str, Any], data: dict[str, Any], *, strict: bool = False
    ) -> tuple[str, str | None, str | None]:
        """(subject, text, html) of ``template`` with ``data``. Raises
        ``MissingRenderingAttribute`` (``strict``) and ``InvalidTemplate`` as SES does."""
        try:
            parts = [
                None if template.get(key) is None else render(template[key], data, strict=strict)
                for key in ("Subject", "Text", "Html")
            ]
        except MissingVariable as missing:
            raise AwsError(
                "MissingRenderingAttribute",
                f"Attribute '{missing.name}' is not present in the rendering data.",
            ) from None
        except TemplateSyntaxError as error:
            raise AwsError(
                "InvalidTemplate", f"Template {template['Name']} is not valid: {error}"
            ) from None
        return parts[0] or "", parts[1], parts[2]

    # -- configuration sets ----------------------------------------------------------------

    def configuration_set(self, ctx: RequestContext, name: str) -> dict[str, Any] | None:
        return self.store.get(ctx.account, ctx.region, CONFIGURATION_SET, name)

    def add_configuration_set(self, ctx: RequestContext, record: dict[str, Any]) -> bool:
        record.setdefault("Created", self.env.clock.now())
        return self.store.insert(ctx.account, ctx.region, CONFIGURATION_SET, record["Name"], record)

    def configuration_sets(self, ctx: RequestContext) -> list[dict[str, Any]]:
        return self.store.all(ctx.account, ctx.region, CONFIGURATION_SET)

    def delete_configuration_set(self, ctx: RequestContext, name: str) -> bool:
        return self.store.delete(ctx.account, ctx.region, CONFIGURATION_SET, name)

    # -- the outbox ------------------------------------------------------------------------

    def sent_last_day(self, ctx: RequestContext) -> int:
        return self.store.count_since(ctx.account, ctx.region, self.env.clock.now() - DAY)

    def keep(
        self,
        ctx: RequestContext,
        *,
        api: str,
        source: str,
        to: list[str],
        cc: list[str] | None = None,
        bcc: list[str] | None = None,
        subject: str | None = None,
        text: str | None = None,
        html: str | None = None,
        raw: bytes | None = None,
        reply_to: list[str] | None = None,
        template: str | None = None,
        data: dict[str, Any] | None = None,
        tags: list[dict[str, str]] | None = None,
        configuration_set: str | None = None,
    ) -> str:
        """Store one accepted message; answers its MessageId."""
        now = self.env.clock.now()
        if configuration_set and self.configuration_set(ctx, configuration_set) is None:
            raise AwsError(
                "ConfigurationSetDoesNotExist",
                f"Configuration set <{configuration_set}> does not exist.",
            )
        if raw is None:
            raw = mime_message(
                source,
                to=to,
                cc=cc or [],
                reply_to=reply_to or [],
                subject=subject,
                text=text,
                html=html,
            )
        mid = message_id(now)
        self.store.add_message(
            ctx.account,
            ctx.region,
            {
                "MessageId": mid,
                "Timestamp": now,
                "Api": api,
                "Region": ctx.region,
                "Source": source,
                "Destination": {
                    "ToAddresses": to,
                    "CcAddresses": cc or [],
                    "BccAddresses": bcc or [],
                },
                "ReplyToAddresses": reply_to or [],
                "Subject": subject,
                "Body": {"text_part": text, "html_part": html},
                "RawData": raw.decode("utf-8", "replace"),
                "Template": template,
                "TemplateData": data,
                "Tags": tags or [],
                "ConfigurationSetName": configuration_set,
            },
        )
        return mid

    def send_raw(
        self,
        ctx: RequestContext,
        *,
        api: str,
        data: bytes,
        source: str | None,
        destinations: list[str] | None,
        tags: list[dict[str, str]] | None = None,
        configuration_set: str | None = None,
    ) -> str:
        """Check and keep a raw MIME message; sender and recipients default to its headers."""
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        sender = source or str(parsed.get("From") or "")
        if not sender:
            # AWS's text when neither Source nor a From header names the sender.
            raise AwsError("InvalidParameterValue", "Missing required header 'From'.")
        self.check_sender(ctx, sender)
        to = [a for _, a in getaddresses([str(v) for v in parsed.get_all("To", [])]) if a]
        cc = [a for _, a in getaddresses([str(v) for v in parsed.get_all("Cc", [])]) if a]
        bcc = [a for _, a in getaddresses([str(v) for v in parsed.get_all("Bcc", [])]) if a]
        if destinations:
            listed = set(to) | set(cc)
            bcc = bcc + [d for d in destinations if d not in listed and d not in bcc]
        if not (to or cc or bcc):
            raise AwsError("InvalidParameterValue", "Missing final '@domain'")  # AWS's text
        text, html = _bodies(parsed)
        return self.keep(
            ctx,
            api=api,
            source=sender,
            to=to,
            cc=cc,
            bcc=bcc,
            subject=str(parsed.get("Subject")) if parsed.get("Subject") is not None else None,
            text=text,
            html=html,
            raw=data,
            tags=tags,
            configuration_set=configuration_set,
        )


def _bodies(parsed: email.message.Message) -> tuple[str | None, str | None]:
    text = html = None
    for part in parsed.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        try:
            content = part.get_content()  # type: ignore[attr-defined]
        except (LookupError, ValueError):
            continue
        if not isinstance(content, str):
            continue
        if kind == "text/plain" and text is None:
            text = content
        elif kind == "text/html" and html is None:
            html = content
    return text, html


def mime_message(
    source: str,
    *,
    to: list[str],
    cc: list[str],
    reply_to: list[str],
    subject: str | None,
    text: str | None,
    html: str | None,
) -> bytes:
    """The MIME message SES would build for a simple send."""
    message = EmailMessage()
    try:
        message["From"] = source
        if to:
            message["To"] = ", ".join(to)
        if cc:
            message["Cc"] = ", ".join(cc)
        if reply_to:
            message["Reply-To"] = ", ".join(reply_to)
        message["Subject"] = subject or ""
        if text is not None:
            message.set_content(text)
            if html is not None:
                message.add_alternative(html, subtype="html")
        elif html is not None:
            message.set_content(html, subtype="html")
        return message.as_bytes()
    except (ValueError, TypeError, UnicodeError, IndexError):
        # A header python's email refuses (a line break in it): the bodies are kept anyway.
        return (text or html or "").encode("utf-8", "replace")
