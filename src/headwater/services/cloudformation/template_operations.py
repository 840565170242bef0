"""GetTemplate, GetTemplateSummary and ValidateTemplate."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from headwater.deploy.errors import validation_error
from headwater.deploy.parameters import summary
from headwater.deploy.template import Template, check_template, parse_document
from headwater.services.base import Params, RequestContext, Result
from headwater.services.cloudformation.change_sets import find_change_set
from headwater.services.cloudformation.templates import (
    read_body,
    required_capability,
    resource_identifier_summaries,
)

if TYPE_CHECKING:
    from headwater.services.cloudformation.service import CloudFormationService

#: The identifier property of types whose identifier is a template property.
_IDENTIFIERS = {
    "AWS::SSM::Parameter": "Name",
    "AWS::SQS::Queue": "QueueUrl",
    "AWS::Kinesis::Stream": "Name",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
}


def get_template(cfn: CloudFormationService, params: Params, ctx: RequestContext) -> Result:
    stage = params.get("TemplateStage") or "Original"
    if params.get("ChangeSetName"):
        if not params.get("StackName") and not str(params["ChangeSetName"]).startswith("arn:"):
            raise validation_error("StackName is a required parameter.")
        record = find_change_set(cfn, params, ctx)
        body, processed = record.template_body, record.processed
    else:
        if not params.get("StackName"):
            raise validation_error("StackName is required if ChangeSetName is not specified.")
        stack = cfn.require_stack(params["StackName"], ctx)
        body, processed = stack.template_body, stack.processed
    text = body if stage == "Original" else json.dumps(processed)
    return {"TemplateBody": text, "StagesAvailable": ["Original", "Processed"]}


def _template_and_document(
    cfn: CloudFormationService, params: Params, ctx: RequestContext
) -> tuple[Template, dict[str, Any]]:
    if params.get("StackName"):
        stack = cfn.require_stack(params["StackName"], ctx)
        if stack.status == "REVIEW_IN_PROGRESS":
            raise validation_error(
                "GetTemplateSummary cannot be called on REVIEW_IN_PROGRESS stacks."
            )
        original = parse_document(stack.template_body)
        return check_template(stack.processed), original
    body = read_body(params, cfn.read_object(ctx), ctx.endpoint)
    document = parse_document(body)
    if isinstance(document, dict) and document.get("Transform") is not None:
        if not document.get("Resources"):
            check_template(document)
        processed = cfn.prepare_template({"TemplateBody": body}, ctx).document
        return check_template(processed), document
    return check_template(document), document


def get_template_summary(cfn: CloudFormationService, params: Params, ctx: RequestContext) -> Result:
    template, original = _template_and_document(cfn, params, ctx)
    result: Result = {
        "Parameters": summary(template.parameters),
        "ResourceTypes": list(dict.fromkeys(r.type for r in template.resources.values())),
        "Version": str(original.get("AWSTemplateFormatVersion", "2010-09-09")),
        "ResourceIdentifierSummaries": [],
    }
    for entry in resource_identifier_summaries(template):
        identifier = _IDENTIFIERS.get(entry["ResourceType"])
        if identifier is not None and entry["ResourceType"] == "AWS::SSM::Parameter":
            entry["ResourceIdentifiers"] = [identifier]
        result["ResourceIdentifierSummaries"].append(entry)
    if template.description is not None:
        result["Description"] = template.description
    if original.get("Metadata") is not None:
        result["Metadata"] = str(original["Metadata"])
    if original.get("Transform") is not None:
        transforms = original["Transform"]
        result["DeclaredTransforms"] = transforms if isinstance(transforms, list) else [transforms]
    capability = required_capability(template)
    if capability is not None:
        result["Capabilities"] = [capability]
        result["CapabilitiesReason"] = (
            "The following resource(s) require capabilities: ["
            + ", ".join(sorted({r.type for r in template.resources.values() if "IAM" in r.type}))
            + "]"
        )
    return result


def validate_template(cfn: CloudFormationService, params: Params, ctx: RequestContext) -> Result:
    body = read_body(params, cfn.read_object(ctx), ctx.endpoint)
    document = parse_document(body)
    if isinstance(document, dict) and document.get("Transform") and document.get("Resources"):
        # a transform's own sections (SAM's Globals) are not CloudFormation's: what is
        # checked is the template the transform makes, as CreateStack does
        template = check_template(cfn.prepare_template({"TemplateBody": body}, ctx).document)
    else:
        template = check_template(document)
    result: Result = {
        "Parameters": [
            {
                key: value
                for key, value in {
                    "ParameterKey": entry["ParameterKey"],
                    "DefaultValue": entry.get("DefaultValue"),
                    "NoEcho": entry["NoEcho"],
                    "Description": entry.get("Description"),
                }.items()
                if value is not None
            }
            for entry in summary(template.parameters)
        ]
    }
    if template.description is not None:
        result["Description"] = template.description
    capability = required_capability(template)
    if capability is not None:
        result["Capabilities"] = [capability]
        result["CapabilitiesReason"] = "The following resource(s) require capabilities: [IAM]"
    if document.get("Transform") is not None:
        transforms = document["Transform"]
        result["DeclaredTransforms"] = transforms if isinstance(transforms, list) else [transforms]
    return result
