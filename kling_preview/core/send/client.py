"""Kling's image2video API over httpx: submit a request, query a task, wait for it, download its videos.

Every failure becomes a `KlingAPIError` with one line for the user. Waiting retries what passes on its own
(rate limits, server errors, dropped or slow answers) with a growing pause; submitting never retries a
dropped answer, since the task may have been created and a second POST would pay twice.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..fileio import fsync_dir
from .auth import make_token
from .errors import TRANSIENT_CODES, KlingAPIError, SendUsageError, describe_code
from .keys import Keys

DEFAULT_BASE_URL = "https://api-singapore.klingai.com"  # Kling's other host: https://api.klingai.com
BASE_URL_ENV = "KLING_API_BASE"
ENDPOINT = "/v1/videos/image2video"
FINAL_STATUSES = ("succeed", "failed")


@dataclass(frozen=True)
class Backoff:
    """Pauses between status queries: `first`, growing by `factor` up to `longest` (seconds).

    Kling's queue takes minutes to hours, so the defaults ask rarely; tests pass tiny values.
    """

    first: float = 5.0
    factor: float = 1.5
    longest: float = 60.0
    retries: int = 6  # transient failures in a row before waiting gives up

    def pauses(self) -> Callable[[], float]:
        """A function returning the next pause each time it is called."""
        state = {"next": self.first}

        def step() -> float:
            pause = state["next"]
            state["next"] = min(self.longest, pause * self.factor)
            return pause

        return step


@dataclass
class Task:
    """What Kling says about one task."""

    task_id: str
    status: str
    message: str = ""
    video_urls: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES


def default_base_url() -> str:
    return os.environ.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL


class KlingClient:
    """One API host and one pair of keys; a fresh token for every request."""

    def __init__(
        self,
        keys: Keys,
        base_url: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url = (base_url or default_base_url()).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise SendUsageError(f"--base-url {url!r} is not an http(s) URL")
        self.base_url = url
        self._keys = keys
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=True)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KlingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- API calls ---------------------------------------------------------------------------------
    def submit(self, request_json: str) -> Task:
        """POST the request body exactly as given (the text `export` writes); returns the new task."""
        data = self._call("POST", ENDPOINT, content=request_json.encode("utf-8"))
        task_id = data.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            raise KlingAPIError(f"{self.base_url} accepted the request but returned no task id")
        return _task(data, task_id)

    def query(self, task_id: str) -> Task:
        """GET the task's current status (and its video URLs once it succeeded)."""
        return _task(self._call("GET", f"{ENDPOINT}/{task_id}"), task_id)

    def wait(
        self,
        task_id: str,
        backoff: Backoff,
        on_status: Callable[[Task], None] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> Task:
        """Query until the task succeeds or fails; transient errors are retried `backoff.retries` times in a row."""
        pause, nap = backoff.pauses(), sleep or time.sleep
        last_status, failures = "", 0
        while True:
            try:
                task = self.query(task_id)
                failures = 0
            except KlingAPIError as exc:
                failures += 1
                if not exc.transient or failures > backoff.retries:
                    raise
                nap(pause())
                continue
            if task.status != last_status and on_status is not None:
                on_status(task)
            last_status = task.status
            if task.done:
                return task
            nap(pause())

    def _call(self, method: str, path: str, content: bytes | None = None) -> dict[str, Any]:
        url = self.base_url + path
        headers = {"Authorization": f"Bearer {make_token(self._keys.access, self._keys.secret)}"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(method, url, content=content, headers=headers)
        except httpx.TimeoutException:
            raise KlingAPIError(f"{url} did not answer in time; try again later", transient=True) from None
        except httpx.TransportError as exc:
            raise KlingAPIError(f"cannot reach {url}: {_reason(exc)}", transient=True) from None
        return _envelope_data(response, url)

    # ----- download ----------------------------------------------------------------------------------
    def download(self, url: str, target: Path, progress: Callable[[int, int], None] | None = None) -> Path:
        """Fetch `url` into `target`, resuming the `.part` an interrupted try left; all or nothing."""
        if target.exists():
            return target
        part = target.with_name(f".{target.name}.part")
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with self._http.stream("GET", url, headers=headers) as response:
                if response.status_code == 416:  # the part already holds everything
                    response.close()
                elif response.status_code >= 400:
                    raise KlingAPIError(f"downloading {url} failed: HTTP {response.status_code}", transient=True)
                else:
                    if response.status_code != 206:
                        have = 0  # the server ignored the range: start over
                    total = have + int(response.headers.get("Content-Length", "0") or 0)
                    with open(part, "ab" if have else "wb") as out:
                        for chunk in response.iter_bytes(1 << 16):
                            out.write(chunk)
                            have += len(chunk)
                            if progress is not None:
                                progress(have, total)
                        out.flush()
                        os.fsync(out.fileno())
                    if total and have < total:
                        raise KlingAPIError(f"downloading {url} stopped at {have} of {total} bytes", transient=True)
        except httpx.TimeoutException:
            raise KlingAPIError(f"downloading {url} timed out; run again to resume", transient=True) from None
        except httpx.TransportError as exc:
            raise KlingAPIError(
                f"downloading {url} failed ({_reason(exc)}); run the command again to resume", transient=True
            ) from None
        os.replace(part, target)
        fsync_dir(target.parent)
        return target


def download_videos(
    client: KlingClient, task: Task, out_dir: Path, backoff: Backoff, sleep: Callable[[float], None] | None = None
) -> list[Path]:
    """Every video of a succeeded task into `out_dir` as TASK_ID.mp4 (then TASK_ID_2.mp4...), retrying drops."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for n, url in enumerate(task.video_urls, 1):
        target = out_dir / (f"{task.task_id}.mp4" if n == 1 else f"{task.task_id}_{n}.mp4")
        pause = backoff.pauses()
        for attempt in range(backoff.retries + 1):
            try:
                written.append(client.download(url, target))
                break
            except KlingAPIError as exc:
                if not exc.transient or attempt == backoff.retries:
                    raise
                (sleep or time.sleep)(pause())
    return written


def _task(data: dict[str, Any], task_id: str) -> Task:
    result = data.get("task_result") or {}
    videos = result.get("videos") if isinstance(result, dict) else None
    urls = [v["url"] for v in videos or [] if isinstance(v, dict) and isinstance(v.get("url"), str)]
    status = data.get("task_status")
    return Task(
        task_id=str(data.get("task_id") or task_id),
        status=status if isinstance(status, str) else "unknown",
        message=str(data.get("task_status_msg") or ""),
        video_urls=urls,
    )


def _envelope_data(response: httpx.Response, url: str) -> dict[str, Any]:
    """The envelope's `data`, or a `KlingAPIError` naming Kling's code and what to do."""
    try:
        envelope = response.json()
    except ValueError:
        envelope = None
    status = response.status_code
    if not isinstance(envelope, dict):
        transient = status >= 500 or status == 429
        raise KlingAPIError(f"{url} answered HTTP {status} without Kling's JSON", transient=transient)
    code = envelope.get("code")
    if code == 0 and status < 400:
        data = envelope.get("data")
        return data if isinstance(data, dict) else {}
    line = describe_code(code, envelope.get("message"), envelope.get("request_id"), status)
    transient = code in TRANSIENT_CODES or (not isinstance(code, int) and status >= 500)
    raise KlingAPIError(line, code=code if isinstance(code, int) else None, transient=transient)


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__

