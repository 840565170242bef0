"""The comparison of answers with AWS recordings (tests/conformance/recorded.py) fails where
it should: the rules the recorded tests rely on."""

from __future__ import annotations

import datetime as dt

from tests.conformance.recorded import differences


def test_a_masked_key_stands_for_the_one_unmatched_key() -> None:
    recorded = {"Responses": {"<test-table>": [{"id": "1"}]}}
    assert differences({"Responses": {"orders": [{"id": "1"}]}}, recorded) == []
    assert differences({"Responses": {"orders": [{"id": "2"}]}}, recorded) != []
    assert differences({"Responses": {"a": [], "b": []}}, recorded) != []


def test_a_whole_placeholder_binds_before_a_text_made_of_several() -> None:
    recorded = {
        "Arn": "arn:<partition>:iam::111111111111:role<path><role-name:1>",
        "Path": "<path>",
        "RoleName": "<role-name:1>",
    }
    ours = {"Arn": "arn:aws:iam::000000000000:role/pathx/pathed", "Path": "/pathx/"}
    assert differences({**ours, "RoleName": "pathed"}, recorded) == []
    assert differences({**ours, "RoleName": "other"}, recorded) != []


def test_extra_members_only_when_allowed_and_recorded_ones_always_required() -> None:
    recorded = {"State": "Active"}
    assert differences({"State": "Active", "Type": "x"}, recorded) != []
    assert differences({"State": "Active", "Type": "x"}, recorded, extra_keys=True) == []
    assert differences({"Type": "x"}, recorded, extra_keys=True) != []


def test_typed_presence_wants_a_text_or_a_datetime() -> None:
    recorded = {"CreationDateTime": "datetime", "Start": "starting-sequence-number"}
    good = {"CreationDateTime": dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "Start": "1000"}
    assert differences(good, recorded, typed_presence=True) == []
    for bad in ({"CreationDateTime": 5, "Start": "1"}, {"CreationDateTime": "x", "Start": ""}):
        assert differences(bad, recorded, typed_presence=True) != []


def test_json_text_is_no_object_without_decode_json_and_numbers_are_no_text() -> None:
    assert differences('{"a": 1}', {"a": 1}) == []
    assert differences('{"a": 1}', {"a": 1}, decode_json=False) != []
    assert differences({"Count": 5}, {"Count": "5"}) != []
