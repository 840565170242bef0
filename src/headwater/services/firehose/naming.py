"""Where Firehose writes an object: the evaluated prefix and the object's own name.

AWS's rules (its "Custom Prefixes for Amazon S3 Objects" and "Amazon S3 Object Name
Format" pages): a prefix without expressions is followed by the UTC hour of the object's
oldest record, ``YYYY/MM/dd/HH/``; failed records go under ``<Prefix>processing-failed/``
then that hour when there is no ErrorOutputPrefix. A prefix with expressions is evaluated
instead: ``!{timestamp:<Java DateTimeFormatter pattern>}`` (the oldest record's arrival,
UTC) and ``!{firehose:error-output-type}`` / ``!{firehose:random-string}``. The object's
name is ``<stream>-<version>-YYYY-MM-dd-HH-mm-ss-<uuid>`` (``.gz`` after it for GZIP).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from headwater.core.errors import AwsError

_EXPRESSION = re.compile(r"!\{([^}:]*):([^}]*)\}")
#: Java DateTimeFormatter letters headwater evaluates -> strftime directives.
_PATTERN_LETTERS = {
    "yyyy": "%Y",
    "uuuu": "%Y",
    "yy": "%y",
    "MM": "%m",
    "dd": "%d",
    "HH": "%H",
    "mm": "%M",
    "ss": "%S",
}
_PATTERN_TOKEN = re.compile(r"'[^']*'|yyyy|uuuu|yy|MM|dd|HH|mm|ss|[A-Za-z]+|[^A-Za-z']+")
PROCESSING_FAILED = "processing-failed"


def invalid_argument(message: str) -> AwsError:
    return AwsError("InvalidArgumentException", message)


def has_expressions(prefix: str) -> bool:
    return "!{" in prefix


def check_prefixes(prefix: str, error_prefix: str | None) -> None:
    """Refuse, at create/update, prefixes Firehose cannot evaluate (texts are guesses in
    AWS's style: an expression it does not know, or one left unclosed)."""
    for given in (prefix, error_prefix or ""):
        if given.count("!{") != len(_EXPRESSION.findall(given)):
            raise invalid_argument(f"The expression in prefix {given} is not closed.")
        for namespace, value in _EXPRESSION.findall(given):
            if namespace == "timestamp":
                _strftime_pattern(value)
            elif namespace == "firehose":
                if value not in ("error-output-type", "random-string"):
                    raise invalid_argument(
                        f"Unsupported firehose expression: !{{firehose:{value}}}"
                    )
            elif namespace in ("partitionKeyFromQuery", "partitionKeyFromLambda"):
                raise invalid_argument(
                    "headwater does not support dynamic partitioning expressions "
                    f"(!{{{namespace}:{value}}})."
                )
            else:
                raise invalid_argument(f"Unsupported namespace in prefix: {namespace}")
    if has_expressions(prefix) and not error_prefix:
        # AWS's rule: a prefix with expressions needs an ErrorOutputPrefix.
        raise invalid_argument(
            "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions."
        )


def _strftime_pattern(pattern: str) -> str:
    out = []
    for token in _PATTERN_TOKEN.findall(pattern):
        if token.startswith("'"):
            out.append(token[1:-1].replace("%", "%%") or "'")
        elif token in _PATTERN_LETTERS:
            out.append(_PATTERN_LETTERS[token])
        elif token[0].isalpha():
            raise invalid_argument(
                f"headwater does not evaluate the timestamp pattern letters {token!r} "
                "(it knows yyyy, yy, MM, dd, HH, mm, ss and quoted text)."
            )
        else:
            out.append(token.replace("%", "%%"))
    return "".join(out)


def _hour_path(moment: dt.datetime) -> str:
    return moment.strftime("%Y/%m/%d/%H/")


def evaluate_prefix(prefix: str, oldest: float, error_type: str | None = None) -> str:
    """``prefix`` evaluated for an object whose oldest record arrived at ``oldest``;
    ``error_type`` for the error output prefix (``processing-failed``)."""
    moment = dt.datetime.fromtimestamp(oldest, dt.UTC)
    if not has_expressions(prefix):
        folder = f"{error_type}/" if error_type else ""
        return f"{prefix}{folder}{_hour_path(moment)}"

    def replace(match: re.Match[str]) -> str:
        namespace, value = match.group(1), match.group(2)
        if namespace == "timestamp":
            return moment.strftime(_strftime_pattern(value))
        if value == "error-output-type":
            return error_type or ""
        return uuid.uuid4().hex[:11]

    return _EXPRESSION.sub(replace, prefix)


def object_name(stream: str, version: int, oldest: float, extension: str) -> str:
    """The object's name after its prefix."""
    stamp = dt.datetime.fromtimestamp(oldest, dt.UTC).strftime("%Y-%m-%d-%H-%M-%S")
    return f"{stream}-{version}-{stamp}-{uuid.uuid4()}{extension}"
