"""A function that records every event it is invoked with, for tests of what reaches it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from headwater import Headwater

#: The recorder's code: each event appended to the file named by $OUT, one JSON per line
#: (``handle`` as a file handler, ``handler`` for SAM's InlineCode ``index.handler``).
RECORDER = """\
import json, os
def handle(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
handler = handle
"""


def make_recorder(hw: Headwater, tmp_path: Path, name: str = "recorder") -> tuple[str, Path]:
    """A recorder function ``name``; (its ARN, the file it writes)."""
    code = tmp_path / f"code-{name}"
    code.mkdir()
    (code / "app.py").write_text(RECORDER)
    out = tmp_path / f"{name}.jsonl"
    arn = hw.lambda_.create_function_from_directory(
        name, code, "app.handle", environment={"OUT": str(out)}
    )["FunctionArn"]
    return arn, out


def recorded(out: Path) -> list[Any]:
    """The events a recorder wrote to ``out`` (none yet: ``[]``)."""
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines()]
