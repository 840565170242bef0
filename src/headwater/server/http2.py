"""HTTP/1.1 and HTTP/2 (h2c, prior knowledge) on one port.

The AWS SDK for JavaScript v3 speaks HTTP/2 to Kinesis without negotiating it: over
``http://`` it opens the connection with the HTTP/2 preface (RFC 9113 §3.3), as AWS's
endpoints accept. Each new cleartext connection's first bytes are sniffed: the preface
hands the connection to uvicorn's HTTP/2 protocol (the ``zttp`` parser, by uvicorn's
maintainer), anything else to uvicorn's httptools HTTP/1.1 protocol, so HTTP/1.1 clients
(boto3, the AWS CLI) keep the fastest parser and pay one ``startswith`` per connection.
This is uvicorn's own ``AutoZttpProtocol`` with httptools, not zttp, on the HTTP/1.1 side.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.auto_zttp_impl import AutoZttpProtocol
from uvicorn.protocols.http.zttp_h2_impl import ZttpH2Protocol

from headwater.server.asgi import HeadwaterApp
from headwater.server.http1 import Http1Protocol


class HttpOrH2cProtocol(AutoZttpProtocol):
    """uvicorn's HTTP protocol for a connection: HTTP/2 if it opens with the preface."""

    def _switch(self, http2: bool, initial_data: bytes = b"") -> None:
        protocol: asyncio.Protocol
        if http2:
            protocol = ZttpH2Protocol(
                config=self.config,
                server_state=self.server_state,
                app_state=self.app_state,
                _loop=self.loop,
            )
        else:
            app = self.config.app
            assert isinstance(app, HeadwaterApp), "headwater serves its own app"
            protocol = Http1Protocol(
                app,
                self.server_state,
                keep_alive_s=self.config.timeout_keep_alive,
                loop=self.loop,
            )
        self.transport.set_protocol(protocol)
        protocol.connection_made(self.transport)
        if initial_data:
            protocol.data_received(initial_data)
