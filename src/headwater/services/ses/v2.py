"""Amazon SES v2 (restJson): email identities, sending, email templates, configuration sets,
the account. State is shared with SES v1 (``sending.EmailAccount``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.paging import offset_page
from headwater.core.values import as_bytes, as_millisecond_datetime
from headwater.services.base import (
    Params,
    RequestContext,
    Result,
    Service,
    ServiceEnvironment,
    operation,
)
from headwater.services.ses.sending import (
    MAX_24_HOUR_SEND,
    MAX_SEND_RATE,
    EmailAccount,
    identity_type,
    mime_message,
    recipients,
    template_data,
    template_record,
)
from headwater.services.ses.store import CONFIGURATION_SET, IDENTITY, TEMPLATE

PAGE_SIZE = 100
#: The resource part of an SES ARN (``arn:aws:ses:r:a:identity/x``) -> the stored kind.
_ARN_KINDS = {"identity": IDENTITY, "template": TEMPLATE, "configuration-set": CONFIGURATION_SET}


def _not_found(message: str) -> AwsError:
    return AwsError("NotFoundException", message, status=404)


def _bad_request(message: str) -> AwsError:
    return AwsError("BadRequestException", message)


def _text(value: Any, member: str) -> str:
    if not isinstance(value, str) or not value:
        raise _bad_request(f"{member} is required.")  # guessed text
    return value


def _tags(given: Any) -> list[dict[str, str]]:
    return [{"Key": str(t.get("Key")), "Value": str(t.get("Value", ""))} for t in given or []]


def _listed(key: str, items: list[Any], params: Params) -> Result:
    page, token = offset_page(items, params.get("NextToken"), params.get("PageSize"), PAGE_SIZE)
    return {key: page, **({"NextToken": token} if token else {})}


def _content(given: Any, name: str) -> dict[str, Any]:
    return template_record(name, given if isinstance(given, dict) else {}, _bad_request)


class SesV2Service(Service):
    service_name = "sesv2"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.account = EmailAccount(env)

    # -- identities ------------------------------------------------------------------------

    def _identity_answer(self, record: dict[str, Any]) -> Result:
        return {
            "IdentityType": identity_type(record["Identity"]),
            "VerifiedForSendingStatus": True,
            "DkimAttributes": {
                "SigningEnabled": False,
                "Status": "NOT_STARTED",
                "Tokens": record["DkimTokens"],
                "SigningAttributesOrigin": "AWS_SES",
            },
        }

    @operation("CreateEmailIdentity")
    def create_email_identity(self, params: Params, ctx: RequestContext) -> Result:
        name = _text(params.get("EmailIdentity"), "EmailIdentity")
        if self.account.identity(ctx, name) is not None:
            raise AwsError("AlreadyExistsException", f"Email identity {name} already exist.")
        record = self.account.verify(ctx, name, _tags(params.get("Tags")))
        return self._identity_answer(record)

    def _identity(self, params: Params, ctx: RequestContext) -> dict[str, Any]:
        name = _text(params.get("EmailIdentity"), "EmailIdentity")
        record = self.account.identity(ctx, name)
        if record is None:
            raise _not_found(f"Email identity {name} does not exist.")
        return record

    @operation("GetEmailIdentity")
    def get_email_identity(self, params: Params, ctx: RequestContext) -> Result:
        record = self._identity(params, ctx)
        return {
            **self._identity_answer(record),
            "FeedbackForwardingStatus": True,
            "MailFromAttributes": {
                "MailFromDomain": "",
                "MailFromDomainStatus": "SUCCESS",
                "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
            },
            "Policies": {},
            "Tags": record.get("Tags", []),
            "VerificationStatus": "SUCCESS",
        }

    @operation("ListEmailIdentities")
    def list_email_identities(self, params: Params, ctx: RequestContext) -> Result:
        items = [
            {
                "IdentityType": identity_type(r["Identity"]),
                "IdentityName": r["Identity"],
                "SendingEnabled": True,
                "VerificationStatus": "SUCCESS",
            }
            for r in self.account.identities(ctx)
        ]
        return _listed("EmailIdentities", items, params)

    @operation("DeleteEmailIdentity")
    def delete_email_identity(self, params: Params, ctx: RequestContext) -> Result:
        record = self._identity(params, ctx)
        self.account.delete_identity(ctx, record["Identity"])
        return {}

    # -- sending ---------------------------------------------------------------------------

    def _template(self, ctx: RequestContext, given: dict[str, Any]) -> dict[str, Any]:
        if given.get("TemplateContent"):
            return _content(given["TemplateContent"], "inline")
        name = given.get("TemplateName") or str(given.get("TemplateArn") or "").rpartition("/")[2]
        record = self.account.template(ctx, _text(name, "TemplateName"))
        if record is None:
            raise _not_found(f"Template {name} does not exist.")
        return record

    def _send(
        self,
        ctx: RequestContext,
        params: Params,
        *,
        content: dict[str, Any],
        destination: Any,
        tags: list[dict[str, str]],
        data_override: Any = None,
    ) -> str:
        from_address = params.get("FromEmailAddress")
        config = params.get("ConfigurationSetName") or None
        if content.get("Raw"):
            return self.account.send_raw(
                ctx,
                api="sesv2",
                data=as_bytes(content["Raw"].get("Data") or b""),
                source=from_address,
                destinations=[
                    *((destination or {}).get("ToAddresses") or []),
                    *((destination or {}).get("CcAddresses") or []),
                    *((destination or {}).get("BccAddresses") or []),
                ],
                tags=tags,
                configuration_set=config,
            )
        source = _text(from_address, "FromEmailAddress")
        # AWS's v1 text for no recipient, guessed for v2
        to, cc, bcc = recipients(destination, _bad_request)
        self.account.check_sender(ctx, source)
        template_name: str | None = None
        data: dict[str, Any] | None = None
        subject: str | None
        if content.get("Template"):
            given = content["Template"]
            template = self._template(ctx, given)
            data = template_data(given.get("TemplateData"))
            if data_override is not None:
                data.update(template_data(data_override))
            subject, text, html = self.account.render(template, data)
            template_name = str(template["Name"])
        elif content.get("Simple"):
            simple = content["Simple"]
            subject = (simple.get("Subject") or {}).get("Data")
            body = simple.get("Body") or {}
            text = (body.get("Text") or {}).get("Data")
            html = (body.get("Html") or {}).get("Data")
        else:
            raise _bad_request("Content must contain Simple, Raw or Template.")  # guessed text
        return self.account.keep(
            ctx,
            api="sesv2",
            source=source,
            to=to,
            cc=cc,
            bcc=bcc,
            subject=subject,
            text=text,
            html=html,
            reply_to=[str(a) for a in params.get("ReplyToAddresses") or []],
            template=template_name,
            data=data,
            tags=tags,
            configuration_set=config,
        )

    @operation("SendEmail")
    def send_email(self, params: Params, ctx: RequestContext) -> Result:
        mid = self._send(
            ctx,
            params,
            content=params.get("Content") or {},
            destination=params.get("Destination"),
            tags=list(params.get("EmailTags") or []),
        )
        return {"MessageId": mid}

    @operation("SendBulkEmail")
    def send_bulk_email(self, params: Params, ctx: RequestContext) -> Result:
        content = params.get("DefaultContent") or {}
        results = []
        for entry in params.get("BulkEmailEntries") or []:
            replacement = (entry.get("ReplacementEmailContent") or {}).get(
                "ReplacementTemplate"
            ) or {}
            tags = list(params.get("DefaultEmailTags") or []) + list(
                entry.get("ReplacementTags") or []
            )
            try:
                mid = self._send(
                    ctx,
                    params,
                    content=content,
                    destination=entry.get("Destination"),
                    tags=tags,
                    data_override=replacement.get("ReplacementTemplateData"),
                )
            except AwsError as error:
                if error.code == "MessageRejected":
                    raise
                results.append({"Status": "FAILED", "Error": error.message})
                continue
            results.append({"Status": "SUCCESS", "MessageId": mid})
        return {"BulkEmailEntryResults": results}

    # -- templates -------------------------------------------------------------------------

    def _stored_template(self, params: Params, ctx: RequestContext) -> dict[str, Any]:
        name = _text(params.get("TemplateName"), "TemplateName")
        record = self.account.template(ctx, name)
        if record is None:
            raise _not_found(f"Template {name} does not exist.")
        return record

    @operation("CreateEmailTemplate")
    def create_email_template(self, params: Params, ctx: RequestContext) -> Result:
        name = _text(params.get("TemplateName"), "TemplateName")
        record = _content(params.get("TemplateContent"), name)
        record["Tags"] = _tags(params.get("Tags"))
        if not self.account.add_template(ctx, record):
            raise AwsError("AlreadyExistsException", f"Template {name} already exists.")
        return {}

    @operation("UpdateEmailTemplate")
    def update_email_template(self, params: Params, ctx: RequestContext) -> Result:
        current = self._stored_template(params, ctx)
        record = _content(params.get("TemplateContent"), current["Name"])
        record["Created"] = current.get("Created")
        record["Tags"] = current.get("Tags", [])
        self.account.put_template(ctx, record)
        return {}

    @operation("GetEmailTemplate")
    def get_email_template(self, params: Params, ctx: RequestContext) -> Result:
        record = self._stored_template(params, ctx)
        content = {k: record[k] for k in ("Subject", "Text", "Html") if record.get(k) is not None}
        return {
            "TemplateName": record["Name"],
            "TemplateContent": content,
            "Tags": record.get("Tags", []),
        }

    @operation("DeleteEmailTemplate")
    def delete_email_template(self, params: Params, ctx: RequestContext) -> Result:
        record = self._stored_template(params, ctx)
        self.account.delete_template(ctx, record["Name"])
        return {}

    @operation("ListEmailTemplates")
    def list_email_templates(self, params: Params, ctx: RequestContext) -> Result:
        items = [
            {
                "TemplateName": r["Name"],
                "CreatedTimestamp": as_millisecond_datetime(r.get("Created") or 0.0),
            }
            for r in self.account.templates(ctx)
        ]
        return _listed("TemplatesMetadata", items, params)

    @operation("TestRenderEmailTemplate")
    def test_render_email_template(self, params: Params, ctx: RequestContext) -> Result:
        template = self._stored_template(params, ctx)
        data = template_data(params.get("TemplateData"))
        try:
            subject, text, html = self.account.render(template, data, strict=True)
        except AwsError as error:
            raise _bad_request(error.message) from None
        rendered = mime_message(
            "", to=[], cc=[], reply_to=[], subject=subject, text=text, html=html
        )
        return {"RenderedTemplate": rendered.decode("utf-8", "replace")}

    # -- configuration sets ----------------------------------------------------------------

    @operation("CreateConfigurationSet")
    def create_configuration_set(self, params: Params, ctx: RequestContext) -> Result:
        name = _text(params.get("ConfigurationSetName"), "ConfigurationSetName")
        record: dict[str, Any] = {"Name": name, "Tags": _tags(params.get("Tags"))}
        for key in ("TrackingOptions", "DeliveryOptions", "ReputationOptions", "SendingOptions"):
            if params.get(key) is not None:
                record[key] = params[key]
        if not self.account.add_configuration_set(ctx, record):
            raise AwsError("AlreadyExistsException", f"Configuration set <{name}> already exists.")
        return {}

    def _configuration_set(self, params: Params, ctx: RequestContext) -> dict[str, Any]:
        name = _text(params.get("ConfigurationSetName"), "ConfigurationSetName")
        record = self.account.configuration_set(ctx, name)
        if record is None:
            raise _not_found(f"Configuration set <{name}> does not exist.")
        return record

    @operation("GetConfigurationSet")
    def get_configuration_set(self, params: Params, ctx: RequestContext) -> Result:
        record = self._configuration_set(params, ctx)
        answer = {"ConfigurationSetName": record["Name"], "Tags": record.get("Tags", [])}
        answer["SendingOptions"] = record.get("SendingOptions") or {"SendingEnabled": True}
        for key in ("TrackingOptions", "DeliveryOptions", "ReputationOptions"):
            if record.get(key) is not None:
                answer[key] = record[key]
        return answer

    @operation("ListConfigurationSets")
    def list_configuration_sets(self, params: Params, ctx: RequestContext) -> Result:
        names = [r["Name"] for r in self.account.configuration_sets(ctx)]
        return _listed("ConfigurationSets", names, params)

    @operation("DeleteConfigurationSet")
    def delete_configuration_set(self, params: Params, ctx: RequestContext) -> Result:
        record = self._configuration_set(params, ctx)
        self.account.delete_configuration_set(ctx, record["Name"])
        return {}

    # -- tags ------------------------------------------------------------------------------

    def _tagged(self, params: Params, ctx: RequestContext) -> tuple[str, str, dict[str, Any]]:
        """(kind, name, stored record) of the resource ResourceArn names."""
        arn = _text(params.get("ResourceArn"), "ResourceArn")
        parts = arn.split(":", 5)
        kind, _, name = parts[5].partition("/") if len(parts) == 6 else ("", "", "")
        stored_kind = _ARN_KINDS.get(kind)
        if parts[:3] != ["arn", "aws", "ses"] or stored_kind is None or not name:
            raise _bad_request(f"Invalid ARN: {arn}")  # guessed text
        if (parts[3], parts[4]) != (ctx.region, ctx.account):
            raise _not_found(f"Resource {arn} does not exist.")  # guessed text
        record = self.account.store.get(ctx.account, ctx.region, stored_kind, name)
        if record is None:
            raise _not_found(f"Resource {arn} does not exist.")  # guessed text
        return stored_kind, name, record

    def _retag(
        self,
        params: Params,
        ctx: RequestContext,
        change: Callable[[list[dict[str, str]]], list[dict[str, str]]],
    ) -> None:
        """Change the tags of the resource ResourceArn names, reading and writing them in
        one transaction that holds its row (a change made in between is not lost)."""
        kind, name, _ = self._tagged(params, ctx)

        def retagged(record: dict[str, Any] | None) -> dict[str, Any]:
            if record is None:  # deleted since _tagged read it
                raise _not_found(f"Resource {params['ResourceArn']} does not exist.")
            return {**record, "Tags": change(list(record.get("Tags", [])))}

        self.account.store.update(ctx.account, ctx.region, kind, name, retagged)

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        added = {t["Key"]: t["Value"] for t in _tags(params.get("Tags"))}

        def tag(tags: list[dict[str, str]]) -> list[dict[str, str]]:
            merged = {t["Key"]: t["Value"] for t in tags} | added
            return [{"Key": k, "Value": v} for k, v in merged.items()]

        self._retag(params, ctx, tag)
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        removed = {str(k) for k in params.get("TagKeys") or []}
        self._retag(params, ctx, lambda tags: [t for t in tags if t["Key"] not in removed])
        return {}

    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, ctx: RequestContext) -> Result:
        return {"Tags": self._tagged(params, ctx)[2].get("Tags", [])}

    # -- the account -----------------------------------------------------------------------

    @operation("GetAccount")
    def get_account(self, params: Params, ctx: RequestContext) -> Result:
        return {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": True,
            "SendQuota": {
                "Max24HourSend": MAX_24_HOUR_SEND,
                "MaxSendRate": MAX_SEND_RATE,
                "SentLast24Hours": float(self.account.sent_last_day(ctx)),
            },
            "SendingEnabled": True,
            "SuppressionAttributes": {"SuppressedReasons": []},
        }
