"""Text as XML 1.0 can carry it: escaped, and never a character XML forbids.

XML 1.0 allows only ``#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF``,
not even as character references, so one stray control character (or a lone surrogate
from a request that was not UTF-8) would make the whole document unreadable to every
client. The services reject such characters on the way in (AWS's ``InvalidMessageContents``
and parameter errors); this is the last guard on the way out, and keeps error messages
from echoing NUL bytes and other control characters back.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

#: Characters XML 1.0 forbids.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _visible(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def xml_safe(text: str) -> str:
    """``text`` with each character XML 1.0 forbids written as a visible ``\\uXXXX``."""
    if NOT_XML.search(text) is None:
        return text
    return NOT_XML.sub(_visible, text)


def xml_escape(text: str, entities: dict[str, str] | None = None) -> str:
    """``text`` escaped for an XML element or attribute, forbidden characters made visible."""
    return escape(xml_safe(text), entities or {})
