"""The Kling tasks panel: what was sent, its status and how long it has been waiting; the videos once ready.

Network work (submit, status queries, downloads) runs in background jobs, so a slow or dropped answer never
freezes the window. The list is saved after every change and read back at start (Kling's queue can outlast
the app). Keys come from the environment or the OS keyring at each use and are never stored.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kling_preview.core.project import Project
from kling_preview.core.send.tasks import SentTask, load_tasks, save_tasks, summary_of, tasks_path
from kling_preview.ui.worker import BackgroundJob, describe_exception, run_in_background

POLL_MS = 30_000  # Kling's queue takes minutes to hours: asking twice a minute is plenty
COLUMNS = ("Task", "Status", "Elapsed", "Request")


def _elapsed(task: SentTask, now: float) -> str:
    seconds = int((task.finished_at or now) - task.sent_at)
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class SentTasksPanel(QWidget):
    """A table of sent tasks, polled in the background while any is unfinished."""

    changed = Signal()  # the list or a status changed (after it was saved)
    message = Signal(str)  # one line for the status bar
    videoChosen = Signal(str)  # a finished task's video was double-clicked

    def __init__(self, store: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sentTasksPanel")
        self.store = store or tasks_path()
        self.videos_dir = self.store.parent / "videos"  # where succeeded tasks' videos go
        self.tasks = load_tasks(self.store)
        self._job: BackgroundJob | None = None
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("sentTasksTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.cellDoubleClicked.connect(self._on_double_click)
        self.status = QLabel("")
        self.refresh_button = QPushButton("Check now")
        self.refresh_button.setObjectName("checkTasksButton")
        self.refresh_button.clicked.connect(self.poll_now)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll_now)
        self._show()

    # ----- sending -----------------------------------------------------------------------------------
    def send(
        self,
        project: Project,
        source: str = "",
        base_url: str | None = None,
        prompts: list[str] | None = None,
        cfg_scales: list[float] | None = None,
    ) -> BackgroundJob:
        """Submit the project's request (the one `export` writes) in the background; the task joins the list.

        With `prompts` and/or `cfg_scales`, one task per variant of the same masks is sent; if Kling refuses
        one (a concurrency limit, say), those already sent stay listed and the refusal is shown.
        """
        from kling_preview.core.send.client import KlingClient, default_base_url
        from kling_preview.core.send.errors import KlingAPIError
        from kling_preview.core.send.keys import load_keys
        from kling_preview.core.send.request import request_text, variants

        url = base_url or default_base_url()

        def submit(progress: Any, cancel: threading.Event) -> tuple[list[SentTask], str]:
            text, _ = request_text(project)
            bodies = variants(text, prompts, cfg_scales) if prompts or cfg_scales else [text]
            sent: list[SentTask] = []
            with KlingClient(load_keys(), url) as client:
                for n, body in enumerate(bodies):
                    if cancel.is_set():
                        break
                    try:
                        task = client.submit(body)
                    except KlingAPIError as exc:
                        if not sent:
                            raise
                        return sent, f"{len(bodies) - n} of {len(bodies)} not sent: {exc}"
                    sent.append(SentTask(task.task_id, url, time.time(), summary_of(body), source, task.status))
                    progress(n + 1, len(bodies))
            return sent, ""

        job = run_in_background(submit, self)
        job.succeeded.connect(self._on_sent)
        job.failed.connect(lambda exc: self._say(f"not sent: {describe_exception(exc)}"))
        return job

    def _on_sent(self, outcome: tuple[list[SentTask], str]) -> None:
        sent, problem = outcome
        self.tasks[:0] = sent
        self._save()
        ids = ", ".join(t.task_id for t in sent)
        self._say(f"sent: task{'s' if len(sent) > 1 else ''} {ids}" + (f"; {problem}" if problem else ""))

    # ----- polling -----------------------------------------------------------------------------------
    def poll_now(self) -> BackgroundJob | None:
        """Ask Kling about every unfinished task (and fetch videos of finished ones) in the background."""
        if self._job is not None and self._job.is_running():
            return None
        pending = [t for t in self.tasks if not t.done or (t.status == "succeed" and not t.videos)]
        if not pending:
            self.timer.stop()
            return None
        snapshot = [SentTask(**vars(t)) for t in pending]
        folder = self.videos_dir
        self._job = run_in_background(lambda progress, cancel: _poll(snapshot, folder), self)
        self._job.succeeded.connect(self._on_polled)
        self._job.failed.connect(lambda exc: self._say(f"could not check the tasks: {describe_exception(exc)}"))
        return self._job

    def _on_polled(self, updated: list[SentTask]) -> None:
        by_id = {t.task_id: t for t in updated}
        self.tasks = [by_id.get(t.task_id, t) for t in self.tasks]
        self._save()

    def _on_double_click(self, row: int, column: int) -> None:
        if 0 <= row < len(self.tasks) and self.tasks[row].videos:
            self.videoChosen.emit(self.tasks[row].videos[0])

    # ----- view --------------------------------------------------------------------------------------
    def _save(self) -> None:
        try:
            save_tasks(self.tasks, self.store)
        except Exception as exc:  # the list on screen stays right; say why it could not be kept
            self._say(f"the task list could not be saved: {describe_exception(exc)}")
        self._show()
        self.changed.emit()

    def _show(self) -> None:
        now = time.time()
        self.table.setRowCount(len(self.tasks))
        for row, task in enumerate(self.tasks):
            status = task.status + (f": {task.message}" if task.message else "")
            cells = (task.task_id, status, _elapsed(task, now), task.summary)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip("\n".join([text, *task.videos]))
                self.table.setItem(row, column, item)
        waiting = sum(not t.done for t in self.tasks)
        self.status.setText(f"{waiting} waiting" if waiting else "")
        if waiting and not self.timer.isActive():
            self.timer.start()

    def _say(self, text: str) -> None:
        line = "; ".join(text.splitlines())  # a refusal lists each problem on its own line
        self.status.setText(line)
        self.message.emit(line)


def _poll(tasks: list[SentTask], folder: Path) -> list[SentTask]:
    """One round of status queries and downloads (worker thread); errors are kept per task, not raised."""
    from kling_preview.core.send.client import Backoff, KlingClient, Task, download_videos
    from kling_preview.core.send.errors import KlingAPIError
    from kling_preview.core.send.keys import load_keys

    keys = load_keys()
    for task in tasks:
        with KlingClient(keys, task.base_url) as client:
            try:
                found = client.query(task.task_id)
                task.status, task.message = found.status, found.message  # a past error line is cleared
                if found.done and task.finished_at is None:
                    task.finished_at = time.time()
                if found.status == "succeed" and not task.videos:
                    done = Task(task.task_id, found.status, video_urls=found.video_urls)
                    task.videos = [str(p) for p in download_videos(client, done, folder, Backoff(first=1, retries=2))]
            except KlingAPIError as exc:
                task.message = str(exc)
    return tasks
