"""The framing of ``aws-chunked`` bodies (S3 streaming uploads), read in one place.

A body is chunks ``<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n``, a zero-size chunk
last, then trailing ``name:value`` header lines. ``rest_xml`` takes the payload and the
trailers out of it; ``sigv4`` checks each chunk's signature when signatures are verified.
"""

from __future__ import annotations


class ChunkFramingError(ValueError):
    """The body is not ``aws-chunked`` framing (S3 answers ``IncompleteBody``)."""


def split_chunks(body: bytes, *, strict: bool) -> tuple[list[tuple[memoryview, bytes]], int]:
    """Each chunk's data and extension (``chunk-signature=...``, or ``b""``), the final
    empty chunk included, and where the trailer lines start; raises ``ChunkFramingError``.

    ``strict``: a chunk's data must be followed by ``\\r\\n`` (the signature check insists;
    the payload reader lets a missing one pass).
    """
    view = memoryview(body)
    found: list[tuple[memoryview, bytes]] = []
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            raise ChunkFramingError
        size_text, _, extension = bytes(view[position:line_end]).partition(b";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise ChunkFramingError from None
        position = line_end + 2
        if size < 0 or position + size > len(body):
            raise ChunkFramingError
        found.append((view[position : position + size], extension))
        position += size
        if size == 0:
            return found, position
        if body[position : position + 2] == b"\r\n":
            position += 2
        elif strict:
            raise ChunkFramingError


def trailer_lines(body: bytes, start: int) -> list[tuple[bytes, bytes]]:
    """The ``(name, value)`` pairs, stripped and in order, of the ``name:value`` lines from
    ``start`` (``split_chunks``'s trailer position) on."""
    pairs: list[tuple[bytes, bytes]] = []
    for line in body[start:].split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if colon:
            pairs.append((name.strip(), value.strip()))
    return pairs
