"""The `kling-preview` command line: the app, and headless render / export / import / validate.

Exit codes are a contract: 0 ok, 1 invalid input (breaks a rule), 2 unreadable input or usage error,
130 cancelled. Every problem is one line on stderr; bad input never shows a traceback.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__, cli_send
from .core.errors import Cancelled, InvalidError, KlingPreviewError, UnreadableError, describe_os_error

SUBCOMMANDS = ("render", "export", "import", "validate", "tracks", *cli_send.SUBCOMMANDS)
EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE, EXIT_CANCELLED = 0, 1, 2, 130


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        args = _subcommand_parser().parse_args(argv)
    else:
        args = _app_parser().parse_args(argv)
        args.command = "app"
    try:
        return COMMANDS[args.command](args)
    except Cancelled:
        _say("cancelled; nothing was written")
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        _say("interrupted; nothing was written")
        return EXIT_CANCELLED
    except KlingPreviewError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            _say(f"error: {line}")
        return exc.exit_code
    except OSError as exc:  # the operating system refused a path our own checks did not foresee
        _say(f"error: {describe_os_error(exc.filename or 'input', exc)}")
        return EXIT_UNREADABLE


# ----- parsers ---------------------------------------------------------------------------------------
def _app_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kling-preview",
        description="Paint Kling motion-brush regions, preview the motion locally, export the request. "
        f"Headless commands: {', '.join(SUBCOMMANDS)} (kling-preview COMMAND --help).",
    )
    p.add_argument("file", nargs="?", help="an image, a .klproj project, a Kling request.json or export folder")
    p.add_argument("--sample", action="store_true", help="open the bundled sample project")
    p.add_argument("--version", action="version", version=f"kling-preview {__version__}")
    return p


def _positive(kind: type):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _subcommand_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kling-preview")
    p.add_argument("--version", action="version", version=f"kling-preview {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def with_input(cmd: argparse.ArgumentParser, what: str) -> None:
        cmd.add_argument("input", nargs="?", help=what)
        cmd.add_argument("--sample", action="store_true", help="use the bundled sample project as the input")

    render = sub.add_parser("render", help="render the motion preview to a video, a GIF or PNG frames")
    with_input(render, "a .klproj, a Kling request.json or export folder, or an image")
    render.add_argument("-o", "--output", required=True, help=".mp4, .webm, .gif, or a folder for PNG frames")
    render.add_argument("--mode", choices=("kling", "loop", "ambient"), help="preview mode (default: the project's)")
    render.add_argument("--seconds", type=_positive(float), help="clip length in seconds")
    render.add_argument("--fps", type=_positive(int), help="frames per second")
    render.add_argument("--width", type=_positive(int), help="output width in pixels (aspect kept)")

    export = sub.add_parser("export", help="write the Kling bundle: request.json, masks, trajectories, overlay")
    with_input(export, "a .klproj, a Kling request.json or export folder")
    export.add_argument("-o", "--output", required=True, help="folder to write the bundle into")
    export.add_argument(
        "--fit-size",
        action="store_true",
        help="downscale the image, masks and trajectories until the image fits Kling's 10 MB",
    )

    export.add_argument(
        "--target",
        choices=("kling", "fal", "aimlapi"),
        default="kling",
        help="whose request body to write: Kling's own (default), fal's or AIMLAPI's (see docs/kling-api.md)",
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
    tracks.add_argument("--points", type=_positive(int), help="points per track in the file (kjnodes default 81)")
    tracks.add_argument(
        "--frames", type=_positive(int), help="frames the motion spans; the point then holds still (default: all)"
    )
    tracks.add_argument(
        "--import",
        dest="import_file",
        metavar="FILE",
        help="apply FILE (ATI .pth, KJNodes JSON or text, a ComfyUI workflow with a SplineEditor) to the regions",
    )
    cli_send.add_parsers(sub, with_input, _positive)
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
        _say(f"note: {note}")
    return project


def run_app(args: argparse.Namespace) -> int:
    from .ui.app import run

    return run(args.file, sample=args.sample)


def run_render(args: argparse.Namespace) -> int:
    from .core.video import render_to_file

    source = _input_path(args)
    project = _load(source)
    cancel = threading.Event()
    bar = _ProgressBar("rendering")
    try:
        warnings = render_to_file(
            project,
            Path(args.output),
            mode=args.mode,
            seconds=args.seconds,
            fps=args.fps,
            width=args.width,
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
        _say(f"warning: {w}")
    print(f"wrote {args.output}")
    return EXIT_OK


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
    print(f"wrote {args.output}")
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
    from .core.projectfile import save_project
    from .core.spec.kling import load_spec

    project, warnings = load_spec(Path(args.input), resolve_overlaps=args.resolve_overlaps)
    for w in warnings:
        _say(f"warning: {w}")
    save_project(project, Path(args.output))
    print(f"wrote {args.output}")
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
    print(f"{path}: valid for Kling" + (f" ({len(problems)} warnings)" if problems else ""))
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
def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
