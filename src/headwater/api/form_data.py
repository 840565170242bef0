"""``multipart/form-data`` bodies (RFC 7578), as a browser posts an HTML form: S3's POST
uploads. Parts are kept in order (S3 reads the fields before the file, and ignores what
follows it), their bytes exactly as sent."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

FORM_DATA = "multipart/form-data"


@dataclass(frozen=True, slots=True)
class FormPart:
    """One part of a form: a field (``filename`` None) or a file."""

    name: str
    value: bytes
    filename: str | None = None
    content_type: str | None = None

    @property
    def text(self) -> str:
        """The value as text (UTF-8, as browsers send fields; stray bytes replaced)."""
        return self.value.decode("utf-8", "replace")


class MalformedForm(ValueError):
    """A body that is not the multipart form its Content-Type says."""


def is_form_data(content_type: str) -> bool:
    return content_type.lower().startswith(FORM_DATA)


def _header_params(name: str, value: str) -> Message:
    message = Message()
    message[name] = value
    return message


def parse_form_data(content_type: str, body: bytes) -> list[FormPart]:
    """The parts of a ``multipart/form-data`` body, in order; raises MalformedForm when the
    boundary is missing or no part is delimited by it."""
    boundary = _header_params("content-type", content_type).get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MalformedForm("no boundary in the Content-Type")
    delimiter = b"--" + boundary.encode("latin-1")
    pieces = body.split(delimiter)
    if len(pieces) < 2:
        raise MalformedForm("no part in the body")
    parts: list[FormPart] = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):  # the closing delimiter
            break
        head, separator, data = piece.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise MalformedForm("a part without a blank line after its headers")
        parts.append(_part(head, data.removesuffix(b"\r\n")))
    return parts


def _part(head: bytes, data: bytes) -> FormPart:
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        header, colon, value = line.partition(":")
        if colon:
            headers[header.strip().lower()] = value.strip()
    disposition = _header_params("content-disposition", headers.get("content-disposition", ""))
    name = disposition.get_param("name", header="content-disposition")
    if not isinstance(name, str):
        raise MalformedForm("a part without a name")
    filename = disposition.get_param("filename", header="content-disposition")
    return FormPart(
        name=name,
        value=data,
        filename=filename if isinstance(filename, str) else None,
        content_type=headers.get("content-type"),
    )


def fields_and_file(parts: list[FormPart]) -> tuple[dict[str, str], FormPart | None]:
    """An S3 POST form's fields (names lower-cased: S3 reads them case-insensitively) and
    its file: the part named ``file``, which ends the form (later parts are ignored, as S3
    ignores them); ``None`` when there is none."""
    fields: dict[str, str] = {}
    for part in parts:
        if part.name.lower() == "file":
            return fields, part
        fields.setdefault(part.name.lower(), part.text)
    return fields, None
