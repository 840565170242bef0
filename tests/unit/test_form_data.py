"""``multipart/form-data`` bodies as browsers post them: parts in order, bytes exact."""

from __future__ import annotations

import pytest
from urllib3.filepost import encode_multipart_formdata

from headwater.api.form_data import MalformedForm, fields_and_file, parse_form_data


def test_parts_keep_their_order_names_and_exact_bytes() -> None:
    binary = b"\r\n--not-the-boundary\r\n\x00\xff\r\n\r\n"
    body, content_type = encode_multipart_formdata(
        [
            ("Key", "uploads/${filename}"),
            ("x-amz-meta-note", "é"),
            ("file", ("C:\\photos\\cat.jpg", binary, "image/jpeg")),
            ("after", "ignored"),
        ]
    )
    parts = parse_form_data(content_type, body)
    assert [part.name for part in parts] == ["Key", "x-amz-meta-note", "file", "after"]
    assert parts[1].text == "é"
    assert parts[2].value == binary
    assert (parts[2].filename, parts[2].content_type) == ("C:\\photos\\cat.jpg", "image/jpeg")
    fields, file = fields_and_file(parts)
    assert fields == {"key": "uploads/${filename}", "x-amz-meta-note": "é"}
    assert file is parts[2]


def test_a_form_without_a_file_has_none() -> None:
    body, content_type = encode_multipart_formdata([("key", "k")])
    assert fields_and_file(parse_form_data(content_type, body)) == ({"key": "k"}, None)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n\r\n"),  # no boundary
        ("multipart/form-data; boundary=x", b"nothing"),  # no part
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Type: a/b\r\n\r\nv\r\n--x--"),
    ],
)
def test_malformed_bodies_are_refused(content_type: str, body: bytes) -> None:
    with pytest.raises(MalformedForm):
        parse_form_data(content_type, body)
