"""A Kling-compatible image2video server for tests: a real socket on 127.0.0.1, stdlib http.server in a thread.

Written from Kling's public API description (shared/kling-spec.md): Bearer JWT checked with the secret key
(1001 missing, 1002 invalid, 1003 not yet valid, 1004 expired), POST creates a task, GET walks it through
submitted -> processing -> succeed (or failed, with `code: 0` and the reason in `task_status_msg`), and the
succeeded task's video is served from this server with HTTP Range support. Tests queue faults: an error
envelope with its HTTP status, a slow answer, a dropped connection, or a video cut short.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

ENDPOINT = "/v1/videos/image2video"
HTTP_STATUS = {1000: 401, 1001: 401, 1002: 401, 1003: 401, 1004: 401, 1100: 429, 1101: 429, 1102: 429,
               1103: 403, 1200: 400, 1201: 400, 1202: 405, 1203: 404, 1300: 400, 1301: 400, 1302: 429,
               1303: 429, 1304: 429, 5000: 500, 5001: 503, 5002: 504}  # fmt: skip


@dataclass
class Fault:
    """What the server does instead of answering normally: `error` (code), `slow` (seconds), `drop`, `cut`."""

    kind: str
    code: int = 0
    seconds: float = 0.0


@dataclass
class ServerTask:
    body: dict[str, Any]
    statuses: list[str]
    fail_message: str = "Failure to pass the risk control system"
    queries: int = 0


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class KlingServer:
    access_key: str
    secret_key: str
    video: bytes = b""
    lifecycle: tuple[str, ...] = ("submitted", "processing", "succeed")
    tasks: dict[str, ServerTask] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    tokens: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def start(self) -> None:
        server = self

        class Handler(_Handler):
            state = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def next_fault(self, path: str) -> Fault | None:
        """The first queued fault that applies to `path` (`cut` applies to video downloads only)."""
        with self.lock:
            for i, fault in enumerate(self.faults):
                if (fault.kind == "cut") == path.startswith("/videos/"):
                    return self.faults.pop(i)
        return None

    def add_task(self, body: dict[str, Any], statuses: list[str] | None = None) -> str:
        task_id = uuid.uuid4().hex[:16]
        with self.lock:
            self.tasks[task_id] = ServerTask(body, list(statuses or self.lifecycle))
        return task_id


class _Handler(BaseHTTPRequestHandler):
    state: KlingServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        self.state.requests.append(Recorded(method, path, dict(self.headers.items()), body))
        fault = self.state.next_fault(path)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        if path.startswith("/videos/"):
            self._serve_video(fault)
            return
        if fault is not None and fault.kind == "error":
            self._error(fault.code, "simulated error")
            return
        if not self._authorized():
            return
        if method == "POST" and path == ENDPOINT:
            self._create(body)
        elif method == "GET" and path.startswith(ENDPOINT + "/"):
            self._query(path[len(ENDPOINT) + 1 :])
        else:
            self._error(1203, f"no resource {method} {path}", status=404)

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            self._error(1001, "Authorization is empty")
            return False
        try:
            claims = jwt.decode(
                header[7:], self.state.secret_key, algorithms=["HS256"], options={"require": ["iss", "exp", "nbf"]}
            )
        except jwt.ExpiredSignatureError:
            self._error(1004, "Authorization is expired")
            return False
        except jwt.ImmatureSignatureError:
            self._error(1003, "Authorization is not yet valid")
            return False
        except jwt.InvalidTokenError:
            self._error(1002, "Authorization is invalid")
            return False
        if claims.get("iss") != self.state.access_key:
            self._error(1002, "Authorization is invalid")
            return False
        self.state.tokens.append(claims)
        return True

    def _create(self, raw: bytes) -> None:
        try:
            body = json.loads(raw)
        except ValueError:
            self._error(1200, "request body is not JSON")
            return
        if not isinstance(body, dict) or not body.get("image"):
            self._error(1201, "image is required")
            return
        task_id = self.state.add_task(body)
        self._json(200, _envelope({"task_id": task_id, "task_status": "submitted", "created_at": _ms()}))

    def _query(self, task_id: str) -> None:
        task = self.state.tasks.get(task_id)
        if task is None:
            self._error(1203, f"task {task_id} not found", status=404)
            return
        status = task.statuses[min(task.queries, len(task.statuses) - 1)]
        task.queries += 1
        data: dict[str, Any] = {"task_id": task_id, "task_status": status, "task_status_msg": "", "updated_at": _ms()}
        if status == "failed":
            data["task_status_msg"] = task.fail_message
        if status == "succeed":
            url = f"{self.state.url}/videos/{task_id}.mp4"
            data["task_result"] = {"videos": [{"id": task_id, "url": url, "duration": "5"}]}
        self._json(200, _envelope(data))

    def _serve_video(self, fault: Fault | None) -> None:
        video = self.state.video
        start = 0
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes="):
            start = int(ranged[6:].split("-")[0] or 0)
            if start >= len(video):
                self.send_response(416)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(video) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(video) - 1}/{len(video)}")
        self.end_headers()
        payload = video[start:]
        if fault is not None and fault.kind == "cut":
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(payload)

    def _error(self, code: int, message: str, status: int | None = None) -> None:
        self._json(status or HTTP_STATUS.get(code, 400), {"code": code, "message": message, "request_id": "req-test"})

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {"code": 0, "message": "SUCCEED", "request_id": "req-test", "data": data}


def _ms() -> int:
    return int(time.time() * 1000)
