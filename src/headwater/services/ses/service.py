"""Amazon SES, the v1 (query) API: identities, sending, templates, configuration sets.

Mail goes nowhere; see ``sending`` for where accepted messages are kept, and why
identities are verified at once and recipients need no verification.
"""

from __future__ import annotations

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
    mime_message,
    recipients,
    template_data,
    template_record,
)

MAX_ITEMS = 1000


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message)


def _text(value: Any, member: str) -> str:
    if not isinstance(value, str) or not value:
        raise _invalid(f"Missing required parameter {member}")  # guessed text
    return value


def template_not_found(name: str) -> AwsError:
    return AwsError("TemplateDoesNotExist", f"Template {name} does not exist.")


def _v1_template(params: Params) -> dict[str, Any]:
    given = params.get("Template") or {}
    parts = {
        "Subject": given.get("SubjectPart"),
        "Text": given.get("TextPart"),
        "Html": given.get("HtmlPart"),
    }
    name = _text(given.get("TemplateName"), "TemplateName")
    return template_record(name, parts, lambda text: AwsError("InvalidTemplate", text))


def _listed(key: str, items: list[Any], params: Params) -> Result:
    page, token = offset_page(items, params.get("NextToken"), params.get("MaxItems"), MAX_ITEMS)
    return {key: page, **({"NextToken": token} if token else {})}


