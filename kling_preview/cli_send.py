"""The `send`, `status` and `compare` subcommands: close the loop from a project to Kling's video and back.

Exit codes: 0 done, 1 refused or failed by Kling, 2 usage or unreadable input, 130 stopped waiting (the task
goes on at Kling). Compare reports and exits 0 whatever the verdicts: judging them is the user's call.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .core.errors import UnreadableError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STOPPED = 0, 1, 2, 130
SUBCOMMANDS = ("send", "status", "compare")


#: Longest first pause between status queries: Kling's tasks take minutes to hours, a poll every 10 min is enough.
MAX_POLL_SECONDS = 600.0


def poll_problem(value: float) -> str | None:
    """Why a --poll-interval cannot be used, or None."""
    if not 0 < value <= MAX_POLL_SECONDS:  # NaN fails this too
        return f"poll interval is {value:g}; use more than 0 and up to {MAX_POLL_SECONDS:g} seconds"
    return None


def add_parsers(sub: Any, with_input: Any, bounded: Any) -> None:
    """Add the subcommands to the CLI's subparsers (`with_input` and `bounded` are the CLI's own helpers)."""
    send = sub.add_parser("send", help="submit the request `export` writes to Kling; print the task id")
    with_input(send, "a .klproj, a Kling request.json or export folder")
    _task_options(send, bounded)
    send.add_argument(
        "--allow-model", action="store_true", help="a model name Kling Preview does not know is a warning, not an error"
    )

    status = sub.add_parser("status", help="show a Kling task's status; with --wait, wait and download its video")
    status.add_argument("task_id", metavar="TASK_ID", help="the task id `send` printed")
    _task_options(status, bounded)

    compare = sub.add_parser("compare", help="check whether a generated video followed each region's trajectory")
    with_input(compare, "the .klproj, request.json or export folder that was sent")
    compare.add_argument("video", metavar="VIDEO", help="the video Kling generated")
    compare.add_argument("-o", "--output", help="write the report: REPORT.json (numbers) or REPORT.png (paths drawn)")


def _task_options(cmd: argparse.ArgumentParser, bounded: Any) -> None:
    cmd.add_argument("--base-url", help="Kling's API host (default: $KLING_API_BASE or https://api-singapore.klingai.com)")
    cmd.add_argument("--wait", action="store_true", help="wait until the task succeeds or fails, then download")
    cmd.add_argument("-o", "--output", metavar="DIR", help="folder to download the video into (default: current)")
    cmd.add_argument(
        "--poll-interval",
        type=bounded(float, poll_problem),
        default=5.0,
        help="first pause between status queries in seconds",
    )


def _client(args: argparse.Namespace) -> Any:
    from .core.send.client import KlingClient
    from .core.send.keys import load_keys

    return KlingClient(load_keys(), args.base_url)


def _backoff(args: argparse.Namespace) -> Any:
    from .core.send.client import Backoff

    first = args.poll_interval
    return Backoff(first=first, longest=max(first, min(Backoff.longest, first * 12)))


def run_send(args: argparse.Namespace) -> int:
    from .cli import _input_path, _load
    from .core.send.request import request_text
    from .core.spec.kling import ExportRefused

    source = _input_path(args)
    project = _load(source)
    try:
        text, warnings = request_text(project, allow_model=args.allow_model)
    except ExportRefused as exc:
        for problem in exc.problems:
            if problem.severity == "error":
                _say(f"error: {source}: {problem.message}")
        return EXIT_FAILED
    for w in warnings:
        _say(f"warning: {source}: {w.message}")
    with _client(args) as client:
        task = client.submit(text)
        print(task.task_id, flush=True)
        _say(f"note: task {task.task_id}: submitted ({task.status})")
        if not args.wait:
            _say(f"hint: check it with: kling-preview status {task.task_id} --wait -o {_dir_hint(args)}")
            return EXIT_OK
        return _wait_and_fetch(client, task.task_id, args)


def run_status(args: argparse.Namespace) -> int:
    task_id = args.task_id.strip()
    if not task_id or "/" in task_id or any(c.isspace() for c in task_id):
        raise UnreadableError(f"{args.task_id!r} is not a Kling task id")
    with _client(args) as client:
        if args.wait:
            return _wait_and_fetch(client, task_id, args)
        task = client.query(task_id)
        print(f"{task.task_id}: {task.status}" + (f" ({task.message})" if task.message else ""))
        if task.status == "failed":
            return EXIT_FAILED
        if task.status == "succeed" and args.output:
            return _fetch(client, task, args)
        for url in task.video_urls:
            print(url)
        return EXIT_OK


def _wait_and_fetch(client: Any, task_id: str, args: argparse.Namespace) -> int:
    from .core.send.errors import KlingAPIError

    resume = f"kling-preview status {task_id} --wait -o {_dir_hint(args)}"
    try:
        task = client.wait(task_id, _backoff(args), on_status=lambda t: _say(f"note: task {t.task_id}: {t.status}"))
    except KeyboardInterrupt:
        _say(f"error: task {task_id}: stopped waiting (Ctrl+C); the task goes on at Kling")
        _say(f"hint: resume with: {resume}")
        return EXIT_STOPPED
    except KlingAPIError as exc:
        _say(f"error: {exc}")
        _say(f"hint: the task may still be running at Kling; check again with: {resume}")
        return EXIT_FAILED
    if task.status == "failed":
        _say(f"error: task {task_id} failed: {task.message or 'no reason given'}")
        return EXIT_FAILED
    return _fetch(client, task, args)


def _fetch(client: Any, task: Any, args: argparse.Namespace) -> int:
    from .core.send.client import download_videos
    from .core.send.errors import KlingAPIError

    if not task.video_urls:
        _say(f"error: task {task.task_id} succeeded but returned no video")
        return EXIT_FAILED
    resume = f"kling-preview status {task.task_id} --wait -o {_dir_hint(args)}"
    try:
        written = download_videos(client, task, Path(args.output or "."), _backoff(args))
    except KeyboardInterrupt:
        _say(f"error: task {task.task_id}: stopped downloading (Ctrl+C)")
        _say(f"hint: resume with: {resume}")
        return EXIT_STOPPED
    except KlingAPIError as exc:
        _say(f"error: {exc}")
        _say(f"hint: resume the download with: {resume}")
        return EXIT_FAILED
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _dir_hint(args: argparse.Namespace) -> str:
    return str(args.output or "DIR")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_compare(args: argparse.Namespace) -> int:
    """Print a verdict line per region (and the static area's drift); write the report if asked."""
    from .cli import _input_path, _load
    from .core.compare import compare, read_clip
    from .core.compare_report import write_report

    source = _input_path(args)
    output = Path(args.output) if args.output else None
    if output is not None and output.suffix.lower() not in (".json", ".png"):
        raise UnreadableError(f"{output}: the report is written as .json or .png")
    project = _load(source)
    comparison = compare(project, read_clip(Path(args.video)))
    for region in comparison.regions:
        print(region.verdict)
    if comparison.static_motion_px is not None:
        print(f"static area: moved up to {comparison.static_motion_px:.1f} px")
    if output is not None:
        write_report(comparison, output)
        print(f"wrote {output}")
    return EXIT_OK
