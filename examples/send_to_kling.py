"""Send an exported Kling Preview bundle to the Kling API and (optionally) wait for the video.

    export KLING_ACCESS_KEY=... KLING_SECRET_KEY=...
    python examples/send_to_kling.py EXPORT_DIR            # submit request.json, print the task id
    python examples/send_to_kling.py EXPORT_DIR --poll     # ... and wait until the video is ready
    python examples/send_to_kling.py --task TASK_ID        # wait for a task submitted earlier

Standard library only (hmac, hashlib, base64, json, urllib), so it runs on any Python 3.9+ without installs.
Each request gets a fresh JWT (HS256 over {iss: access key, exp: now + 1800, nbf: now - 5}), so a long poll
never outlives its token. Exit codes: 0 done, 1 the API refused the request or the task failed,
2 usage problem (missing keys, no request.json).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_BASE_URL = "https://api-singapore.klingai.com"  # or https://api.klingai.com (KLING_API_BASE)
ENDPOINT = "/v1/videos/image2video"
TOKEN_SECONDS = 1800
CLOCK_SKEW = 5

#: What each documented error code means for the user (Kling's `code`, not the HTTP status).
ERROR_HINTS = {
    range(1000, 1005): "authentication failed: check KLING_ACCESS_KEY / KLING_SECRET_KEY and the computer's clock",
    range(1100, 1103): "account problem: no balance, resource pack used up or expired",
    range(1103, 1104): "this account has no permission for the requested model or feature",
    range(1200, 1202): "a request parameter is invalid: run `kling-preview validate` on the export",
    range(1202, 1204): "unknown method or resource: check --base-url and model_name",
    range(1300, 1302): "refused by the content policy (image or prompt)",
    range(1302, 1305): "rate or concurrency limit reached: wait and try again",
    range(5000, 5003): "Kling's server had a problem or is under maintenance: try again later",
}


class KlingAPIError(Exception):
    """The API answered with an error, or could not be reached. The message is one line for the user."""


class UsageError(Exception):
    """The script was called wrongly: no keys, no request.json."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(access_key: str, secret_key: str, now: float | None = None) -> str:
    """The bearer token Kling expects: an HS256 JWT signed with the secret key."""
    now = int(time.time() if now is None else now)
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {"iss": access_key, "exp": now + TOKEN_SECONDS, "nbf": now - CLOCK_SKEW}
    signing_input = ".".join(_b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload))
    signature = hmac.new(secret_key.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def build_request(base_url: str, token: str, body: dict | None = None, task_id: str | None = None):
    """A POST that creates a task (with `body`) or a GET that queries one (with `task_id`)."""
    url = base_url.rstrip("/") + ENDPOINT + (f"/{task_id}" if task_id else "")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    return urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")


def _hint(code: object) -> str:
    if isinstance(code, int):
        for codes, hint in ERROR_HINTS.items():
            if code in codes:
                return f" ({hint})"
    return ""


def call(request: urllib.request.Request, timeout: float = 60.0) -> dict:
    """Send a request; returns the envelope's `data`, or raises KlingAPIError with Kling's code and message."""
    try:
        with urllib.request.build_opener().open(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raw = exc.read() or b""
        try:
            envelope = json.loads(raw)
        except ValueError:
            raise KlingAPIError(f"HTTP {exc.code} {exc.reason} from {request.full_url}") from None
        raise KlingAPIError(_describe(envelope, f"HTTP {exc.code}")) from None
    except urllib.error.URLError as exc:
        raise KlingAPIError(f"cannot reach {request.full_url}: {exc.reason}") from None
    try:
        envelope = json.loads(raw)
    except ValueError:
        raise KlingAPIError(f"{request.full_url} did not answer with JSON") from None
    if envelope.get("code") != 0:
        raise KlingAPIError(_describe(envelope, "refused"))
    return envelope.get("data") or {}


def _describe(envelope: dict, prefix: str) -> str:
    code = envelope.get("code")
    text = f"{prefix}: code {code}: {envelope.get('message', 'no message')}{_hint(code)}"
    if envelope.get("request_id"):
        text += f" [request_id {envelope['request_id']}]"
    return text


def load_body(path: Path) -> dict:
    """The request body: `request.json` inside an export folder, or the file itself."""
    file = path / "request.json" if path.is_dir() else path
    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{file} not found (export it with: kling-preview export PROJECT -o DIR)") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{file}: {exc}") from None
    if not isinstance(body, dict) or "image" not in body:
        raise UsageError(f"{file} is not a Kling image2video request (no `image` field)")
    return body


def poll(base_url: str, keys: tuple[str, str], task_id: str, interval: float, timeout: float) -> dict:
    """Query the task until it succeeds or fails; returns its final `data`."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        data = call(build_request(base_url, make_jwt(*keys), task_id=task_id))
        status = data.get("task_status")
        if status != last:
            print(f"task {task_id}: {status}", file=sys.stderr, flush=True)
            last = status
        if status in ("succeed", "failed"):
            return data
        if time.monotonic() >= deadline:
            raise KlingAPIError(f"task {task_id} still '{status}' after {timeout:.0f} s; poll again with --task")
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", nargs="?", type=Path, help="export folder (or its request.json)")
    parser.add_argument("--poll", action="store_true", help="wait until the video is ready and print its URL")
    parser.add_argument("--task", help="do not submit: poll this existing task id")
    parser.add_argument("--base-url", default=os.environ.get("KLING_API_BASE", DEFAULT_BASE_URL))
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between status queries")
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up polling after this many seconds")
    args = parser.parse_args(argv)
    if not args.export and not args.task:
        parser.error("give an EXPORT_DIR to submit, or --task TASK_ID to poll")

    keys = (os.environ.get("KLING_ACCESS_KEY", "").strip(), os.environ.get("KLING_SECRET_KEY", "").strip())
    missing = [name for name, value in zip(("KLING_ACCESS_KEY", "KLING_SECRET_KEY"), keys) if not value]
    if missing:
        print(f"error: set {' and '.join(missing)} (from the Kling developer console)", file=sys.stderr)
        return 2

    try:
        task_id = args.task
        if not task_id:
            body = load_body(args.export)
            data = call(build_request(args.base_url, make_jwt(*keys), body=body))
            task_id = data.get("task_id")
            print(f"submitted: task {task_id} ({data.get('task_status', 'submitted')})")
            if not args.poll:
                print(f"poll it later: python {sys.argv[0]} --task {task_id}")
                return 0
        data = poll(args.base_url, keys, task_id, args.interval, args.timeout)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KlingAPIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    if data.get("task_status") == "failed":
        print(f"error: task {task_id} failed: {data.get('task_status_msg') or 'no reason given'}", file=sys.stderr)
        return 1
    videos = (data.get("task_result") or {}).get("videos") or []
    for video in videos:
        print(video.get("url"))
    if not videos:
        print(f"error: task {task_id} succeeded but returned no video", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
