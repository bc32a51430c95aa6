"""A loopback TCP proxy that can misbehave on command, between the SDK and a real server.

Modes (``proxy.mode``, switchable at any time; they act on each chunk a client sends):

- ``pass``: forward both ways;
- ``drop``: close the connection without forwarding (the server never sees the request);
- ``502`` / ``503``: answer that HTTP status at once and close (a gateway with no healthy upstream);
- ``delay``: hold each chunk ``delay`` seconds before forwarding it (slow network; long enough, a client timeout);
- ``lose_answer``: forward the request but close the client's connection instead of relaying the answer (the
  server applied the batch; the client never hears so and must retry it).

``hits`` counts the chunks each mode acted on, so a test can check that every fault really happened.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from types import TracebackType

_ERROR_BODY = b'{"error": {"code": "UNAVAILABLE", "message": "proxy says no"}}'
_REASONS = {"502": b"Bad Gateway", "503": b"Service Unavailable"}


def _http_error(status: str) -> bytes:
    head = f"HTTP/1.1 {status} ".encode() + _REASONS[status]
    headers = b"\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "
    return head + headers + str(len(_ERROR_BODY)).encode() + b"\r\n\r\n" + _ERROR_BODY


class FaultyProxy:
    def __init__(self, upstream_port: int, delay: float = 0.3) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.mode = "pass"
        self.delay = delay
        self.hits: Counter[str] = Counter()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="faulty-proxy", daemon=True).start()

    def __enter__(self) -> FaultyProxy:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._closed.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            client.close()
            return
        muted = threading.Event()  # set: the server's answers on this connection are swallowed
        threading.Thread(target=self._answers, args=(upstream, client, muted), daemon=True).start()
        with client, upstream, contextlib.suppress(OSError):  # either side hanging up ends the connection
            while chunk := _recv(client):
                mode = self.mode
                self.hits[mode] += 1
                if mode == "drop":
                    return
                if mode in _REASONS:
                    client.sendall(_http_error(mode))
                    return
                if mode == "delay":
                    time.sleep(self.delay)
                if mode == "lose_answer":
                    muted.set()
                upstream.sendall(chunk)
                if mode == "lose_answer":
                    time.sleep(0.2)  # let the server apply the request before the client is cut off
                    return

    def _answers(self, upstream: socket.socket, client: socket.socket, muted: threading.Event) -> None:
        while chunk := _recv(upstream):
            if muted.is_set():
                continue
            try:
                client.sendall(chunk)
            except OSError:
                return


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""
