"""uvicorn's HTTP protocol with the limits uvicorn lacks: a deadline for a request's headers, their size and
count, and open connections per client address.

A client that sends its headers a byte at a time would otherwise hold a connection for as long as it likes;
here the headers of each request must arrive within ``header_timeout`` seconds of the connection opening
(or of the previous response), else the connection is closed. Headers over ``max_header_bytes`` in all (counted
as they arrive, before the parser buffers them) or more than ``max_headers`` of them get 431 and the
connection is closed; a client address holding ``max_connections`` open connections has further ones closed
at once, so one client's thousand half-open connections leave room for everybody else.
"""

from __future__ import annotations

import asyncio
import collections
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger(__name__)


TOO_LARGE = b"request headers too large"


class LimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines and bounds on request heads and connections per client (the
    limits are class attributes, set by ``limited_protocol``)."""

    header_timeout = 10.0
    max_header_bytes = 65536
    max_headers = 100
    max_connections = 0  # open connections per client address; 0: no limit
    open_by_client: collections.Counter[str] = collections.Counter()  # one event loop: no lock needed

    @classmethod
    def configure(cls, settings) -> None:
        """Take the limits from the settings (a worker process: uvicorn imports this class by name)."""
        cls.header_timeout = settings.header_timeout_seconds
        cls.max_header_bytes = int(settings.max_header_kb * 1024)
        cls.max_headers = settings.max_headers
        cls.max_connections = settings.max_connections_per_client

    _deadline: asyncio.TimerHandle | None = None
    _head_bytes = 0  # bytes received while the current request's head was incomplete
    _header_count = 0
    _header_bytes = 0  # bytes of the headers parsed so far
    _in_head = True
    _refused = False
    _counted: str | None = None

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        counting = self._in_head
        super().data_received(data)
        if counting and self._in_head:  # the head is still incomplete after this piece: count it
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._refuse_head()

    def on_message_begin(self) -> None:
        self._head_bytes, self._header_count, self._header_bytes, self._in_head = 0, 0, 0, True
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value)
        if self._header_count > self.max_headers or self._header_bytes > self.max_header_bytes:
            self._refuse_head()
            return
        super().on_header(name, value)

    def _refuse_head(self) -> None:
        """431 and the connection closed: the request is never handed to the app."""
        if self._refused:
            return
        self._refused = True
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(TOO_LARGE), TOO_LARGE)
            )
            self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            logger.info("closing a connection whose request headers took over %.0f s", self.header_timeout)
            self.transport.close()

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        client = peer[0] if isinstance(peer, tuple) and peer else "-"
        if self.max_connections and self.open_by_client[client] >= self.max_connections:
            logger.info("closing a connection: %s already holds %d open", client, self.max_connections)
            self._refused = True
            transport.close()
            return
        self.open_by_client[client] += 1
        self._counted = client
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._in_head = False
        if self._refused:
            return
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this connection gets the same deadline

    def connection_lost(self, exc) -> None:
        self._disarm()
        if self._counted is not None:
            self.open_by_client[self._counted] -= 1
            if self.open_by_client[self._counted] <= 0:
                del self.open_by_client[self._counted]
            self._counted = None
        super().connection_lost(exc)


def limited_protocol(
    seconds: float, *, max_header_bytes: int = 65536, max_headers: int = 100, max_connections: int = 0
) -> type[HttpToolsProtocol]:
    """``LimitedProtocol`` with these limits (and its own count of open connections per client)."""
    limits = {
        "header_timeout": seconds,
        "max_header_bytes": max_header_bytes,
        "max_headers": max_headers,
        "max_connections": max_connections,
        "open_by_client": collections.Counter(),
    }
    return type("LimitedProtocol", (LimitedProtocol,), limits)
