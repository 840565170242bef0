"""AWS::SES::EmailIdentity, AWS::SES::Template and AWS::SES::ConfigurationSet through the
SES clients (v2 for identities, v1 for templates and configuration sets, as their
CloudFormation handlers call them).

An identity's ``Ref`` is the identity, with the ``DkimDNSTokenName1..3`` and
``DkimDNSTokenValue1..3`` attributes; a template's ``Ref`` (and ``Id``) is its name; a
configuration set's ``Ref`` is its name.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from headwater.deploy.providers.base import ProviderResult, ResourceProvider, ResourceRequest

_GONE = ("NotFoundException", "TemplateDoesNotExist", "ConfigurationSetDoesNotExist")


def _ignore_gone(error: ClientError) -> None:
    if error.response["Error"]["Code"] not in _GONE:
        raise error


class EmailIdentityProvider(ResourceProvider):
    type_name = "AWS::SES::EmailIdentity"
    service = "sesv2"
    operations = ("CreateEmailIdentity", "GetEmailIdentity", "DeleteEmailIdentity")

    def create(self, request: ResourceRequest) -> ProviderResult:
        identity = str(request.properties.get("EmailIdentity"))
        params: dict[str, Any] = {"EmailIdentity": identity}
        config = (request.properties.get("ConfigurationSetAttributes") or {}).get(
            "ConfigurationSetName"
        )
        if config:
            params["ConfigurationSetName"] = str(config)
        request.client("sesv2").create_email_identity(**params)
        return self._result(request, identity)

    def update(self, request: ResourceRequest) -> ProviderResult:
        return self._result(request, str(request.physical_id))

    @staticmethod
    def _result(request: ResourceRequest, identity: str) -> ProviderResult:
        found = request.client("sesv2").get_email_identity(EmailIdentity=identity)
        domain = identity.rpartition("@")[2]
        attributes: dict[str, Any] = {}
        for index, token in enumerate(found["DkimAttributes"]["Tokens"][:3], start=1):
            attributes[f"DkimDNSTokenName{index}"] = f"{token}._domainkey.{domain}"
            attributes[f"DkimDNSTokenValue{index}"] = f"{token}.dkim.amazonses.com"
        return ProviderResult(identity, attributes)

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("sesv2").delete_email_identity(EmailIdentity=str(request.physical_id))
        except ClientError as error:
            _ignore_gone(error)


class TemplateProvider(ResourceProvider):
    type_name = "AWS::SES::Template"
    service = "ses"
    operations = ("CreateTemplate", "UpdateTemplate", "DeleteTemplate")

    def create(self, request: ResourceRequest) -> ProviderResult:
        template = self._template(request, None)
        request.client("ses").create_template(Template=template)
        return ProviderResult(template["TemplateName"], {"Id": template["TemplateName"]})

    def update(self, request: ResourceRequest) -> ProviderResult:
        template = self._template(request, str(request.physical_id))
        request.client("ses").update_template(Template=template)
        return ProviderResult(template["TemplateName"], {"Id": template["TemplateName"]})

    @staticmethod
    def _template(request: ResourceRequest, name: str | None) -> dict[str, Any]:
        given = dict(request.properties.get("Template") or {})
        template = {k: str(v) for k, v in given.items() if v is not None}
        template["TemplateName"] = name or str(
            given.get("TemplateName") or request.physical_name(64)
        )
        return template

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("ses").delete_template(TemplateName=str(request.physical_id))
        except ClientError as error:
            _ignore_gone(error)


class ConfigurationSetProvider(ResourceProvider):
    type_name = "AWS::SES::ConfigurationSet"
    service = "ses"
    operations = ("CreateConfigurationSet", "DeleteConfigurationSet")

    def create(self, request: ResourceRequest) -> ProviderResult:
        name = str(request.properties.get("Name") or request.physical_name(64))
        request.client("ses").create_configuration_set(ConfigurationSet={"Name": name})
        return ProviderResult(name, {})

    def update(self, request: ResourceRequest) -> ProviderResult:
        return ProviderResult(str(request.physical_id), {})

    def delete(self, request: ResourceRequest) -> None:
        try:
            request.client("ses").delete_configuration_set(
                ConfigurationSetName=str(request.physical_id)
            )
        except ClientError as error:
            _ignore_gone(error)
