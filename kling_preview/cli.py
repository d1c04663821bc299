"""The `kling-preview` command line: the app, and headless render / export / import / validate.

Exit codes are a contract: 0 ok, 1 invalid input (breaks a rule), 2 unreadable input or usage error,
130 cancelled. Every problem is one line on stderr; bad input never shows a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__, cli_send
from .core import limits
from .core.errors import Cancelled, InvalidError, KlingPreviewError, UnreadableError, describe_os_error

SUBCOMMANDS = ("render", "export", "import", "validate", "tracks", *cli_send.SUBCOMMANDS)
EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE, EXIT_CANCELLED = 0, 1, 2, 130


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl+C, so every temp file and folder is removed on the way."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        args = _subcommand_parser().parse_args(argv)
    else:
        args = _app_parser().parse_args(argv)
        args.command = "app"
    what = getattr(args, "output", None) or getattr(args, "input", None) or getattr(args, "file", None) or "sample"
    headless = args.command != "app"  # the app handles its own signals and warnings
    try:
        with _stop_on_signals() if headless else contextlib.nullcontext(), _warnings_as_lines(what, headless):
            return COMMANDS[args.command](args)
    except Cancelled:
        _say(f"error: {what}: cancelled; nothing was written")
        return EXIT_CANCELLED
    except Stopped as exc:
        _say(f"error: {what}: stopped by {signal.Signals(exc.signum).name}; nothing was written")
        return 128 + exc.signum
    except KeyboardInterrupt:
        _say(f"error: {what}: interrupted (Ctrl+C); nothing was written")
        return EXIT_CANCELLED
    except KlingPreviewError as exc:
        for line in [line for line in exc.lines if line] or [type(exc).__name__]:
            _say(f"error: {line}")
        return exc.exit_code
    except OSError as exc:  # the operating system refused a path our own checks did not foresee
        _say(f"error: {describe_os_error(exc.filename or what, exc)}")
        return EXIT_UNREADABLE


#: Signals that end a headless command the way Ctrl+C does (where the platform has them).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM / SIGHUP into `Stopped` while a command runs, so its cleanup runs as for Ctrl+C."""

    def stop(signum: int, _frame: object) -> None:
        for sig in STOP_SIGNALS:  # a second signal must not interrupt the cleanup
            signal.signal(sig, signal.SIG_IGN)
        raise Stopped(signum)

    previous = {}
    for sig in STOP_SIGNALS:
        with contextlib.suppress(ValueError, OSError):  # not the main thread: leave the handlers alone
            previous[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _warnings_as_lines(what: str, active: bool = True) -> Iterator[None]:
    """Python warnings become `warning: WHAT: ...` lines; numeric RuntimeWarnings (NaN maths) are not for users."""

    def show(message: Warning | str, category: type[Warning], *_args: object, **_kwargs: object) -> None:
        _say(f"warning: {what}: {message}")

    if not active:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.showwarning = show
        yield


# ----- parsers ---------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's line format: a usage error is an `error:` line and a `hint:`, exit 2."""

    def error(self, message: str) -> NoReturn:
        _say(f"error: {self.prog}: {message}")
        _say(f"hint: {self.prog} --help lists the options")
        sys.exit(EXIT_UNREADABLE)


def _app_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="kling-preview",
        description="Paint Kling motion-brush regions, preview the motion locally, export the request. "
        f"Headless commands: {', '.join(SUBCOMMANDS)} (kling-preview COMMAND --help).",
    )
    p.add_argument("file", nargs="?", help="an image, a .klproj project, a Kling request.json or export folder")
    p.add_argument("--sample", action="store_true", help="open the bundled sample project")
    p.add_argument("--version", action="version", version=f"kling-preview {__version__}")
    return p


def _bounded(kind: type, problem: Callable[[float], str | None]) -> Callable[[str], int | float]:
    """An argparse type for a clip setting: a number within the bounds of core/limits.py, else its reason."""

    def parse(text: str) -> int | float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        reason = problem(value)
        if reason:
            raise argparse.ArgumentTypeError(reason)
        return kind(value)  # type: ignore[no-any-return]

    parse.__name__ = f"bounded {kind.__name__}"
    return parse


