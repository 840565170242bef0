"""Replays of AWS's recorded Lambda function and Invoke answers
(``tests/data/recorded/lambda-functions.json``: the function, invoke, error and request id
entries of LocalStack's ``test_lambda_api`` and ``test_lambda`` snapshots, see NOTICE).

Same approach as ``test_recorded_sqs.py``: each recorded test's calls, rebuilt from its
recorded values, made with a real boto3 client (client-side validation off, as the
recording's client had it) through the ASGI app in process, and every recorded value
compared. Recordings not replayed, or replayed with a difference that remains, are listed
with the reason; a test checks the lists are complete.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.asgi_boto import InProcessAws
from tests.conformance.recorded import differences, recorded_tests, recording

SERVICE = "lambda-functions"
REGION = "us-east-1"
ARN = f"arn:aws:lambda:{REGION}:000000000000:function"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
A_RUN = re.compile(r"<a:len\((\d+)\)>")

#: ``test_function_name_and_qualifier_validation``: (FunctionName, Qualifier) per case, as
#: the recorded messages show them. CreateFunction has no Qualifier: it gets ``name:q``.
NAME_CASES: dict[str, tuple[str, str | None]] = {
    "function_name_is_single_invalid": ("*", None),
    "invalid_characters_in_function_name": ("my-function!", None),
    "invalid_characters_in_qualifier": ("my-function", "invalid!"),
    "qualifier_too_long0": ("my-function", "a" * 129),
    "qualifier_too_long": ("my-function", "a" * 129),
    "qualifier_too_long1": ("my-function", "a" * 65),
    "function_name_and_qualifier_too_long": ("my-function", "a" * 65),
    "invalid_account_id_in_partial_arn": ("invalid-account:function:my-function", None),
    "invalid_region_in_arn": (
        "arn:aws:lambda:invalid-region:000000000000:function:my-function",
        None,
    ),
    "non_lambda_arn": (f"arn:aws:ec2:{REGION}:000000000000:instance:i-1234567890abcdef0", None),
    "function_name_too_long": ("a" * 65, None),
    "function_name_too_long_and_invalid_region": (
        "arn:aws:lambda:invalid-region:000000000000:function:my-function" + "a" * 170,
        None,
    ),
    "full_arn_and_qualifier_too_long_and_invalid_region": (
        "arn:aws:lambda:invalid-region:000000000000:function:my-function-" + "a" * 170,
        "a" * 129,
    ),
    "full_arn_with_multiple_qualifiers": (f"{ARN}:my-function:1:2", None),
    "incomplete_arn": (f"arn:aws:lambda:{REGION}:000000000000:function", None),
    "partial_arn_with_extra_qualifier": ("function:my-function:$LATEST:extra", None),
    "latest_version_with_additional_qualifier": (f"{ARN}:my-function:$LATEST", "1"),
    "lowercase_latest_qualifier": (f"{ARN}:my-function", "$latest"),
    "missing_region_in_arn": ("arn:aws:lambda::000000000000:function:my-function", None),
    "missing_account_id_in_arn": (f"arn:aws:lambda:{REGION}::function:my-function", None),
    "misspelled_latest_in_arn": (f"{ARN}:my-function:$LATES", None),
}
NAME_OPERATIONS = ("get_function", "delete_function", "invoke", "create_function")


def zip_of(source: str, name: str = "handler.py") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, source)
    return buffer.getvalue()


def expand(recorded: Any) -> Any:
    """The recording with LocalStack's ``<a:len(N)>`` runs written out, and its parsed
    validation errors (``Count``/``Errors``) joined back into AWS's message."""
    if isinstance(recorded, str):
        return A_RUN.sub(lambda m: "a" * int(m.group(1)), recorded)
    if isinstance(recorded, list):
        return [expand(item) for item in recorded]
    if not isinstance(recorded, dict):
        return recorded
    if "Errors" in recorded and "Count" in recorded:
        count = recorded["Count"]
        plural = "s" if count > 1 else ""
        errors = "; ".join(expand(recorded["Errors"]))
        return {
            "Code": recorded["Code"],
            "Message": f"{count} validation error{plural} detected: {errors}",
        }
    return {key: expand(value) for key, value in recorded.items()}


