"""SES v1 and v2: identities verified at once, sending from verified senders only, templates
rendered, configuration sets, the account, and the outbox every sent message lands in;
through ``hw.client`` and through boto3 over the wire (the ASGI app, no sockets)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from headwater import Headwater, ManualClock
from headwater.api.http import WireRequest
from headwater.cli.main import main
from headwater.server.dashboard import Dashboard
from tests.asgi_boto import in_process_aws


@pytest.fixture(params=["in-process", "wire"])
def clients(request: pytest.FixtureRequest, hw: Headwater) -> Iterator[tuple[Any, Any]]:
    """(SES v1, SES v2) clients of ``hw``: ``hw.client``, or boto3 through the ASGI app."""
    if request.param == "in-process":
        yield hw.client("ses"), hw.client("sesv2")
        return
    with in_process_aws(hw) as aws:
        yield aws.client("ses"), aws.client("sesv2")


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def sent(hw: Headwater) -> list[dict[str, Any]]:
    return hw.service("ses").sent_messages()


def test_identities_are_verified_at_once_and_shared_by_both_apis(clients: Any) -> None:
    ses, sesv2 = clients
    ses.verify_email_identity(EmailAddress="a@example.com")
    token = ses.verify_domain_identity(Domain="example.org")["VerificationToken"]
    assert token
    made = sesv2.create_email_identity(EmailIdentity="b@example.net")
    assert made["IdentityType"] == "EMAIL_ADDRESS" and made["VerifiedForSendingStatus"]
    assert sorted(ses.list_identities()["Identities"]) == [
        "a@example.com",
        "b@example.net",
        "example.org",
    ]
    assert ses.list_identities(IdentityType="Domain")["Identities"] == ["example.org"]
    attributes = ses.get_identity_verification_attributes(
        Identities=["a@example.com", "example.org", "unknown@example.com"]
    )["VerificationAttributes"]
    assert attributes["a@example.com"] == {"VerificationStatus": "Success"}
    assert attributes["example.org"]["VerificationToken"] == token
    assert "unknown@example.com" not in attributes
    got = sesv2.get_email_identity(EmailIdentity="example.org")
    assert got["IdentityType"] == "DOMAIN" and got["VerificationStatus"] == "SUCCESS"
    listed = sesv2.list_email_identities()["EmailIdentities"]
    assert {i["IdentityName"] for i in listed} == {"a@example.com", "b@example.net", "example.org"}
    assert error_of(sesv2.create_email_identity, EmailIdentity="a@example.com")[0] == (
        "AlreadyExistsException"
    )
    sesv2.delete_email_identity(EmailIdentity="a@example.com")
    assert error_of(sesv2.get_email_identity, EmailIdentity="a@example.com") == (
        "NotFoundException",
        "Email identity a@example.com does not exist.",
    )
    arn = "arn:aws:ses:us-east-1:000000000000:identity/example.org"
    sesv2.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}]
    )
    sesv2.untag_resource(ResourceArn=arn, TagKeys=["b"])
    assert sesv2.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    assert sesv2.get_email_identity(EmailIdentity="example.org")["Tags"] == [
        {"Key": "a", "Value": "1"}
    ]
    assert error_of(sesv2.list_tags_for_resource, ResourceArn=arn + "x")[0] == "NotFoundException"
    ses.delete_identity(Identity="example.org")
    assert ses.list_identities()["Identities"] == ["b@example.net"]


def test_an_unverified_sender_is_refused_with_aws_text(clients: Any, hw: Headwater) -> None:
    ses, sesv2 = clients
    message = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}
    code, text = error_of(
        ses.send_email,
        Source="Me <me@example.com>",
        Destination={"ToAddresses": ["you@example.net"]},
        Message=message,
    )
    assert code == "MessageRejected"
    assert text == (
        "Email address is not verified. The following identities failed the check in region "
        "US-EAST-1: Me <me@example.com>"
    )
    code, _ = error_of(
        sesv2.send_email,
        FromEmailAddress="me@example.com",
        Destination={"ToAddresses": ["you@example.net"]},
        Content={"Simple": message},
    )
    assert code == "MessageRejected"
    assert sent(hw) == []
    # a verified domain lets every address of it send; recipients need no verification
    ses.verify_domain_identity(Domain="example.com")
    ses.send_email(
        Source="Me <me@example.com>",
        Destination={"ToAddresses": ["you@example.net"]},
        Message=message,
    )
    assert len(sent(hw)) == 1


def test_sent_messages_are_kept_with_everything(
    clients: Any, hw: Headwater, clock: ManualClock
) -> None:
    ses, sesv2 = clients
    ses.verify_email_identity(EmailAddress="me@example.com")
    first = ses.send_email(
        Source="me@example.com",
        Destination={
            "ToAddresses": ["a@x.com"],
            "CcAddresses": ["b@x.com"],
            "BccAddresses": ["c@x.com"],
        },
        Message={
            "Subject": {"Data": "Hello"},
            "Body": {"Text": {"Data": "plain"}, "Html": {"Data": "<b>html</b>"}},
        },
        ReplyToAddresses=["r@x.com"],
        Tags=[{"Name": "k", "Value": "v"}],
    )["MessageId"]
    assert first.endswith("-000000") and len(first.split("-")) == 7
    clock.advance(5)
    second = sesv2.send_email(
        FromEmailAddress="me@example.com",
        Destination={"ToAddresses": ["d@x.com"]},
        Content={"Simple": {"Subject": {"Data": "Two"}, "Body": {"Text": {"Data": "body"}}}},
        EmailTags=[{"Name": "k2", "Value": "v2"}],
    )["MessageId"]
    messages = sent(hw)
    assert [m["MessageId"] for m in messages] == [first, second]
    one = messages[0]
    assert one["Source"] == "me@example.com"
    assert one["Destination"] == {
        "ToAddresses": ["a@x.com"],
        "CcAddresses": ["b@x.com"],
        "BccAddresses": ["c@x.com"],
    }
    assert one["Subject"] == "Hello"
    assert one["Body"] == {"text_part": "plain", "html_part": "<b>html</b>"}
    assert "Subject: Hello" in one["RawData"] and "Reply-To: r@x.com" in one["RawData"]
    assert one["Tags"] == [{"Name": "k", "Value": "v"}]
    assert one["Api"] == "ses" and messages[1]["Api"] == "sesv2"
    assert messages[1]["Timestamp"] - one["Timestamp"] == 5
    quota = ses.get_send_quota()
    assert quota["SentLast24Hours"] == 2 and quota["Max24HourSend"] > 0
    account = sesv2.get_account()
    assert account["ProductionAccessEnabled"] and account["SendQuota"]["SentLast24Hours"] == 2
    assert ses.get_account_sending_enabled()["Enabled"] is True
    # the dashboard's JSON endpoint answers the same messages
    response = Dashboard(hw).handle(WireRequest("GET", "/_headwater/ses/messages", "", {}, b""))
    assert response.status == 200
    assert [m["MessageId"] for m in orjson.loads(response.body)["messages"]] == [first, second]
    forget = WireRequest("DELETE", "/_headwater/ses/messages", "", {}, b"")
    assert Dashboard(hw).handle(forget).status == 403  # not from the dashboard's own pages
    forget.headers["x-headwater-dashboard"] = "1"
    assert orjson.loads(Dashboard(hw).handle(forget).body) == {"deleted": 2}
    assert sent(hw) == []


def test_raw_email_takes_sender_and_recipients_from_its_headers(
    clients: Any, hw: Headwater
) -> None:
    ses, sesv2 = clients
    ses.verify_email_identity(EmailAddress="me@example.com")
    mime = MIMEMultipart("alternative")
    mime["From"] = "Me <me@example.com>"
    mime["To"] = "a@x.com, B <b@x.com>"
    mime["Subject"] = "Raw one"
    mime.attach(MIMEText("text body", "plain"))
    mime.attach(MIMEText("<p>html body</p>", "html"))
    ses.send_raw_email(RawMessage={"Data": mime.as_bytes()})
    sesv2.send_email(Content={"Raw": {"Data": mime.as_bytes()}})
    for message in sent(hw):
        assert message["Source"] == "Me <me@example.com>"
        assert message["Destination"]["ToAddresses"] == ["a@x.com", "b@x.com"]
        assert message["Subject"] == "Raw one"
        assert message["Body"] == {"text_part": "text body", "html_part": "<p>html body</p>"}
    mime.replace_header("From", "other@example.com")
    assert error_of(ses.send_raw_email, RawMessage={"Data": mime.as_bytes()})[0] == (
        "MessageRejected"
    )


TEMPLATE_HTML = (
    "<h1>Hi {{name}}</h1>{{#if vip}}<p>VIP</p>{{else}}<p>regular</p>{{/if}}"
    "<ul>{{#each items}}<li>{{this}}</li>{{/each}}</ul>"
)


def test_templates_render_and_send(clients: Any, hw: Headwater) -> None:
    ses, sesv2 = clients
    ses.verify_email_identity(EmailAddress="me@example.com")
    ses.create_template(
        Template={
            "TemplateName": "welcome",
            "SubjectPart": "Welcome {{name}}",
            "TextPart": "Dear {{name}} of {{address.city}}",
            "HtmlPart": TEMPLATE_HTML,
        }
    )
    assert error_of(ses.create_template, Template={"TemplateName": "welcome"})[0] == "AlreadyExists"
    got = ses.get_template(TemplateName="welcome")["Template"]
    assert got["SubjectPart"] == "Welcome {{name}}"
    v2 = sesv2.get_email_template(TemplateName="welcome")
    assert v2["TemplateContent"]["Html"] == TEMPLATE_HTML
    data = {"name": "Ana", "address": {"city": "Porto"}, "vip": True, "items": ["x", "y"]}
    rendered = ses.test_render_template(TemplateName="welcome", TemplateData=json.dumps(data))
    text = rendered["RenderedTemplate"]
    assert "Subject: Welcome Ana" in text and "Dear Ana of Porto" in text
    assert "<p>VIP</p>" in text and "<li>x</li><li>y</li>" in text
    assert error_of(
        ses.test_render_template, TemplateName="welcome", TemplateData='{"name": "A"}'
    ) == (
        "MissingRenderingAttribute",
        "Attribute 'address.city' is not present in the rendering data.",
    )
    assert error_of(ses.get_template, TemplateName="nope") == (
        "TemplateDoesNotExist",
        "Template nope does not exist.",
    )
    ses.send_templated_email(
        Source="me@example.com",
        Destination={"ToAddresses": ["a@x.com"]},
        Template="welcome",
        TemplateData=json.dumps(data),
    )
    bulk = ses.send_bulk_templated_email(
        Source="me@example.com",
        Template="welcome",
        DefaultTemplateData=json.dumps(data),
        Destinations=[
            {"Destination": {"ToAddresses": ["b@x.com"]}},
            {
                "Destination": {"ToAddresses": ["c@x.com"]},
                "ReplacementTemplateData": '{"name": "Bo", "vip": false}',
            },
        ],
    )["Status"]
    assert [s["Status"] for s in bulk] == ["Success", "Success"]
    sesv2.send_bulk_email(
        FromEmailAddress="me@example.com",
        DefaultContent={"Template": {"TemplateName": "welcome", "TemplateData": json.dumps(data)}},
        BulkEmailEntries=[{"Destination": {"ToAddresses": ["d@x.com"]}}],
    )
    messages = sent(hw)
    assert [m["Subject"] for m in messages] == [
        "Welcome Ana",
        "Welcome Ana",
        "Welcome Bo",
        "Welcome Ana",
    ]
    assert "<p>regular</p>" in messages[2]["Body"]["html_part"]
    assert messages[0]["Template"] == "welcome" and messages[0]["TemplateData"] == data
    # v2 template operations see and change the same template
    sesv2.update_email_template(
        TemplateName="welcome", TemplateContent={"Subject": "New {{name}}", "Text": "t"}
    )
    rendered = sesv2.test_render_email_template(
        TemplateName="welcome", TemplateData='{"name": "Z"}'
    )
    assert "Subject: New Z" in rendered["RenderedTemplate"]
    names = [t["TemplateName"] for t in sesv2.list_email_templates()["TemplatesMetadata"]]
    assert names == ["welcome"]
    assert [t["Name"] for t in ses.list_templates()["TemplatesMetadata"]] == ["welcome"]
    sesv2.delete_email_template(TemplateName="welcome")
    assert error_of(sesv2.get_email_template, TemplateName="welcome")[0] == "NotFoundException"
    assert (
        error_of(
            ses.create_template, Template={"TemplateName": "bad", "TextPart": "{{#if x}}open"}
        )[0]
        == "InvalidTemplate"
    )


def test_configuration_sets(clients: Any) -> None:
    ses, sesv2 = clients
    ses.create_configuration_set(ConfigurationSet={"Name": "one"})
    sesv2.create_configuration_set(ConfigurationSetName="two")
    assert ses.describe_configuration_set(ConfigurationSetName="two")["ConfigurationSet"] == {
        "Name": "two"
    }
    assert sesv2.list_configuration_sets()["ConfigurationSets"] == ["one", "two"]
    assert error_of(ses.create_configuration_set, ConfigurationSet={"Name": "one"}) == (
        "ConfigurationSetAlreadyExists",
        "Configuration set <one> already exists.",
    )
    ses.verify_email_identity(EmailAddress="me@example.com")
    assert (
        error_of(
            ses.send_email,
            Source="me@example.com",
            Destination={"ToAddresses": ["a@x.com"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
            ConfigurationSetName="three",
        )[0]
        == "ConfigurationSetDoesNotExist"
    )
    sesv2.delete_configuration_set(ConfigurationSetName="one")
    assert error_of(sesv2.get_configuration_set, ConfigurationSetName="one")[0] == (
        "NotFoundException"
    )
    assert [c["Name"] for c in ses.list_configuration_sets()["ConfigurationSets"]] == ["two"]


def test_cli_prints_the_kept_messages(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with Headwater(data_dir=data_dir, clock=ManualClock()) as hw:
        ses = hw.client("ses")
        ses.verify_email_identity(EmailAddress="me@example.com")
        mid = ses.send_email(
            Source="me@example.com",
            Destination={"ToAddresses": ["a@x.com"], "BccAddresses": ["b@x.com"]},
            Message={"Subject": {"Data": "CLI subject"}, "Body": {"Text": {"Data": "t"}}},
        )["MessageId"]
    runner = CliRunner()
    listed = runner.invoke(main, ["ses", "messages", "--data-dir", str(data_dir)])
    assert listed.exit_code == 0, listed.output
    assert f"{mid}  me@example.com -> a@x.com, b@x.com  CLI subject" in listed.output
    as_json = runner.invoke(main, ["ses", "messages", "--json", "--data-dir", str(data_dir)])
    assert json.loads(as_json.output)[0]["Body"]["text_part"] == "t"
    cleared = runner.invoke(main, ["ses", "messages", "--clear", "--data-dir", str(data_dir)])
    assert "forgot 1 message(s)" in cleared.output
    empty = runner.invoke(main, ["ses", "messages", "--data-dir", str(data_dir)])
    assert empty.exit_code == 0 and empty.output == ""
    missing = runner.invoke(main, ["ses", "messages", "--data-dir", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "no headwater data" in missing.output
