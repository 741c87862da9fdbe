"""A real HTTP server on 127.0.0.1 for API adapter tests: each test routes (method, path
pattern) to a handler; handlers see the parsed request and return (status, headers, body) or
sleep to provoke a timeout; a body given as a list of (delay_s, bytes) pieces is streamed, each
piece after its delay (no Content-Length: the body ends when the connection closes). Every request is recorded (header names lower-cased) for assertions;
an exception in a handler is answered with status 599 and kept in ``errors``."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlparse


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body or b"{}")


Handler = Callable[[Request], tuple[int, dict[str, str], bytes]]


@dataclass
class Server:
    routes: list[tuple[str, re.Pattern, Handler]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern + "$"), handler))

    def start(self) -> str:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlparse(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}  # header names are case-insensitive
                request = Request(method, url.path, parse_qs(url.query), headers, body)
                server.requests.append(request)
                for route_method, pattern, handler in server.routes:
                    if route_method == method and pattern.match(url.path):
                        try:
                            status, headers, payload = handler(request)
                        except Exception as exc:  # a failed assertion in a handler: answer 599, visibly
                            status, headers, payload = 599, {}, f"handler error: {exc!r}".encode()
                            server.errors.append(exc)
                        break
                else:
                    status, headers, payload = 404, {"Content-Type": "application/json"}, b'{"detail": "no route"}'
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    if isinstance(payload, list):  # streamed (HTTP/1.0: the body ends when the connection closes)
                        self.end_headers()
                        for delay, piece in payload:
                            time.sleep(delay)
                            self.wfile.write(piece)
                            self.wfile.flush()
                    else:
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def do_DELETE(self):
                self._serve("DELETE")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
