"""EventBridge pattern semantics and rejections beyond the AWS-recorded corpus."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.filtering import InvalidPatternError, compile_pattern


def matches(pattern: Any, event: Any) -> bool:
    return compile_pattern(pattern).matches(event)


def reason(pattern: Any) -> str:
    with pytest.raises(InvalidPatternError) as info:
        compile_pattern(pattern)
    text = str(info.value)
    assert text.startswith("Event pattern is not valid. Reason: ")
    return info.value.reason


# -- exact values ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("a", "a", True),
        ("a", "A", False),
        ("1", 1, False),  # a string never equals a number
        (1, "1", False),
        (1, True, False),  # booleans are not numbers
        (True, 1, False),
        (True, True, True),
        (False, False, True),
        (None, None, True),
        (None, "null", False),
        ("", "", True),
        (300, 300.0, True),  # numbers compare as numbers (AWS-recorded)
        (300.0, 300, True),
        (1e2, 100, True),
        (0.1, 0.1, True),
        (300, 300.5, False),
        (123456789012, 123456789012, True),  # beyond numeric range: still exact
    ],
)
def test_exact_values(rule: Any, value: Any, expected: bool) -> None:
    assert matches({"f": [rule]}, {"f": value}) is expected


def test_missing_field_never_matches_a_value() -> None:
    assert not matches({"f": [None]}, {})
    assert not matches({"f": [None]}, {"f": []})
    assert not matches({"f": ["x"]}, {"f": {"x": "x"}})


def test_case_sensitive_keys_and_values() -> None:
    assert not matches({"Key": ["v"]}, {"key": "v"})


def test_ip_literal_exact_match_compares_addresses() -> None:
    assert matches({"ip": ["2001:db8::1"]}, {"ip": "2001:0db8:0000:0000:0000:0000:0000:0001"})
    assert matches({"ip": ["10.0.0.1"]}, {"ip": "10.0.0.1"})
    assert not matches({"ip": ["10.0.0.1"]}, {"ip": "10.0.0.2"})


# -- string operators --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ({"prefix": "us-"}, "us-east-1", True),
        ({"prefix": "us-"}, "eu-west-1", False),
        ({"prefix": ""}, "anything", True),
        ({"prefix": ""}, 5, False),  # prefix works on strings only
        ({"prefix": "1"}, 12, False),
        ({"suffix": ".png"}, "a.png", True),
        ({"suffix": ".png"}, "a.PNG", False),
        ({"suffix": {"equals-ignore-case": ".png"}}, "a.PNG", True),
        ({"prefix": {"equals-ignore-case": "EventB"}}, "eventbridge", True),
        ({"prefix": {"equals-ignore-case": "EventB"}}, "event", False),
        ({"equals-ignore-case": "Alice"}, "aLiCe", True),
        ({"equals-ignore-case": "Alice"}, "alice2", False),
        ({"equals-ignore-case": "1"}, 1, False),
        ({"wildcard": "a*c"}, "abbbc", True),
        ({"wildcard": "a*c"}, "ac", True),
        ({"wildcard": "a*c"}, "abd", False),
        ({"wildcard": "*"}, "", True),
        ({"wildcard": ""}, "", True),
        ({"wildcard": ""}, "x", False),
        ({"wildcard": "a\\*c"}, "a*c", True),
        ({"wildcard": "a\\*c"}, "abc", False),
        ({"wildcard": "a\\\\c"}, "a\\c", True),
        ({"wildcard": "line*end"}, "line\nend", True),
        ({"exactly": "x"}, "x", True),
    ],
)
def test_string_operators(rule: dict[str, Any], value: Any, expected: bool) -> None:
    assert matches({"f": [rule]}, {"f": value}) is expected


# -- numeric -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("terms", "value", "expected"),
    [
        ([">", 0], 0.000001, True),
        ([">", 0], 0, False),
        ([">=", 0], 0, True),
        (["<", 0], -1e9, True),
        (["<=", 5], 5.0, True),
        (["=", 5], 5.0, True),
        (["=", 5], 5.5, False),
        ([">", 0, "<=", 5], 5, True),
        ([">", 0, "<", 5], 5, False),
        ([">=", 1.5, "<", 2.5], 2.4999, True),
        ([">", 100], "300", False),  # numeric strings never match
        ([">", 100], True, False),
        ([">", 100], None, False),
        ([">", 0], 6e9, False),  # outside +-5e9 nothing matches numerically
        (["<", 0], -6e9, False),
        ([">=", -5e9, "<=", 5e9], 5e9, True),
    ],
)
def test_numeric(terms: list[Any], value: Any, expected: bool) -> None:
    assert matches({"f": [{"numeric": terms}]}, {"f": value}) is expected


# -- anything-but ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("x", "y", True),
        ("x", "x", False),
        ("x", None, True),  # a present null satisfies anything-but
        ("x", 5, True),
        ("x", True, True),
        (["x", "y"], "y", False),
        ([1, 2], 2.0, False),
        ([1, 2], "2", True),
        (5, 5, False),
        ({"prefix": "init"}, "initial", False),
        ({"prefix": "init"}, "post-init", True),
        ({"prefix": ["a", "b"]}, "bee", False),
        ({"suffix": ".txt"}, "a.txt", False),
        ({"suffix": ".txt"}, 3, True),
        ({"equals-ignore-case": "Stop"}, "STOP", False),
        ({"equals-ignore-case": ["Stop", "Go"]}, "gO", False),
        ({"equals-ignore-case": ["Stop", "Go"]}, "run", True),
        ({"wildcard": "*/init/*"}, "a/init/b", False),
        ({"wildcard": ["*.png", "*.jpg"]}, "a.gif", True),
        ({"prefix": []}, "anything", True),
    ],
)
def test_anything_but(rule: Any, value: Any, expected: bool) -> None:
    assert matches({"f": [{"anything-but": rule}]}, {"f": value}) is expected


def test_anything_but_needs_the_field() -> None:
    assert not matches({"f": [{"anything-but": "x"}]}, {})
    assert not matches({"f": [{"anything-but": "x"}]}, {"f": {"g": 1}})


def test_anything_but_on_arrays_matches_any_other_element() -> None:
    assert matches({"f": [{"anything-but": "a"}]}, {"f": ["a", "b"]})
    assert not matches({"f": [{"anything-but": "a"}]}, {"f": ["a", "a"]})


# -- exists ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "present"),
    [
        ({"f": "v"}, True),
        ({"f": None}, True),
        ({"f": 0}, True),
        ({"f": [1]}, True),
        ({"f": []}, False),  # only leaves count
        ({"f": {"g": 1}}, False),
        ({"f": [{"g": 1}]}, False),
        ({}, False),
    ],
)
def test_exists(event: dict[str, Any], present: bool) -> None:
    assert matches({"f": [{"exists": True}]}, event) is present
    assert matches({"f": [{"exists": False}]}, event) is not present


def test_exists_false_with_other_rules_is_an_or() -> None:
    pattern = {"f": [{"exists": False}, "x"]}
    assert matches(pattern, {})
    assert matches(pattern, {"f": "x"})
    assert not matches(pattern, {"f": "y"})


# -- cidr --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cidr", "value", "expected"),
    [
        ("10.0.0.0/24", "10.0.0.0", True),
        ("10.0.0.0/24", "10.0.0.255", True),
        ("10.0.0.0/24", "10.0.1.0", False),
        ("10.0.0.0/8", "10.255.255.255", True),
        ("0.0.0.0/0", "1.2.3.4", True),
        ("10.0.0.0/0", "1.2.3.4", False),  # below the written address
        ("10.0.0.9/24", "10.0.0.3", False),  # the range starts at the address as written
        ("10.0.0.0/24", "not an ip", False),
        ("10.0.0.0/24", "::ffff:10.0.0.1", False),
        ("2001:db8::/32", "2001:db8:ffff::1", True),
        ("2001:db8::/32", "2001:db9::1", False),
        ("2001:db8::/32", "10.0.0.1", False),
        ("10.0.0.0/24", 167772161, False),
    ],
)
def test_cidr(cidr: str, value: Any, expected: bool) -> None:
    assert matches({"ip": [{"cidr": cidr}]}, {"ip": value}) is expected


# -- structure ---------------------------------------------------------------------------------
def test_nested_objects_and_dotted_keys_are_the_same_path() -> None:
    for pattern in ({"a": {"b": {"c": [1]}}}, {"a.b": {"c": [1]}}, {"a": {"b.c": [1]}}):
        for event in ({"a": {"b": {"c": 1}}}, {"a.b.c": 1}, {"a": {"b.c": 1}}, {"a.b": {"c": 1}}):
            assert matches(pattern, event), (pattern, event)


def test_dotted_and_nested_values_are_both_seen() -> None:
    event = {"a": {"b": 1}, "a.b": 2}
    assert matches({"a": {"b": [2]}}, event)
    assert matches({"a.b": [1]}, event)


def test_arrays_anywhere_on_the_path() -> None:
    event = {"a": [{"b": [[{"c": "x"}], {"c": "y"}]}]}
    assert matches({"a": {"b": {"c": ["y"]}}}, event)
    assert matches({"a": {"b": {"c": ["x"]}}}, event)
    assert not matches({"a": {"b": {"c": ["z"]}}}, event)


def test_array_consistency() -> None:
    event = {
        "employees": [
            {"first": "John", "last": "Doe"},
            {"first": "Anna", "last": "Smith"},
            {"first": "Peter", "last": "Jones"},
        ]
    }
    assert matches({"employees": {"first": ["Anna"], "last": ["Smith"]}}, event)
    assert not matches({"employees": {"first": ["Anna"], "last": ["Jones"]}}, event)
    # fields outside the array combine freely with one element
    assert matches({"employees": {"first": ["Peter"]}, "x": [{"exists": False}]}, event)


def test_array_consistency_across_nested_arrays() -> None:
    event = {"a": [{"b": [{"c": 1, "d": 2}, {"c": 3, "d": 4}]}, {"b": [{"c": 5, "d": 6}]}]}
    assert matches({"a": {"b": {"c": [3], "d": [4]}}}, event)
    assert not matches({"a": {"b": {"c": [3], "d": [6]}}}, event)
    assert not matches({"a": {"b": {"c": [1], "d": [4]}}}, event)


def test_or_forks_and_combines() -> None:
    pattern = {
        "source": ["s"],
        "$or": [{"a": [1]}, {"b": [2], "c": [3]}],
        "detail": {"$or": [{"x": ["x"]}, {"y": ["y"]}]},
    }
    assert matches(pattern, {"source": "s", "a": 1, "detail": {"y": "y"}})
    assert matches(pattern, {"source": "s", "b": 2, "c": 3, "detail": {"x": "x"}})
    assert not matches(pattern, {"source": "s", "b": 2, "detail": {"x": "x"}})
    assert not matches(pattern, {"source": "t", "a": 1, "detail": {"x": "x"}})
    assert not matches(pattern, {"source": "s", "a": 1, "detail": {}})
    assert len(compile_pattern(pattern).branches) == 4


def test_nested_or() -> None:
    pattern = {"$or": [{"a": [1]}, {"b": [1], "$or": [{"c": [1]}, {"d": [1]}]}]}
    assert matches(pattern, {"a": 1})
    assert matches(pattern, {"b": 1, "d": 1})
    assert not matches(pattern, {"b": 1})


def test_duplicate_keys_last_wins_and_trailing_text_ignored() -> None:
    text = '{"f": ["a"], "f": ["b"]} trailing words'
    assert matches(text, {"f": "b"})
    assert not matches(text, {"f": "a"})


def test_a_field_repeated_inside_or_follows_document_order() -> None:
    # EventBridge's compiler copies the rule so far into each $or branch and a later field
    # replaces an earlier one with the same path, exactly like a duplicate key.
    event = {"a": ""}
    assert matches({"a": ["0"], "$or": [{"a": [""]}, {"a": [None]}]}, event)
    assert not matches({"$or": [{"a": [""]}, {"a": [None]}], "a": ["0"]}, event)


def test_an_open_ended_range_at_the_number_limit_is_empty_and_rejected() -> None:
    # EventBridge builds ">= x" as the range [x, 5e9]; at x = 5e9 it is empty.
    with pytest.raises(InvalidPatternError, match="Bottom must be less than top"):
        compile_pattern({"n": [{"numeric": [">=", 5e9]}]})
    with pytest.raises(InvalidPatternError, match="Bottom must be less than top"):
        compile_pattern({"n": [{"numeric": ["<=", -5e9]}]})
    assert matches({"n": [{"numeric": ["=", 5e9]}]}, {"n": 5e9})


def test_event_as_text_or_bytes() -> None:
    matcher = compile_pattern('{"f": [{"prefix": "a"}]}')
    assert matcher.matches('{"f": "abc"}')
    assert matcher.matches(b'{"f": "abc"}')
    assert not matcher.matches(b'{"f": 1}')


def test_escaped_unicode_in_pattern_text() -> None:
    assert matches('{"s": ["\\ud83d\\ude80 \\u00e9\\n\\"q\\""]}', {"s": '\U0001f680 é\n"q"'})


# -- rejections --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "Filter is not an object"),
        ("   ", "Filter is not an object"),
        ("[1, 2]", "Filter is not an object"),
        ("[{]", "Filter is not an object"),  # Jackson never reads past the first token
        ('"text"', "Filter is not an object"),
        ('"unterminated \\q', "Filter is not an object"),
        ("42", "Filter is not an object"),
        ("null", "Filter is not an object"),
        ("{}", "Empty objects are not allowed"),
        ({"a": {}}, "Empty objects are not allowed"),
        ({"a": None}, '"a" must be an object or an array'),
        ({"a": [[1]]}, "Match value must be String, number, true, false, or null"),
        ({"a": [{}]}, "Match expression name not found"),
        ({"a": [{"prefix": "x", "suffix": "y"}]}, "Only one key allowed in match expression"),
        ({"a": [{"exists": "yes"}]}, "exists match pattern must be either true or false."),
        ({"a": [{"exactly": 1}]}, "exact match pattern must be a string"),
        ({"a": [{"numeric": []}]}, "Invalid member in numeric match: ]"),
        ({"a": [{"numeric": [5]}]}, "Invalid member in numeric match: 5"),
        ({"a": [{"numeric": ["!=", 5]}]}, "Unrecognized numeric range operator: !="),
        ({"a": [{"numeric": ["=", "5"]}]}, "Value of equals must be numeric"),
        ({"a": [{"numeric": ["=", 5, "<", 6]}]}, "Too many elements in numeric expression"),
        ({"a": [{"numeric": ["<", 5, ">", 1]}]}, "Too many elements in numeric expression"),
        ({"a": [{"numeric": [">", 0, 5]}]}, "Bad value in numeric range: 5"),
        ({"a": [{"numeric": [">", 0, "<", 5, 6]}]}, "Too many terms in numeric range expression"),
        # EventBridge's ranges check the bound order first (an open top is 5.0e9)
        ({"a": [{"numeric": [">", 5e9 + 1]}]}, "Bottom must be less than top"),
        ({"a": [{"numeric": [">=", 5e9]}]}, "Bottom must be less than top"),
        ({"a": [{"numeric": ["<", 6e9]}]}, "Value must be between -5.0E9 and 5.0E9, inclusive"),
        ({"a": [{"numeric": ["=", -6e9]}]}, "Value must be between -5.0E9 and 5.0E9, inclusive"),
        ({"a": [{"numeric": [">", 5, "<", 5]}]}, "Bottom must be less than top"),
        ({"a": [{"numeric": [">", True]}]}, "Value of > must be numeric"),
        (
            {"a": [{"numeric": [">", 0], "x": 1}]},
            "Too many elements in numeric expression",
        ),
        (
            {"a": [{"anything-but": True}]},
            ("Value of anything-but must be an array or single string/number value."),
        ),
        ({"a": [{"anything-but": {}}]}, "Anything-But expression name not found"),
        (
            {"a": [{"anything-but": {"numeric": [">", 1]}}]},
            ("Unsupported anything-but pattern: numeric"),
        ),
        (
            {"a": [{"anything-but": ["x", 1]}]},
            (
                "Inside anything but list, either all values are number or string, "
                "mixed type is not supported"
            ),
        ),
        (
            {"a": [{"anything-but": []}]},
            (
                "Inside anything but list, either all values are number or string, "
                "mixed type is not supported"
            ),
        ),
        ({"a": [{"anything-but": [6e9]}]}, "Value must be between -5.0E9 and 5.0E9, inclusive"),
        ({"a": [{"anything-but": {"suffix": ""}}]}, "Null prefix/suffix not allowed"),
        ({"a": [{"prefix": {"prefix": "x"}}]}, "Unsupported prefix pattern: prefix"),
        ({"a": [{"suffix": {}}]}, "Suffix expression name not found"),
        (
            {"a": [{"prefix": {"equals-ignore-case": 1}}]},
            ("equals-ignore-case match pattern must be a string"),
        ),
        ({"a": [{"cidr": "10.0.0.0/32"}]}, "IPv4 mask bits must be < 32"),
        ({"a": [{"cidr": "::/128"}]}, "IPv6 mask bits must be < 128"),
        ({"a": [{"cidr": "10.0.0.0/-1"}]}, "Malformed CIDR, mask bits must not be negative"),
        ({"a": [{"cidr": "10.0.0.0/8/8"}]}, "Malformed CIDR, one '/' required"),
        ({"a": [{"cidr": "10.0.0.300/8"}]}, "Invalid IP address: 10.0.0.300"),
        ({"a": [{"wildcard": "a\\b"}]}, "Invalid escape character at pos 2"),
        ({"a": [{"wildcard": "ab\\"}]}, "Invalid escape character at pos 3"),
        ({"a": [{"wildcard": "é**"}]}, "Consecutive wildcard characters at pos 3"),
        (
            {"a": [{"anything-but": {"wildcard": "x**"}}]},
            ("Consecutive wildcard characters at pos 2"),
        ),
        ({"a": [{"regex": "x"}]}, "Unrecognized match type regex"),
        ({"$or": {"a": [1]}}, "It must be an Array followed with $or."),
        ({"$or": [{"a": [1]}]}, "There must have at least 2 Objects in $or relationship."),
        ({"$or": [{"a": [1]}, [1]]}, "Only JSON object is allowed in array of $or relationship."),
        ({"$or": [{"a": [1]}, {}]}, "Empty objects are not allowed"),
        (
            {"$or": [{"a": [1]}, {"numeric": [1]}]},
            ("numeric is Ruler reserved fieldName which cannot be used inside $or."),
        ),
    ],
)
def test_rejections(pattern: Any, message: str) -> None:
    assert reason(pattern) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "nope",
            "Unrecognized token 'nope': was expecting (JSON String, Number, Array, "
            "Object or token 'null', 'true' or 'false')",
        ),
        (
            '{"a": [tru]}',
            "Unrecognized token 'tru': was expecting (JSON String, Number, "
            "Array, Object or token 'null', 'true' or 'false')",
        ),
        (
            "{'a': 1}",
            "Unexpected character (''' (code 39)): was expecting double-quote to start field name",
        ),
        (
            '{"a" 1}',
            "Unexpected character ('1' (code 49)): was expecting a colon to separate "
            "field name and value",
        ),
        (
            '{"a": [1 2]}',
            "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries",
        ),
        (
            '{"a": [1] "b": [2]}',
            "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries",
        ),
        (
            '{"a": [1],}',
            "Unexpected character ('}' (code 125)): was expecting double-quote to start field name",
        ),
        ('{"a": [01]}', "Invalid numeric value: Leading zeroes not allowed"),
        (
            '{"a": [1',
            "Unexpected end-of-input: expected close marker for Array (start marker at "
            '[Source: (String)"{"a": [1"; line: 1, column: 7])',
        ),
        (
            '{\n "a": {"b": [1]',
            "Unexpected end-of-input: expected close marker for Object (start marker at "
            '[Source: (String)"{',  # the first line of the message, as AWS reports it
        ),
        (
            '{"a": [1.]}',
            "Unexpected character (']' (code 93)) in numeric value: Decimal point "
            "not followed by a digit",
        ),
        (
            '{"a": [-x]}',
            "Unexpected character ('x' (code 120)) in numeric value: expected "
            "digit (0-9) to follow minus sign, for valid numeric value",
        ),
        ('{"a": ["x', "Unexpected end-of-input: was expecting closing quote for a string value"),
        ('{"a": ["\\q"]}', "Unrecognized character escape 'q' (code 113)"),
        (
            '{"a": [NaN]}',
            "Unrecognized token 'NaN': was expecting (JSON String, Number, Array, "
            "Object or token 'null', 'true' or 'false')",
        ),
        (
            '{"a": ["\x01"]}',
            "Illegal unquoted character ((CTRL-CHAR, code 1)): has to be "
            "escaped using backslash to be included in string value",
        ),
    ],
)
def test_json_syntax_errors_use_jacksons_words(text: str, message: str) -> None:
    assert reason(text) == message


def test_limits() -> None:
    deep = '{"a":' * 1200 + "[1]" + "}" * 1200
    assert "nesting depth" in reason(deep)
    assert matches('{"a":' * 100 + "[1]" + "}" * 100, _nest(100, 1))
    too_many_fields = {f"f{i}": [1] for i in range(257)}
    assert reason(too_many_fields) == "Size of rule exceeds max value of 256"
    parallel_ors = {f"k{i}": {"$or": [{"a": [1]}, {"b": [1]}]} for i in range(10)}
    assert reason(parallel_ors) == "Too many $or combinations (more than 1000)"
    assert reason({"a": [{"wildcard": "*a*b*c*d*e*"}]}).startswith("Rule is too complex")
    assert matches({"a": [{"wildcard": "*a*b*c*d*"}]}, {"a": "xaybzcwd"})
    # repeated sequences after a wildcard count too
    assert reason({"a": [{"wildcard": "*" + "a" * 11}]}).startswith("Rule is too complex")
    assert reason({"a": [{"anything-but": {"wildcard": ["ok*", "*" + "ab" * 10]}}]}).startswith(
        "Rule is too complex"
    )
    assert matches({"a": [{"wildcard": "x*\\*y"}]}, {"a": "xab*y"})


def _nest(depth: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # the rule compiler pulls tokens: an error in what was read wins over later syntax
        ('{"a": "x", "b": [', '"a" must be an object or an array'),
        ('{"a": [{"prefix": 1}], "a": ["ok"]}', "prefix match pattern must be a string"),
        ('{"a": [], "b": nonsense', "Empty arrays are not allowed"),
        (
            '{"a": ["ok"], "b": {',
            "Unexpected end-of-input: expected close marker for Object (start marker at "
            '[Source: (String)"{"a": ["ok"], "b": {"; line: 1, column: 20])',
        ),
    ],
)
def test_errors_in_reading_order(text: str, message: str) -> None:
    assert reason(text) == message


def test_duplicate_object_keys_merge_their_fields() -> None:
    # streamed like EventBridge: both "detail" objects contribute fields; only equal paths override
    text = '{"detail": {"a": [1]}, "detail": {"b": [2], "a": [3]}}'
    assert matches(text, {"detail": {"a": 3, "b": 2}})
    assert not matches(text, {"detail": {"a": 1, "b": 2}})
    assert not matches(text, {"detail": {"a": 3}})


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("\u00b9", "Unexpected character ('\u00b9' (code 185)): expected a valid value"),
        ('{"a": [-\u00b2]}', "Unexpected character ('\u00b2' (code 178)) in numeric value"),
        ('{"a": [1.\u0663]}', "in numeric value: Decimal point not followed by a digit"),
    ],
)
def test_unicode_digits_are_not_json_digits(pattern: str, reason: str) -> None:
    """Only ASCII digits make a JSON number: a superscript or Arabic-Indic digit is an
    unexpected character (it once reached ``int()`` and raised ValueError)."""
    with pytest.raises(InvalidPatternError) as info:
        compile_pattern(pattern)
    assert reason in str(info.value)