def _subcommand_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kling-preview")
    p.add_argument("--version", action="version", version=f"kling-preview {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def with_input(cmd: argparse.ArgumentParser, what: str) -> None:
        cmd.add_argument("input", nargs="?", help=what)
        cmd.add_argument("--sample", action="store_true", help="use the bundled sample project as the input")

    render = sub.add_parser("render", help="render the motion preview to a video, a GIF or PNG frames")
    with_input(render, "a .klproj, a Kling request.json or export folder, or an image")
    render.add_argument("-o", "--output", required=True, help=".mp4, .webm, .gif, or a folder for PNG frames")
    render.add_argument("--mode", choices=("kling", "loop", "ambient"), help="preview mode (default: the project's)")
    render.add_argument(
        "--seconds", type=_bounded(float, limits.seconds_problem), help=f"clip length, up to {limits.MAX_SECONDS:g} s"
    )
    render.add_argument(
        "--fps", type=_bounded(int, limits.fps_problem), help=f"frames per second, {limits.MIN_FPS} to {limits.MAX_FPS}"
    )
    render.add_argument(
        "--width",
        type=_bounded(int, limits.side_problem),
        help=f"output width in pixels, up to {limits.MAX_SIDE} (aspect kept)",
    )

    export = sub.add_parser("export", help="write the Kling bundle: request.json, masks, trajectories, overlay")
    with_input(export, "a .klproj, a Kling request.json or export folder")
    export.add_argument(
        "-o", "--output", required=True, help="folder for the bundle (only an earlier export's files are replaced)"
    )
    export.add_argument(
        "--fit-size",
        action="store_true",
        help="downscale the image, masks and trajectories until the image fits Kling's 10 MB",
    )

    export.add_argument(
        "--target",
        choices=("kling", "fal", "aimlapi", "piapi"),
        default="kling",
        help="whose request body to write: Kling's own (default), fal's, AIMLAPI's or PiAPI's task "
        "(see docs/kling-api.md)",
    )
    export.add_argument(
        "--allow-model", action="store_true", help="a model name Kling Preview does not know is a warning, not an error"
    )

    imp = sub.add_parser("import", help="turn a Kling request.json or export folder into a .klproj project")
    imp.add_argument("input", help="a request.json or an export folder")
    imp.add_argument("-o", "--output", required=True, help="the .klproj file to write")
    imp.add_argument(
        "--resolve-overlaps", action="store_true", help="where masks overlap, the later region keeps the pixel"
    )
    imp.set_defaults(sample=False)

    validate = sub.add_parser("validate", help="check Kling's rules; exit 0 valid, 1 invalid, 2 unreadable")
    with_input(validate, "a .klproj, a Kling request.json or export folder")
    validate.add_argument(
        "--allow-model",
        action="store_true",
        help="a model name Kling Preview does not know is a warning (a known model without the motion brush "
        "stays an error)",
    )

    tracks = sub.add_parser(
        "tracks", help="write the trajectories for ATI or KJNodes, or apply such a file to a project's regions"
    )
    with_input(tracks, "a .klproj, a Kling request.json or export folder")
    tracks.add_argument(
        "-o", "--output", required=True, help="the trajectory file to write (or, with --import, the .klproj)"
    )
    tracks.add_argument(
        "--format",
        choices=("ati", "ati-json", "kjnodes", "kjnodes-spline"),
        help="ati: ATI's .pth; ati-json: ComfyUI's ATI node; kjnodes: coordinates; kjnodes-spline: SplineEditor "
        "points_store (default: from the extension, .pth ati, .json/.txt kjnodes)",
    )
    tracks.add_argument(
        "--points",
        type=_bounded(int, limits.points_problem),
        help="points per track in the file (kjnodes default 81)",
    )
    tracks.add_argument(
        "--frames",
        type=_bounded(int, lambda v: limits.points_problem(v, "frames")),
        help="frames the motion spans; the point then holds still (default: all)",
    )
    tracks.add_argument(
        "--import",
        dest="import_file",
        metavar="FILE",
        help="apply FILE (ATI .pth, KJNodes JSON or text, a ComfyUI workflow with a SplineEditor) to the regions",
    )
    cli_send.add_parsers(sub, with_input, _bounded)
    return p


# ----- commands --------------------------------------------------------------------------------------
def _input_path(args: argparse.Namespace) -> Path:
    if args.sample:
        if args.input:
            raise UnreadableError("give either INPUT or --sample, not both")
        from .resources import sample_project_path

        return sample_project_path()
    if not args.input:
        raise UnreadableError("no INPUT given (a .klproj, request.json or export folder; or --sample)")
    return Path(args.input)


def _load(path: Path):
    from .core.inputs import load_input

    project, notes = load_input(path)
    for note in notes:
        _say(f"note: {_named(path, note)}")
    return project


def run_app(args: argparse.Namespace) -> int:
    from .ui.app import run

    return run(args.file, sample=args.sample)


def run_render(args: argparse.Namespace) -> int:
    from .core.fileio import refuse_input_as_output
    from .core.video import gif_defaults, render_to_file

    source = _input_path(args)
    refuse_input_as_output(Path(args.output), source, "render")
    project = _load(source)
    width, fps = gif_defaults(Path(args.output), project.size, project.clip.fps, args.width, args.fps)
    cancel = threading.Event()
    bar = _ProgressBar("rendering")
    try:
        warnings = render_to_file(
            project,
            Path(args.output),
            mode=args.mode,
            seconds=args.seconds,
            fps=fps,
            width=width,
            progress=bar.update,
            cancel=cancel,
        )
    except KeyboardInterrupt:
        cancel.set()
        raise
    except InvalidError as exc:  # a setting of the input (e.g. a project saved with 0 fps) is at fault
        raise InvalidError(f"{source}: {exc}") from None
    finally:
        bar.close()
    for w in warnings:
        _say(f"warning: {_named(source, w)}")
    _out(f"wrote {args.output}")
    return EXIT_OK


def _named(path: Path, message: str) -> str:
    """`message` beginning with the file it is about (most already do; image notes and render warnings not)."""
    return message if message.startswith(str(path)) else f"{path}: {message}"


def run_export(args: argparse.Namespace) -> int:
    from .core.privacy import face_warning
    from .core.spec.fit import only_too_large
    from .core.spec.kling import ExportRefused, export_bundle

    source = _input_path(args)
    project = _load(source)
    if args.fit_size:
        project = _fit_size(project, source)
    try:
        if args.target == "kling":
            warnings = export_bundle(project, Path(args.output), allow_model=args.allow_model)
        else:
            from .core.spec.targets import export_target

            warnings = export_target(project, Path(args.output), args.target, allow_model=args.allow_model)
    except ExportRefused as exc:
        for problem in exc.problems:
            if problem.severity == "error":
                _say(f"error: {source}: {problem.message}")
        if only_too_large(exc.problems):
            _say("hint: add --fit-size to downscale the image, masks and trajectories until it fits Kling's 10 MB")
        return EXIT_INVALID
    for w in warnings:
        _say(f"warning: {source}: {w.message}")
    faces = face_warning(project)
    if faces:
        _say(f"warning: {source}: {faces}")
    _out(f"wrote {args.output}")
    return EXIT_OK


def _fit_size(project, source: Path):
    """`project`, or a downscaled copy whose image fits Kling's size limit (a note says the new size)."""
    from .core.spec.fit import fit_to_kling

    width, height = project.size
    try:
        fitted = fit_to_kling(project)
    except InvalidError as exc:
        raise InvalidError(f"{source}: {exc}") from None
    if fitted is None:
        return project
    project, scale = fitted
    new_width, new_height = project.size
    _say(
        f"note: {source}: image, masks and trajectories downscaled from {width}x{height} to "
        f"{new_width}x{new_height} ({scale:.0%}) to fit Kling's 10 MB"
    )
    return project


def run_import(args: argparse.Namespace) -> int:
    from .core.projectfile import check_project_output, save_project
    from .core.spec.kling import load_spec

    source = Path(args.input)
    check_project_output(Path(args.output), source)
    project, warnings = load_spec(Path(args.input), resolve_overlaps=args.resolve_overlaps)
    for w in warnings:
        _say(f"warning: {_named(source, w)}")
    save_project(project, Path(args.output))
    _out(f"wrote {args.output}")
    return EXIT_OK


def run_validate(args: argparse.Namespace) -> int:
    from .core.checks import validate_path

    path = _input_path(args)
    problems = validate_path(path, allow_model=args.allow_model)
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        _say(f"{problem.severity}: {path}: {problem.message}")
    if errors:
        return EXIT_INVALID
    _out(f"{path}: valid for Kling" + (f" ({len(problems)} warnings)" if problems else ""))
    return EXIT_OK


def run_tracks(args: argparse.Namespace) -> int:
    from .core.spec.tracks import apply_tracks, format_for, read_track_file, write_track_file

    source = _input_path(args)
    project = _load(source)
    output = Path(args.output)
    if args.import_file:
        from .core.projectfile import save_project

        if args.format or args.points or args.frames:
            raise UnreadableError("--format, --points and --frames apply to writing; --import reads the file as it is")
        found = read_track_file(Path(args.import_file))
        for note in apply_tracks(project, found, args.import_file):
            _say(f"note: {note}")
        save_project(project, output)
        print(f"wrote {output}")
        return EXIT_OK
    try:
        fmt = format_for(output, args.format)
    except InvalidError as exc:
        raise UnreadableError(str(exc)) from None
    regions = [r for r in project.regions if r.trajectory]
    if not regions:
        raise InvalidError(f"{source}: no region has a trajectory")
    for region in project.regions:
        if not region.trajectory:
            _say(f"note: {source}: {region.name} has no trajectory; left out")
    write_track_file(output, [r.trajectory for r in regions], fmt, points=args.points, frames=args.frames)
    if fmt == "ati-json":
        width, height = project.size
        _say(f"note: set the ATI node's width and height to the image's, {width}x{height}")
    print(f"wrote {output}")
    return EXIT_OK


COMMANDS = {
    "app": run_app,
    "render": run_render,
    "export": run_export,
    "import": run_import,
    "validate": run_validate,
    "tracks": run_tracks,
    "send": cli_send.run_send,
    "status": cli_send.run_status,
    "compare": cli_send.run_compare,
}


# ----- output ----------------------------------------------------------------------------------------
def printable(text: object) -> str:
    """`text` on one line: control characters (a newline in a file name...) and undecodable bytes escaped.

    So no name can break a line or forge an `error:` line of its own.
    """
    text = str(text)
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        elif ch in "\n\r\t":
            out.append(repr(ch)[1:-1])
        else:
            code = ord(ch)
            if 0xDC80 <= code <= 0xDCFF:  # a byte of a name that is not UTF-8 (os.fsdecode's surrogateescape)
                code -= 0xDC00
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def _say(line: str) -> None:
    print(printable(line), file=sys.stderr, flush=True)


def _out(line: str) -> None:
    print(printable(line), flush=True)


class _ProgressBar:
    """A one-line progress bar on stderr (only when stderr is a terminal, so logs stay clean)."""

    def __init__(self, label: str):
        self.label = label
        self.live = sys.stderr.isatty()
        self.started = time.monotonic()
        self.shown = False

    def update(self, done: int, total: int) -> None:
        if not self.live or total <= 0:
            return
        width = 30
        filled = int(width * done / total)
        eta = (time.monotonic() - self.started) / max(done, 1) * (total - done)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  eta {eta:4.0f}s")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
