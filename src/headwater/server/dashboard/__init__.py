"""The web dashboard at ``/_headwater/``: server-rendered pages, live through htmx polling.

Pages are Jinja2 templates; each section re-fetches its own HTML fragment every two
seconds (htmx ``hx-trigger="every 2s"``), so there is no client-side application to
keep in step with the server. htmx 2 (BSD Zero Clause) is vendored in ``static/``.

The one state change, "redrive back" (StartMessageMoveTask), is a POST that must carry
the ``X-Headwater-Dashboard`` header and, when the browser sends an ``Origin``, come from
this very server: a cross-site page can send neither a custom header nor a same-origin
``Origin`` without a CORS preflight, which headwater never grants.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jinja2
import orjson

from headwater.api.http import WireRequest, WireResponse
from headwater.core.errors import AwsError
from headwater.server.dashboard import views
from headwater.services.base import RequestContext

if TYPE_CHECKING:
    from headwater.app import Headwater

log = logging.getLogger(__name__)

PREFIX = "/_headwater/"
CSRF_HEADER = "x-headwater-dashboard"
FRAGMENTS = ("mappings", "queues", "streams", "functions", "alarms", "records")
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}


@cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("headwater.server.dashboard", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _html(template: str, status: int = 200, **context: Any) -> WireResponse:
    body = _templates().get_template(template).render(**context).encode("utf-8")
    headers = [
        ("Cache-Control", "no-store"),
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'"),
    ]
    return WireResponse(status, body, "text/html; charset=utf-8", headers)


def _json(status: int, value: Any) -> WireResponse:
    return WireResponse(status, orjson.dumps(value), "application/json")


class Dashboard:
    """Answers ``/_headwater/...`` requests for one ``Headwater``."""

    def __init__(self, hw: Headwater) -> None:
        self.hw = hw

    def handle(self, request: WireRequest) -> WireResponse:
        path = request.raw_path.split("?", 1)[0][len(PREFIX) :]
        try:
            if request.method == "POST" and path == "api/redrive":
                return self._redrive(request)
            if path == "ses/messages" and request.method in ("GET", "DELETE"):
                return self._ses_messages(request)
            if request.method not in ("GET", "HEAD"):
                return _json(405, {"message": "method not allowed"})
            if path == "":
                return _html("index.html", hw=self.hw)
            if path.startswith("static/"):
                return self._static(path.removeprefix("static/"))
            if path.startswith("fragments/") and path.removeprefix("fragments/") in FRAGMENTS:
                name = path.removeprefix("fragments/")
                rows = getattr(views, name if name != "records" else "recent_records")(self.hw)
                return _html(f"{name}.html", rows=rows)
            if path.startswith("api/journey/"):
                record_id = unquote(path.removeprefix("api/journey/"))
                steps = views.journey(self.hw, record_id)
                hidden = ("when", "where")
                return _json(200, [{k: v for k, v in s.items() if k not in hidden} for s in steps])
            if path.startswith("journey/"):
                record_id = unquote(path.removeprefix("journey/"))
                return _html(
                    "journey.html", record_id=record_id, steps=views.journey(self.hw, record_id)
                )
            if path == "journey":
                query = dict(parse_qsl(request.query_string))
                record_id = query.get("id", "").strip()
                return _html(
                    "journey.html", record_id=record_id, steps=views.journey(self.hw, record_id)
                )
            if path.startswith("functions/"):
                name = unquote(path.removeprefix("functions/"))
                region = dict(parse_qsl(request.query_string)).get("region", self.hw.env.region)
                lines = views.function_log(self.hw, region, name)
                return _html("function.html", name=name, region=region, lines=lines)
        except Exception:
            log.exception("dashboard %s failed", request.raw_path)
            return _json(500, {"message": "dashboard error"})
        return _json(404, {"message": f"no dashboard page {request.raw_path}"})

    def _static(self, name: str) -> WireResponse:
        suffix = name[name.rfind(".") :] if "." in name else ""
        if "/" in name or suffix not in STATIC_TYPES:
            return _json(404, {"message": "not found"})
        try:
            data = (
                resources.files("headwater.server.dashboard").joinpath("static", name).read_bytes()
            )
        except FileNotFoundError:
            return _json(404, {"message": "not found"})
        return WireResponse(200, data, STATIC_TYPES[suffix], [("Cache-Control", "max-age=3600")])

    def _ses_messages(self, request: WireRequest) -> WireResponse:
        """The messages SES accepted (``?region=`` narrows them), as JSON; DELETE forgets
        them (from this server's pages and scripts only, as the redrive)."""
        ses = self.hw.service("ses")
        if request.method == "DELETE":
            refusal = refuse_cross_site(request)
            if refusal is not None:
                return refusal
            return _json(200, {"deleted": ses.clear_sent_messages()})
        region = dict(parse_qsl(request.query_string)).get("region")
        return _json(200, {"messages": ses.sent_messages(region=region)})

    def _redrive(self, request: WireRequest) -> WireResponse:
        refusal = refuse_cross_site(request)
        if refusal is not None:
            return refusal
        form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                form = {k: str(v) for k, v in orjson.loads(request.body).items()}
            except (orjson.JSONDecodeError, AttributeError):
                return _json(400, {"message": "malformed JSON"})
        source = form.get("source_arn", "")
        sqs = self.hw.existing_service("sqs")
        if sqs is None or not source.startswith("arn:aws:sqs:"):
            return _json(400, {"message": "source_arn must name a queue"})
        region = source.split(":")[3]
        ctx = RequestContext(region=region, account=self.hw.env.account)
        try:
            started = sqs.call("StartMessageMoveTask", {"SourceArn": source}, ctx)
        except AwsError as error:
            return _html("redrive.html", 400, ok=False, message=f"{error.code}: {error.message}")
        return _html(
            "redrive.html", ok=True, message=f"Redrive started ({started['TaskHandle'][:12]}...)"
        )


def refuse_cross_site(request: WireRequest) -> WireResponse | None:
    """403 unless the request carries the dashboard header and, if any, a same-origin Origin."""
    if request.headers.get(CSRF_HEADER) != "1":
        return _json(403, {"message": "missing X-Headwater-Dashboard header"})
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        return _json(403, {"message": f"cross-origin request from {origin} refused"})
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return _json(403, {"message": "cross-site request refused"})
    return None
