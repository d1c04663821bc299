"""The tasks sent to Kling, kept on disk so the app's list survives a restart (a queue can take hours).

Only what identifies and describes a task is stored: never a key nor a token. The file is rewritten
atomically; a damaged one is set aside rather than losing the tasks that will be sent next.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..fileio import atomic_write_text
from ..recovery import data_dir

FILE_NAME = "sent_tasks.json"


@dataclass
class SentTask:
    """One task as the app remembers it."""

    task_id: str
    base_url: str
    sent_at: float  # seconds since the epoch
    summary: str = ""  # model, mode, duration and prompt, to tell tasks apart
    source: str = ""  # the project the request came from
    status: str = "submitted"
    message: str = ""  # Kling's reason when the task failed, or our error line
    finished_at: float | None = None
    videos: list[str] = field(default_factory=list)  # downloaded files

    @property
    def done(self) -> bool:
        return self.status in ("succeed", "failed")


def tasks_path() -> Path:
    return data_dir() / FILE_NAME


def load_tasks(path: Path | None = None) -> list[SentTask]:
    """The remembered tasks; a missing file is none, a damaged one is renamed `.damaged` and counts as none."""
    path = path or tasks_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return [SentTask(**entry) for entry in raw["tasks"]]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError):
        with contextlib.suppress(OSError):
            os.replace(path, path.with_name(path.name + ".damaged"))
        return []


def save_tasks(tasks: list[SentTask], path: Path | None = None) -> None:
    path = path or tasks_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"version": 1, "tasks": [asdict(t) for t in tasks]}, indent=2) + "\n")


def summary_of(body_json: str) -> str:
    """A short description of a request: `kling-v1 std 5 s: "prompt..."`."""
    body = json.loads(body_json)
    prompt = " ".join(str(body.get("prompt") or "").split())
    text = f"{body.get('model_name', '?')} {body.get('mode', '?')} {body.get('duration', '?')} s"
    return text + (f': "{prompt[:40]}{"..." if len(prompt) > 40 else ""}"' if prompt else "")
