"""``headwater deploy`` on an existing stack: parameters keep their values, as with
``aws cloudformation deploy`` and ``sam deploy``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from headwater import Headwater
from headwater.cli.main import main

TEMPLATE = """
Parameters:
  Stage:
    Type: String
    Default: prod
Resources:
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "orders-${Stage}"
"""


def deploy(data_dir: Path, template: Path, *overrides: str) -> None:
    args = ["deploy", str(template), "--stack-name", "shop", "--data-dir", str(data_dir)]
    if overrides:
        args += ["--parameter-overrides", *overrides]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output


def stack_state(data_dir: Path) -> tuple[dict[str, str], list[str]]:
    with Headwater(data_dir=data_dir) as hw:
        stack = hw.client("cloudformation").describe_stacks(StackName="shop")["Stacks"][0]
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        urls = hw.client("sqs").list_queues().get("QueueUrls", [])
    return parameters, [url.rsplit("/", 1)[1] for url in urls]


def test_a_redeploy_keeps_the_overridden_parameter_values(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    data_dir = tmp_path / "data"
    deploy(data_dir, template, "Stage=dev")
    assert stack_state(data_dir) == ({"Stage": "dev"}, ["orders-dev"])
    # the README's next step (deploy --watch) gives no overrides: still dev, not the Default
    deploy(data_dir, template)
    assert stack_state(data_dir) == ({"Stage": "dev"}, ["orders-dev"])
    deploy(data_dir, template, "Stage=test")
    assert stack_state(data_dir) == ({"Stage": "test"}, ["orders-test"])


def test_a_parameter_new_in_the_template_takes_its_default(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    data_dir = tmp_path / "data"
    deploy(data_dir, template, "Stage=dev")
    template.write_text(
        TEMPLATE.replace(
            "Resources:", "  Region:\n    Type: String\n    Default: eu\nResources:"
        ).replace("orders-${Stage}", "orders-${Stage}-${Region}")
    )
    deploy(data_dir, template)
    assert stack_state(data_dir) == ({"Stage": "dev", "Region": "eu"}, ["orders-dev-eu"])
