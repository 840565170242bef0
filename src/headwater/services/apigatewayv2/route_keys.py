"""Route keys (``GET /items/{id}``, ``ANY /{proxy+}``, ``$default``) and how a request is
matched to one, as API Gateway's HTTP APIs choose: the most specific route first (full
literal paths, then paths with ``{param}`` segments, literal segments counting before
parameters, a greedy ``{proxy+}`` last), a route of the request's method before an
``ANY`` route of the same path, then ``$default``. Pure logic, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from headwater.core.errors import AwsError

DEFAULT_ROUTE = "$default"
METHODS = frozenset({"ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})
_PARAMETER = re.compile(r"\{([A-Za-z0-9._:-]+)(\+?)\}")


@dataclass(frozen=True, slots=True)
class RouteKey:
    """A parsed route key: its method (``ANY`` for any) and path segments."""

    key: str
    method: str
    segments: tuple[str, ...]

    @property
    def greedy(self) -> bool:
        return bool(self.segments) and self.segments[-1].endswith("+}")

    @property
    def path(self) -> str:
        return "/" + "/".join(self.segments)

    def rank(self) -> tuple[int, ...]:
        """Sort key, most specific first: no greedy tail, more segments, literal segments
        before parameters position by position, a named method before ANY."""
        literal_marks = tuple(0 if s.startswith("{") else 1 for s in self.segments)
        return (
            0 if self.greedy else 1,
            len(self.segments),
            *literal_marks,
            0 if self.method == "ANY" else 1,
        )


def parse_route_key(key: str) -> RouteKey | None:
    """``key`` parsed (``None``: ``$default``); a malformed key is a BadRequestException as
    CreateRoute answers it (text AWS-like, a guess)."""
    if key == DEFAULT_ROUTE:
        return None
    method, _, path = key.partition(" ")
    if method not in METHODS or not path.startswith("/") or " " in path:
        raise AwsError(
            "BadRequestException", f"Unable to create route {key}: invalid route key", status=400
        )
    segments = tuple(s for s in path.split("/") if s)
    for index, segment in enumerate(segments):
        if "{" in segment or "}" in segment:
            found = _PARAMETER.fullmatch(segment)
            if found is None or (found.group(2) and index != len(segments) - 1):
                raise AwsError(
                    "BadRequestException",
                    f"Unable to create route {key}: a greedy path variable must be the last "
                    "path part, and a path variable must be a whole path part",
                    status=400,
                )
    return RouteKey(key, method, segments)


def _match_segments(route: RouteKey, parts: list[str]) -> dict[str, str] | None:
    parameters: dict[str, str] = {}
    segments = route.segments
    if route.greedy:
        fixed = segments[:-1]
        # {proxy+} needs at least one segment of its own
        if len(parts) <= len(fixed):
            return None
    elif len(parts) != len(segments):
        return None
    for index, segment in enumerate(segments):
        found = _PARAMETER.fullmatch(segment)
        if found is None:
            if parts[index] != segment:
                return None
            continue
        if found.group(2):
            parameters[found.group(1)] = unquote("/".join(parts[index:]))
            break
        parameters[found.group(1)] = unquote(parts[index])
    return parameters


def match_route(keys: list[str], method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The route key among ``keys`` a request matches, with its path parameters (``None``:
    no route, not even ``$default``)."""
    parts = [p for p in path.split("/") if p]
    candidates: list[tuple[tuple[int, ...], str, dict[str, str]]] = []
    for key in keys:
        if key == DEFAULT_ROUTE:
            continue
        try:
            route = parse_route_key(key)
        except AwsError:
            continue
        if route is None or route.method not in (method, "ANY"):
            continue
        parameters = _match_segments(route, parts)
        if parameters is not None:
            candidates.append((route.rank(), key, parameters))
    if candidates:
        candidates.sort(key=lambda found: found[0], reverse=True)
        return candidates[0][1], candidates[0][2]
    if DEFAULT_ROUTE in keys:
        return DEFAULT_ROUTE, {}
    return None