def error_of(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response


@pytest.fixture(scope="module")
def aws() -> Iterator[InProcessAws]:
    hw = Headwater.in_memory(clock=ManualClock())
    found = InProcessAws(hw)
    try:
        yield found
    finally:
        found.close()
        hw.close()


@pytest.fixture(scope="module")
def lam(aws: InProcessAws) -> Any:
    return aws.client("lambda", REGION, parameter_validation=False)


def name_case_call(lam: Any, operation: str, case: str) -> dict[str, Any]:
    name, qualifier = NAME_CASES[case]
    if operation == "create_function":
        full = name if qualifier is None else f"{name}:{qualifier}"
        return error_of(
            lambda: lam.create_function(
                FunctionName=full,
                Runtime="python3.12",
                Role=ROLE,
                Handler="handler.handler",
                Code={"ZipFile": zip_of("def handler(e, c):\n    return e\n")},
            )
        )
    params = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
    return error_of(lambda: getattr(lam, operation)(**params))


NAME_RECORDINGS = {
    f"TestLambdaFunction::test_function_name_and_qualifier_validation[{case}-{op}]": (case, op)
    for case in NAME_CASES
    for op in NAME_OPERATIONS
}

#: Replayed, and headwater still answers differently: what differs and why it is left.
DIFFERENT: dict[str, str] = {
    "TestLambdaErrors::test_lambda_invoke_payload_encoding_error[body-n\\x87r\\x9e\\xe9\\xb5"
    "\\xd7I\\xee\\x9bmt]": (
        "same code, status and shape; the message is the wording of AWS's Java JSON parser "
        "(Jackson: 'Invalid UTF-8 start byte 0x87 at [Source: REDACTED ...]'), not reproduced"
    ),
    "TestLambdaErrors::test_lambda_invoke_payload_encoding_error[message-\\x99\\xeb,j\\x07"
    "\\xa1zYh]": "as the [body-...] case",
}

_LATER = "not replayed yet: it applies; left for a later pass (listed in issue 19's note)"
_NODE16 = "nodejs16.x is not a runtime headwater runs (nodejs18.x and later; see docs/runtimes.md)"
_LIFECYCLE = (
    "the recorded FunctionConfiguration is compared member by member by the control-plane "
    "replays (test_lambda_control_plane_recorded.py); this one's create/update/get "
    "sequence is not rebuilt yet"
)
NOT_REPLAYED: dict[str, str] = {
    "TestLambdaBaseFeatures::test_assume_role[1]": (
        "the function's credentials are headwater's dummy keys, not an assumed role session"
    ),
    "TestLambdaBaseFeatures::test_assume_role[2]": "as test_assume_role[1]",
    "TestLambdaBaseFeatures::test_lambda_different_iam_keys_environment": (
        "as test_assume_role[1]: one set of dummy credentials for every function"
    ),
    "TestLambdaBaseFeatures::test_function_state": _LIFECYCLE,
    "TestLambdaBehavior::test_lambda_cache_local[nodejs]": _LATER,
    "TestLambdaBehavior::test_lambda_cache_local[python]": _LATER,
    "TestLambdaBehavior::test_lambda_host_prefix_api_operation": (
        "the host-prefixed endpoint (InvokeWithResponseStream's) needs DNS for the prefix"
    ),
    "TestLambdaBehavior::test_lambda_init_environment": (
        "inspects the /proc and environment of AWS's init process (Firecracker microVM)"
    ),
    "TestLambdaBehavior::test_lambda_invoke_no_timeout": _LATER,
    "TestLambdaBehavior::test_lambda_invoke_timed_out_environment_reuse": _LATER,
    "TestLambdaBehavior::test_lambda_invoke_with_timeout": _LATER,
    "TestLambdaBehavior::test_mixed_architecture": (
        "arm64 and x86_64 are stored as given; code runs on the host's architecture"
    ),
    "TestLambdaBehavior::test_runtime_introspection_arm": (
        "reads the machine (uname, CPU) of AWS's arm64 hosts"
    ),
    "TestLambdaBehavior::test_runtime_introspection_x86": "reads the machine of AWS's x86 hosts",
    "TestLambdaBehavior::test_runtime_ulimits": "AWS's sandbox ulimits; headwater keeps the host's",
    "TestLambdaErrors::test_lambda_handler_exit": _LATER,
    "TestLambdaErrors::test_lambda_runtime_error": _LATER,
    "TestLambdaErrors::test_lambda_runtime_exit": _LATER,
    "TestLambdaErrors::test_lambda_runtime_exit_segfault": _LATER,
    "TestLambdaErrors::test_lambda_runtime_wrapper_not_found": (
        "AWS_LAMBDA_EXEC_WRAPPER scripts are not run"
    ),
    "TestLambdaFeatures::test_invocation_type_dry_run[nodejs16.x]": _NODE16,
    "TestLambdaFeatures::test_invocation_type_event[nodejs16.x]": _NODE16,
    "TestLambdaFeatures::test_invocation_type_event_error": _LATER,
    "TestLambdaFeatures::test_invocation_type_no_return_payload[nodejs-Event]": _NODE16,
    "TestLambdaFeatures::test_invocation_type_no_return_payload[nodejs-RequestResponse]": _NODE16,
    "TestLambdaFeatures::test_invocation_type_request_response[nodejs16.x]": _NODE16,
    "TestLambdaFeatures::test_invocation_with_logs[nodejs16.x]": _NODE16,
    "TestLambdaFeatures::test_invocation_with_logs[python3.10]": _LATER,
    "TestLambdaFeatures::test_lambda_with_context": _NODE16,
    "TestLambdaFeatures::test_upload_lambda_from_s3": _LATER,
    "TestLambdaFunction::test_create_lambda_exceptions": _LATER,
    "TestLambdaFunction::test_function_arns": _LATER,
    "TestLambdaFunction::test_function_lifecycle": _LIFECYCLE,
    "TestLambdaFunction::test_invalid_vpc_config_security_group": (
        "VpcConfig is stored, not checked against EC2 (headwater has no EC2)"
    ),
    "TestLambdaFunction::test_invalid_vpc_config_subnet": "as the security group case",
    "TestLambdaFunction::test_lambda_code_location_s3": _LATER,
    "TestLambdaFunction::test_lambda_code_location_s3_errors": _LATER,
    "TestLambdaFunction::test_lambda_code_location_zipfile": _LIFECYCLE,
    "TestLambdaFunction::test_lambda_concurrent_code_updates": (
        "updates apply at once here: there is no InProgress window to collide with"
    ),
    "TestLambdaFunction::test_lambda_concurrent_config_updates": "as the code update case",
    "TestLambdaFunction::test_list_functions": _LATER,
    "TestLambdaFunction::test_redundant_updates": _LIFECYCLE,
    "TestLambdaFunction::test_update_lambda_exceptions": _LATER,
    "TestLambdaFunction::test_vpc_config": "VpcConfig needs EC2 subnets and security groups",
    "TestRequestIdHandling::test_request_id_async_invoke_with_retry": _LATER,
}


def replayed_name_recordings() -> list[str]:
    known = set(recorded_tests(SERVICE))
    return sorted(name for name in NAME_RECORDINGS if name in known)


@pytest.mark.parametrize("name", replayed_name_recordings())
def test_function_name_and_qualifier_validation(lam: Any, name: str) -> None:
    case, operation = NAME_RECORDINGS[name]
    [recorded] = recording(SERVICE, name).values()
    ours = name_case_call(lam, operation, case)["Error"]
    found = differences({"Code": ours["Code"], "Message": ours["Message"]}, expand(recorded))
    if name in DIFFERENT:
        assert found, f"{name} now matches AWS: remove it from DIFFERENT"
    else:
        assert found == []


# ----------------------------------------------------------------------------- scenarios

Scenario = Callable[[Any, "Functions", str], dict[str, Any]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(*names: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        for name in names:
            SCENARIOS[name] = function
        return function

    return register


HANDLERS = """
import logging
import os

logging.getLogger().setLevel(logging.INFO)


def echo(event, context):
    return event


def nothing(event, context):
    pass


def request_id(event, context):
    logging.info("RequestId log message")
    return context.aws_request_id


def fails(event, context):
    raise Exception("Handler fails")


def too_large(event, context):
    return "a" * (6 * 1024 * 1024 + 100)
"""


class Functions:
    """Functions made once per module, by handler."""

    def __init__(self, lam: Any) -> None:
        self.lam = lam
        self.made: dict[str, str] = {}

    def __call__(self, handler: str) -> str:
        name = self.made.get(handler)
        if name is None:
            name = self.made[handler] = f"fn-{handler.replace('_', '-')}"
            self.lam.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=ROLE,
                Handler=f"handler.{handler}",
                Code={"ZipFile": zip_of(HANDLERS)},
            )
        return name


def parameter(test: str) -> str:
    """The parametrize id of a recorded test's name: ``get_function`` of ``...[get_function]``."""
    return test.split("[", 1)[1].removesuffix("]")


def invoke_result(response: dict[str, Any]) -> dict[str, Any]:
    """An Invoke response as the recording keeps it (the payload read as text)."""
    found = dict(response)
    found["Payload"] = response["Payload"].read().decode()
    found.pop("LogResult", None)
    return found


NONEXISTING_OPS = (
    "delete_function",
    "get_function",
    "get_function_configuration",
    "get_function_url_config",
    "get_function_code_signing_config",
    "get_function_concurrency",
)


@scenario(*(f"TestLambdaFunction::test_ops_on_nonexisting_fn[{op}]" for op in NONEXISTING_OPS))
def _nonexisting(lam: Any, functions: Functions, op: str) -> dict[str, Any]:
    call = getattr(lam, parameter(op))
    return {"not_found_exception": error_of(lambda: call(FunctionName="ghost-fn"))}


WRONG_REGION_OPS = (*NONEXISTING_OPS[1:], "delete_function", "invoke")


@scenario(*(f"TestLambdaFunction::test_get_function_wrong_region[{op}]" for op in WRONG_REGION_OPS))
def _wrong_region(lam: Any, functions: Functions, op: str) -> dict[str, Any]:
    other = functions("echo").replace("fn-", "arn:aws:lambda:eu-west-1:000000000000:function:fn-")
    call = getattr(lam, parameter(op))
    return {"wrong_region_exception": error_of(lambda: call(FunctionName=other))}


@scenario("TestLambdaFunction::test_invalid_invoke")
def _invalid_invoke(lam: Any, functions: Functions, _: str) -> dict[str, Any]:
    name = f"arn:aws:lambda:{REGION}:123400000000@function:myfn"
    return {"invoke_function_name_pattern_exc": error_of(lambda: lam.invoke(FunctionName=name))}


@scenario("TestLambdaFeatures::test_invoke_exceptions")
def _invoke_missing(lam: Any, functions: Functions, _: str) -> dict[str, Any]:
    return {
        "invoke_function_doesnotexist": error_of(lambda: lam.invoke(FunctionName="doesnotexist"))
    }


@scenario(
    "TestLambdaFeatures::test_invocation_type_request_response[python3.10]",
    "TestLambdaFeatures::test_invocation_type_event[python3.10]",
    "TestLambdaFeatures::test_invocation_type_dry_run[python3.10]",
)
def _invocation_types(lam: Any, functions: Functions, op: str) -> dict[str, Any]:
    kind = {"request_response": "RequestResponse", "event": "Event", "dry_run": "DryRun"}
    invocation_type = next(v for k, v in kind.items() if f"type_{k}[" in op)
    response = lam.invoke(
        FunctionName=functions("echo"), Payload=b"{}", InvocationType=invocation_type
    )
    return {"invoke-result": invoke_result(response)}


@scenario(
    "TestLambdaFeatures::test_invocation_type_no_return_payload[python-RequestResponse]",
    "TestLambdaFeatures::test_invocation_type_no_return_payload[python-Event]",
)
def _no_payload(lam: Any, functions: Functions, op: str) -> dict[str, Any]:
    invocation_type = "Event" if op.endswith("-Event]") else "RequestResponse"
    response = lam.invoke(
        FunctionName=functions("nothing"), Payload=b"{}", InvocationType=invocation_type
    )
    return {"invoke-result": invoke_result(response)}


@scenario("TestLambdaErrors::test_lambda_handler_error")
def _handler_error(lam: Any, functions: Functions, _: str) -> dict[str, Any]:
    response = invoke_result(lam.invoke(FunctionName=functions("fails"), Payload=b"{}"))
    error = orjson.loads(response["Payload"])
    rid = response["ResponseMetadata"]["RequestId"]
    assert error["requestId"] == rid  # the invocation's request id, as x-amzn-RequestId
    # AWS's task root is /var/task; headwater's is the function's code directory
    # AWS's task root is /var/task, its test's file and handler had other names
    error["stackTrace"] = [
        re.sub(
            r'File "[^"]*/handler\.py", line \d+, in fails',
            'File "/var/task/lambda_handler_error.py", line 2, in handler',
            line,
        )
        for line in error["stackTrace"]
    ]
    response["Payload"] = orjson.dumps(error).decode()
    return {"invocation_error": response}


@scenario("TestRequestIdHandling::test_request_id_invoke")
def _request_id(lam: Any, functions: Functions, _: str) -> dict[str, Any]:
    response = lam.invoke(FunctionName=functions("request_id"), Payload=b"{}", LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    result = invoke_result(response)
    rid = result["ResponseMetadata"]["RequestId"]
    assert result["Payload"] == f'"{rid}"'
    lines = [line for line in tail.splitlines() if line and rid in line]
    assert lines and all(rid in line for line in lines)
    # CloudWatch Logs, where the recording read them, keeps no trailing tab
    lines = [re.sub(r"\t\d{4}-\d\d-\d\dT[\d:.]+Z\t", "\tdate\t", line).rstrip() for line in lines]
    return {"invoke_result": result, "log_entries": {"logs": lines}}


@scenario("TestLambdaBaseFeatures::test_lambda_too_large_response")
def _too_large(lam: Any, functions: Functions, _: str) -> dict[str, Any]:
    name = functions("too_large")
    first = invoke_result(lam.invoke(FunctionName=name, Payload=b"{}"))
    second = invoke_result(lam.invoke(FunctionName=name, Payload=b"{}"))
    return {"invoke_result": first, "invoke_result_2": second}


@scenario(
    "TestLambdaErrors::test_lambda_invoke_payload_encoding_error[body-n\\x87r\\x9e\\xe9\\xb5\\xd7I\\xee\\x9bmt]",
    "TestLambdaErrors::test_lambda_invoke_payload_encoding_error[message-\\x99\\xeb,j\\x07\\xa1zYh]",
)
def _payload_encoding(lam: Any, functions: Functions, op: str) -> dict[str, Any]:
    if "[body-" in op:
        payload, key = b"n\x87r\x9e\xe9\xb5\xd7I\xee\x9bmt", "invoke_function_invalid_payload_body"
    else:
        payload, key = b"\x99\xeb,j\x07\xa1zYh", "invoke_function_invalid_payload_message"
    return {key: error_of(lambda: lam.invoke(FunctionName=functions("echo"), Payload=payload))}


@pytest.fixture(scope="module")
def functions(lam: Any) -> Functions:
    return Functions(lam)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_recording(lam: Any, functions: Functions, name: str) -> None:
    ours = SCENARIOS[name](lam, functions, name)
    found = differences(ours, expand(recording(SERVICE, name)))
    if name in DIFFERENT:
        assert found, f"{name} now matches AWS: remove it from DIFFERENT"
    else:
        assert found == []


def test_every_recording_is_replayed_or_explained() -> None:
    replayed = set(replayed_name_recordings()) | set(SCENARIOS)
    assert set(recorded_tests(SERVICE)) == replayed | set(NOT_REPLAYED)
    assert not replayed & set(NOT_REPLAYED)
    assert set(DIFFERENT) <= replayed
