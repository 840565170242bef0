"""HTTP/1.1 and HTTP/2 (h2c, prior knowledge) on one port.

The AWS SDK for JavaScript v3 speaks HTTP/2 to Kinesis without negotiating it: over
``http://`` it opens the connection with the HTTP/2 preface (RFC 9113 §3.3), as AWS's
endpoints accept. Each new cleartext connection's first bytes are sniffed: the preface
hands the connection to uvicorn's HTTP/2 protocol (the ``zttp`` parser, by uvicorn's
maintainer), anything else to uvicorn's httptools HTTP/1.1 protocol, so HTTP/1.1 clients
(boto3, the AWS CLI) keep the fastest parser and pay one ``startswith`` per connection.
This is uvicorn's own ``AutoZttpProtocol`` with httptools, not zttp, on the HTTP/1.1 side.

Each connection is also checked once, when it is made, for who is at the other end
(``RequestPolicy.connection_refusal``: another user's process); a refused connection has
every request answered with the refusal, over either protocol.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.auto_zttp_impl import AutoZttpProtocol
from uvicorn.protocols.http.zttp_h2_impl import ZttpH2Protocol

from headwater.server.asgi import HeadwaterApp
from headwater.server.http1 import Http1Protocol
from headwater.server.request_checks import Refusal


class HttpOrH2cProtocol(AutoZttpProtocol):
    """uvicorn's HTTP protocol for a connection: HTTP/2 if it opens with the preface."""

    #: Why every request on this connection is refused (found once, when it is made).
    refusal: Refusal | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.refusal = self._app().policy.connection_refusal(transport)
        super().connection_made(transport)

    def _switch(self, http2: bool, initial_data: bytes = b"") -> None:
        protocol: asyncio.Protocol
        if http2:
            http2_protocol = ZttpH2Protocol(
                config=self.config,
                server_state=self.server_state,
                app_state=self.app_state,
                _loop=self.loop,
            )
            if self.refusal is not None:
                http2_protocol.app = self._app().refusing(self.refusal)
            protocol = http2_protocol
        else:
            protocol = Http1Protocol(
                self._app(),
                self.server_state,
                keep_alive_s=self.config.timeout_keep_alive,
                loop=self.loop,
                refusal=self.refusal,
            )
        self.transport.set_protocol(protocol)
        protocol.connection_made(self.transport)
        if initial_data:
            protocol.data_received(initial_data)

    def _app(self) -> HeadwaterApp:
        app = self.config.app
        assert isinstance(app, HeadwaterApp), "headwater serves its own app"
        return app
