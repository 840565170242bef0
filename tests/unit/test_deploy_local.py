"""headwater deploy's direct path: local code directories, SAM and cdk synth output."""

from __future__ import annotations

import json
from pathlib import Path

from headwater.deploy.local import default_stack_name, load_local_template, parse_overrides


def test_cdk_assets_run_from_cdk_out(tmp_path: Path) -> None:
    asset = tmp_path / "asset.abc123"
    asset.mkdir()
    (asset / "index.js").write_text("exports.handler = async () => 1;\n")
    template = {
        "Parameters": {
            "BootstrapVersion": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": "/cdk-bootstrap/hnb659fds/version",
            }
        },
        "Rules": {"CheckBootstrapVersion": {"Assertions": []}},
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Code": {"S3Bucket": "cdk-assets", "S3Key": "abc123.zip"},
                    "Handler": "index.handler",
                    "Runtime": "nodejs22.x",
                },
                "Metadata": {"aws:asset:path": "asset.abc123", "aws:asset:property": "Code"},
            }
        },
    }
    path = tmp_path / "Stack.template.json"
    path.write_text(json.dumps(template))
    local = load_local_template(path, {}, region="us-east-1")
    assert local.document["Resources"]["Fn"]["Properties"]["Code"] == {"Directory": str(asset)}
    assert local.code_directories == {"Fn": asset}
    assert "BootstrapVersion" not in local.document["Parameters"]
    assert "Rules" not in local.document


def test_plain_function_code_paths_and_sam_code_uris(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    template = (
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Sam:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.12}\n"
        "  Plain:\n    Type: AWS::Lambda::Function\n"
        "    Properties: {Code: src, Handler: app.handler, Runtime: python3.12, Role: r}\n"
    )
    path = tmp_path / "template.yaml"
    path.write_text(template)
    local = load_local_template(path, {}, region="us-east-1")
    source = (tmp_path / "src").resolve()
    assert local.code_directories == {"Sam": source, "Plain": source}
    assert local.document["Resources"]["Sam"]["Properties"]["Code"] == {"Directory": str(source)}


def test_overrides_and_stack_names(tmp_path: Path) -> None:
    assert parse_overrides(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    assert default_stack_name(tmp_path / "my_app" / "template.yaml") == "my-app"
    assert default_stack_name(Path("/tmp/2024 app/t.yaml")) == "stack-2024-app"
    # cdk synth writes every stack of an app into cdk.out: each keeps its CDK stack name
    assert default_stack_name(tmp_path / "cdk.out" / "OrderPipeline.template.json") == (
        "OrderPipeline"
    )
    assert default_stack_name(tmp_path / "cdk.out" / "Inventory.template.json") == "Inventory"


def test_an_edit_of_a_published_function_names_a_new_version(tmp_path: Path) -> None:
    """SAM names an AutoPublishAlias function's version after its code location; a local
    directory's location never changes, so its files' hash goes into the placeholder and an
    edit publishes (and, with DeploymentPreference, shifts to) a new version on redeploy."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text("def handler(event, context):\n    return 1\n")
    path = tmp_path / "template.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.12,"
        " AutoPublishAlias: live}\n"
    )

    def versions() -> set[str]:
        document = load_local_template(path, {}, region="us-east-1").document
        return {
            logical_id
            for logical_id, resource in document["Resources"].items()
            if resource["Type"] == "AWS::Lambda::Version"
        }

    first = versions()
    assert versions() == first  # unchanged files: the same version
    (source / "app.py").write_text("def handler(event, context):\n    return 2\n")
    second = versions()
    assert len(second) == 1
    assert second != first
    document = load_local_template(path, {}, region="us-east-1").document
    assert document["Resources"]["Fn"]["Properties"]["Code"] == {"Directory": str(source.resolve())}


def test_a_sam_state_machine_definition_uri_naming_a_local_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "statemachine").mkdir()
    (tmp_path / "statemachine" / "flow.asl.json").write_text(
        '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "${Word}", "End": true}}}'
    )
    path = tmp_path / "template.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Flow:\n"
        "    Type: AWS::Serverless::StateMachine\n"
        "    Properties:\n"
        "      DefinitionUri: statemachine/flow.asl.json\n"
        "      DefinitionSubstitutions: {Word: hello}\n"
        "      Policies: []\n"
    )
    local = load_local_template(path, {}, region="us-east-1")
    machine = local.document["Resources"]["Flow"]
    assert machine["Type"] == "AWS::StepFunctions::StateMachine"
    properties = machine["Properties"]
    # SAM writes the definition as text (Fn::Join of its lines); substitutions stay for
    # the state machine provider.
    separator, lines = properties["DefinitionString"]["Fn::Join"]
    definition = json.loads(separator.join(lines))
    assert definition["States"]["P"]["Result"] == "${Word}"
    assert properties["DefinitionSubstitutions"] == {"Word": "hello"}
