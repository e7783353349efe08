"""uvicorn's httptools protocol with a cap on the request head while it is read, and a deadline for it (`exitus serve`
uses it)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a cap on the request head while it is read: uvicorn caps it only for h11,
    and httptools holds a header of any size in memory. Beyond `max_header_bytes` received before the head ends,
    or beyond `max_header_count` header fields, the client gets 431 problem+json and the connection is closed.
    A request head must also arrive whole within `head_timeout` seconds of the connection's opening or of the
    request's first byte (uvicorn has no such deadline: a client sending its head a byte at a time would hold its
    connection for ever): 408 problem+json, and the connection is closed. Use it with functools.partial
    (picklable, for uvicorn's worker processes); EdgeMiddleware checks the same
    limits on what reaches the application."""

    def __init__(
        self, *args: Any, max_header_bytes: int, max_header_count: int, head_timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_header_bytes = max_header_bytes
        self.max_header_count = max_header_count
        self.head_timeout = head_timeout
        self._head_deadline: asyncio.TimerHandle | None = None
        self._in_head = True  # reading a request head (the first, or the next one on this connection)
        self._head_bytes = 0
        self._header_count = 0
        self._head_problem: str | None = None

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def _start_head_deadline(self) -> None:
        self._cancel_head_deadline()
        self._head_deadline = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if self._in_head and not self.transport.is_closing():
            self._head_problem = f"the request head did not arrive within {self.head_timeout:g} seconds"
            self._reject_head(408, b"Request Timeout")

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self.max_header_bytes and not self.transport.is_closing():
            self._head_problem = f"the request head is larger than {self.max_header_bytes} bytes"
            self._reject_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._header_count = 0
        if self._head_deadline is None:  # a keep-alive connection's next request: its own deadline
            self._start_head_deadline()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.max_header_count:
            self._head_problem = f"the request has more than {self.max_header_count} header fields"
            raise _HeadTooLarge  # httptools stops parsing; uvicorn answers through send_400_response
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._cancel_head_deadline()
        self._in_head = False
        self._head_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True

    def send_400_response(self, msg: str) -> None:
        if self._head_problem is None:
            super().send_400_response(msg)
        else:
            self._reject_head()

    def _reject_head(self, status: int = 431, reason: bytes = b"Request Header Fields Too Large") -> None:
        # Here, not at the top: uvicorn's worker processes import this module (unpickling their settings) before
        # the application factory has quietened the warnings that importing Connexion prints.
        from exitus.edge import REQUEST_ID_HEADER, SECURITY_HEADERS, record_request
        from exitus.errors import problem_response

        request_id = uuid.uuid4().hex
        self._cancel_head_deadline()
        problem_type = "request-timeout" if status == 408 else "headers-too-large"
        response = problem_response(
            status, self._head_problem, problem_type=problem_type, extensions={"request_id": request_id}
        )
        body = response.body.encode()
        head = [
            b"HTTP/1.1 " + str(status).encode() + b" " + reason,
            b"content-type: " + response.content_type.encode(),
            b"content-length: " + str(len(body)).encode(),
            b"connection: close",
            REQUEST_ID_HEADER + b": " + request_id.encode(),
            *(name + b": " + value for name, value in SECURITY_HEADERS),
        ]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()
        try:
            method = self.parser.get_method().decode("ascii", "replace")
        except (httptools.HttpParserError, AttributeError):
            method = ""  # the request line itself was too long
        record_request(method, "unmatched", status, 0.0, {"path": ""})


class _HeadTooLarge(Exception):
    """Raised in a parser callback to stop httptools; the protocol then answers 431."""
