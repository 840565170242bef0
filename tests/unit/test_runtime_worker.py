"""Worker-side pieces that need no process: handler loading, marshalling, error shapes."""

from __future__ import annotations

import datetime as dt
import decimal
import signal
import sys
from pathlib import Path

import pytest

from headwater.runtime import worker
from headwater.runtime.invocation import exit_reason
from headwater.runtime.python_worker import FrameReader, encode_frame


def test_encode_result_follows_lambda_json_rules() -> None:
    assert worker.encode_result({"a": [1, "b", None]}) == b'{"a":[1,"b",null]}'
    assert worker.encode_result(decimal.Decimal("2")) == b"2"
    assert worker.encode_result(decimal.Decimal("2.5")) == b"2.5"
    assert worker.encode_result({1: "int key"}) == b'{"1": "int key"}'
    for value, type_name in [({1}, "set"), (dt.datetime(2024, 1, 1), "datetime"), (b"x", "bytes")]:
        with pytest.raises(worker.FaultError) as caught:
            worker.encode_result(value)
        assert caught.value.error_type == "Runtime.MarshalError"
        assert caught.value.message == (
            f"Unable to marshal response: Object of type {type_name} is not JSON serializable"
        )


def test_load_handler_faults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wmod_ok.py").write_text("def handler(e, c):\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert worker.load_handler("wmod_ok.handler")(None, None) == 1
    cases = {
        "nodots": (
            "Runtime.MalformedHandlerName",
            "Bad handler 'nodots': not enough values to unpack (expected 2, got 1)",
        ),
        "wmod_ok.absent": (
            "Runtime.HandlerNotFound",
            "Handler 'absent' missing on module 'wmod_ok'",
        ),
        "wmod_nope.handler": (
            "Runtime.ImportModuleError",
            "Unable to import module 'wmod_nope': No module named 'wmod_nope'",
        ),
        "sys.handler": (
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module sys as a handler module",
        ),
    }
    for handler, (error_type, message) in cases.items():
        with pytest.raises(worker.FaultError) as caught:
            worker.load_handler(handler)
        assert (caught.value.error_type, caught.value.message) == (error_type, message)
    sys.modules.pop("wmod_ok", None)


def test_exception_body_shape() -> None:
    def user_code() -> None:
        raise RuntimeError("boom")

    try:
        user_code()
    except RuntimeError as exc:
        body = worker.exception_body(exc, "rid-1")
    assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert body["errorMessage"] == "boom"
    assert body["errorType"] == "RuntimeError"
    assert body["requestId"] == "rid-1"
    assert any("in user_code" in frame for frame in body["stackTrace"])
    text = worker.error_log_text(body)
    assert text.startswith("[ERROR] RuntimeError: boom\nTraceback (most recent call last):\n")


def test_frames_roundtrip_in_pieces() -> None:
    data = encode_frame({"id": "x"}, b'{"k": 1}') + encode_frame({"id": "y"}, b"")
    reader = FrameReader()
    frames = []
    for i in range(len(data)):
        reader.feed(data[i : i + 1])
        while (frame := reader.next_frame()) is not None:
            frames.append(frame)
    assert [(f.header, f.body) for f in frames] == [({"id": "x"}, b'{"k": 1}'), ({"id": "y"}, b"")]


def test_exit_reason_wording() -> None:
    assert exit_reason(0) == "Runtime exited without providing a reason"
    assert exit_reason(2) == "Runtime exited with error: exit status 2"
    assert exit_reason(-signal.SIGKILL) == "Runtime exited with error: signal: killed"


def _vmhwm_mb() -> int:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024


def test_peak_memory_is_vmhwm_read_again_after_page_faults() -> None:
    # the REPORT line's Max Memory Used: VmHWM, read from /proc again when the process
    # took a page fault since the last read (resident memory only grows by faulting)
    peak = worker._PeakMemory()
    before = _vmhwm_mb()
    assert before <= peak.megabytes() <= _vmhwm_mb()
    grown = b"x" * (64 << 20)  # 64 MB faulted in: the peak moves
    before = _vmhwm_mb()
    assert before <= peak.megabytes() <= _vmhwm_mb()
    assert peak.megabytes() >= before >= 64
    assert len(grown) == 64 << 20