class SesService(Service):
    """SES v1; ``sent_messages`` reads what was sent through either API."""

    service_name = "ses"
    unencodable_text_code = "InvalidParameterValue"

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.account = EmailAccount(env)

    # -- Python API ------------------------------------------------------------------------

    def sent_messages(
        self, *, region: str | None = None, account: str | None = None
    ) -> list[dict[str, Any]]:
        """Every message SES (v1 or v2) accepted, oldest first (of one region when given)."""
        return self.account.store.messages(account, region)

    def clear_sent_messages(self) -> int:
        """Forget every sent message; answers how many there were."""
        return self.account.store.clear_messages()

    # -- identities ------------------------------------------------------------------------

    @operation("VerifyEmailIdentity")
    def verify_email_identity(self, params: Params, ctx: RequestContext) -> Result:
        self.account.verify(ctx, _text(params.get("EmailAddress"), "EmailAddress"))
        return {}

    @operation("VerifyEmailAddress")
    def verify_email_address(self, params: Params, ctx: RequestContext) -> Result:
        return self.verify_email_identity(params, ctx)

    @operation("VerifyDomainIdentity")
    def verify_domain_identity(self, params: Params, ctx: RequestContext) -> Result:
        record = self.account.verify(ctx, _text(params.get("Domain"), "Domain"))
        return {"VerificationToken": record["VerificationToken"]}

    @operation("VerifyDomainDkim")
    def verify_domain_dkim(self, params: Params, ctx: RequestContext) -> Result:
        record = self.account.verify(ctx, _text(params.get("Domain"), "Domain"))
        return {"DkimTokens": record["DkimTokens"]}

    @operation("ListIdentities")
    def list_identities(self, params: Params, ctx: RequestContext) -> Result:
        kind = params.get("IdentityType")
        names = [
            r["Identity"]
            for r in self.account.identities(ctx)
            if kind is None or (kind == "EmailAddress") == ("@" in r["Identity"])
        ]
        return _listed("Identities", names, params)

    @operation("ListVerifiedEmailAddresses")
    def list_verified_email_addresses(self, params: Params, ctx: RequestContext) -> Result:
        found = [r["Identity"] for r in self.account.identities(ctx) if "@" in r["Identity"]]
        return {"VerifiedEmailAddresses": found}

    @operation("DeleteIdentity")
    def delete_identity(self, params: Params, ctx: RequestContext) -> Result:
        self.account.delete_identity(ctx, _text(params.get("Identity"), "Identity"))
        return {}  # AWS answers success for an identity that is not there

    @operation("DeleteVerifiedEmailAddress")
    def delete_verified_email_address(self, params: Params, ctx: RequestContext) -> Result:
        self.account.delete_identity(ctx, _text(params.get("EmailAddress"), "EmailAddress"))
        return {}

    @operation("GetIdentityVerificationAttributes")
    def get_identity_verification_attributes(self, params: Params, ctx: RequestContext) -> Result:
        attributes: dict[str, Any] = {}
        for identity in params.get("Identities") or []:
            record = self.account.identity(ctx, str(identity))
            if record is None:
                continue  # AWS leaves out identities it does not know
            entry: dict[str, Any] = {"VerificationStatus": "Success"}
            if "@" not in record["Identity"]:
                entry["VerificationToken"] = record["VerificationToken"]
            attributes[record["Identity"]] = entry
        return {"VerificationAttributes": attributes}

    @operation("GetIdentityDkimAttributes")
    def get_identity_dkim_attributes(self, params: Params, ctx: RequestContext) -> Result:
        attributes: dict[str, Any] = {}
        for identity in params.get("Identities") or []:
            record = self.account.identity(ctx, str(identity))
            if record is not None:
                attributes[record["Identity"]] = {
                    "DkimEnabled": False,
                    "DkimVerificationStatus": "NotStarted",
                    "DkimTokens": record["DkimTokens"],
                }
        return {"DkimAttributes": attributes}

    # -- sending ---------------------------------------------------------------------------

    def _config_set(self, params: Params) -> str | None:
        name = params.get("ConfigurationSetName")
        return str(name) if name else None

    @operation("SendEmail")
    def send_email(self, params: Params, ctx: RequestContext) -> Result:
        message = params.get("Message") or {}
        body = message.get("Body") or {}
        content = (
            (message.get("Subject") or {}).get("Data"),
            (body.get("Text") or {}).get("Data"),
            (body.get("Html") or {}).get("Data"),
        )
        destination = params.get("Destination")
        return {"MessageId": self._send(ctx, params, destination, content, tags=params.get("Tags"))}

    def _send(
        self,
        ctx: RequestContext,
        params: Params,
        destination: Any,
        content: tuple[str | None, str | None, str | None],
        *,
        tags: Any,
        template: tuple[str, dict[str, Any]] | None = None,
    ) -> str:
        """Check and keep one message of a simple or templated send: ``content`` is its
        (subject, text, html), ``template`` the template's name and data it came from."""
        source = _text(params.get("Source"), "Source")
        to, cc, bcc = recipients(destination, _invalid)
        self.account.check_sender(ctx, source)
        subject, text, html = content
        return self.account.keep(
            ctx,
            api="ses",
            source=source,
            to=to,
            cc=cc,
            bcc=bcc,
            subject=subject,
            text=text,
            html=html,
            reply_to=[str(a) for a in params.get("ReplyToAddresses") or []],
            template=None if template is None else template[0],
            data=None if template is None else template[1],
            tags=tags,
            configuration_set=self._config_set(params),
        )

    @operation("SendRawEmail")
    def send_raw_email(self, params: Params, ctx: RequestContext) -> Result:
        raw = as_bytes((params.get("RawMessage") or {}).get("Data") or b"")
        mid = self.account.send_raw(
            ctx,
            api="ses",
            data=raw,
            source=params.get("Source"),
            destinations=[str(d) for d in params.get("Destinations") or []],
            tags=params.get("Tags"),
            configuration_set=self._config_set(params),
        )
        return {"MessageId": mid}

    def _template(self, ctx: RequestContext, name: Any) -> dict[str, Any]:
        found = self.account.template(ctx, _text(name, "Template"))
        if found is None:
            raise template_not_found(str(name))
        return found

    def _send_templated(
        self,
        ctx: RequestContext,
        params: Params,
        *,
        template: dict[str, Any],
        destination: Any,
        data: dict[str, Any],
        tags: Any,
    ) -> str:
        _text(params.get("Source"), "Source")
        content = self.account.render(template, data)
        return self._send(
            ctx, params, destination, content, tags=tags, template=(template["Name"], data)
        )

    @operation("SendTemplatedEmail")
    def send_templated_email(self, params: Params, ctx: RequestContext) -> Result:
        template = self._template(ctx, params.get("Template"))
        data = template_data(params.get("TemplateData"))
        mid = self._send_templated(
            ctx,
            params,
            template=template,
            destination=params.get("Destination"),
            data=data,
            tags=params.get("Tags"),
        )
        return {"MessageId": mid}

    @operation("SendBulkTemplatedEmail")
    def send_bulk_templated_email(self, params: Params, ctx: RequestContext) -> Result:
        template = self._template(ctx, params.get("Template"))
        default = template_data(params.get("DefaultTemplateData"))
        self.account.check_sender(ctx, _text(params.get("Source"), "Source"))
        statuses = []
        for entry in params.get("Destinations") or []:
            data = dict(default)
            if entry.get("ReplacementTemplateData") is not None:
                data.update(template_data(entry["ReplacementTemplateData"]))
            tags = list(params.get("DefaultTags") or []) + list(entry.get("ReplacementTags") or [])
            try:
                mid = self._send_templated(
                    ctx,
                    params,
                    template=template,
                    destination=entry.get("Destination"),
                    data=data,
                    tags=tags,
                )
            except AwsError as error:
                statuses.append({"Status": "Failed", "Error": error.message})
                continue
            statuses.append({"Status": "Success", "MessageId": mid})
        return {"Status": statuses}

    # -- templates -------------------------------------------------------------------------

    @operation("CreateTemplate")
    def create_template(self, params: Params, ctx: RequestContext) -> Result:
        record = _v1_template(params)
        if not self.account.add_template(ctx, record):
            raise AwsError("AlreadyExists", f"Template {record['Name']} already exists.")
        return {}

    @operation("UpdateTemplate")
    def update_template(self, params: Params, ctx: RequestContext) -> Result:
        record = _v1_template(params)
        current = self._template(ctx, record["Name"])
        record["Created"] = current.get("Created")
        record["Tags"] = current.get("Tags", [])
        self.account.put_template(ctx, record)
        return {}

    @operation("GetTemplate")
    def get_template(self, params: Params, ctx: RequestContext) -> Result:
        record = self._template(ctx, params.get("TemplateName"))
        template = {"TemplateName": record["Name"]}
        for key, member in (("Subject", "SubjectPart"), ("Text", "TextPart"), ("Html", "HtmlPart")):
            if record.get(key) is not None:
                template[member] = record[key]
        return {"Template": template}

    @operation("DeleteTemplate")
    def delete_template(self, params: Params, ctx: RequestContext) -> Result:
        self.account.delete_template(ctx, _text(params.get("TemplateName"), "TemplateName"))
        return {}  # AWS answers success for a template that is not there

    @operation("ListTemplates")
    def list_templates(self, params: Params, ctx: RequestContext) -> Result:
        items = [
            {
                "Name": r["Name"],
                "CreatedTimestamp": as_millisecond_datetime(r.get("Created") or 0.0),
            }
            for r in self.account.templates(ctx)
        ]
        return _listed("TemplatesMetadata", items, params)

    @operation("TestRenderTemplate")
    def test_render_template(self, params: Params, ctx: RequestContext) -> Result:
        template = self._template(ctx, params.get("TemplateName"))
        data = template_data(params.get("TemplateData"))
        subject, text, html = self.account.render(template, data, strict=True)
        rendered = mime_message(
            "", to=[], cc=[], reply_to=[], subject=subject, text=text, html=html
        )
        return {"RenderedTemplate": rendered.decode("utf-8", "replace")}

    # -- configuration sets ----------------------------------------------------------------

    @operation("CreateConfigurationSet")
    def create_configuration_set(self, params: Params, ctx: RequestContext) -> Result:
        name = _text((params.get("ConfigurationSet") or {}).get("Name"), "Name")
        if not self.account.add_configuration_set(ctx, {"Name": name, "Tags": []}):
            raise AwsError(
                "ConfigurationSetAlreadyExists", f"Configuration set <{name}> already exists."
            )
        return {}

    def _configuration_set(self, ctx: RequestContext, name: Any) -> dict[str, Any]:
        found = self.account.configuration_set(ctx, _text(name, "ConfigurationSetName"))
        if found is None:
            raise AwsError(
                "ConfigurationSetDoesNotExist", f"Configuration set <{name}> does not exist."
            )
        return found

    @operation("DescribeConfigurationSet")
    def describe_configuration_set(self, params: Params, ctx: RequestContext) -> Result:
        record = self._configuration_set(ctx, params.get("ConfigurationSetName"))
        return {"ConfigurationSet": {"Name": record["Name"]}}

    @operation("DeleteConfigurationSet")
    def delete_configuration_set(self, params: Params, ctx: RequestContext) -> Result:
        record = self._configuration_set(ctx, params.get("ConfigurationSetName"))
        self.account.delete_configuration_set(ctx, record["Name"])
        return {}

    @operation("ListConfigurationSets")
    def list_configuration_sets(self, params: Params, ctx: RequestContext) -> Result:
        items = [{"Name": r["Name"]} for r in self.account.configuration_sets(ctx)]
        return _listed("ConfigurationSets", items, params)

    # -- the account -----------------------------------------------------------------------

    @operation("GetSendQuota")
    def get_send_quota(self, params: Params, ctx: RequestContext) -> Result:
        return {
            "Max24HourSend": MAX_24_HOUR_SEND,
            "MaxSendRate": MAX_SEND_RATE,
            "SentLast24Hours": float(self.account.sent_last_day(ctx)),
        }

    @operation("GetAccountSendingEnabled")
    def get_account_sending_enabled(self, params: Params, ctx: RequestContext) -> Result:
        return {"Enabled": True}

    @operation("GetSendStatistics")
    def get_send_statistics(self, params: Params, ctx: RequestContext) -> Result:
        sent = self.account.sent_last_day(ctx)
        if not sent:
            return {"SendDataPoints": []}
        now = self.env.clock.now()
        point = {
            "Timestamp": as_millisecond_datetime(now - now % 900),
            "DeliveryAttempts": sent,
            "Bounces": 0,
            "Complaints": 0,
            "Rejects": 0,
        }
        return {"SendDataPoints": [point]}
