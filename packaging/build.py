"""Build the one-folder desktop bundle of Kling Preview with PyInstaller, on Linux, macOS or Windows.

    python packaging/build.py                    # venv in packaging/.buildvenv, bundle in packaging/dist/
    python packaging/build.py --venv /tmp/bv     # another build venv (created if missing)
    python packaging/build.py --archive          # also pack the bundle as .tar.gz (Linux) or .zip

PyInstaller and the app's dependencies go into a venv of their own, so the build never changes the venv
you develop in. Standard library only: it runs on a fresh Python 3.11+.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "kling_preview.spec"
APP_NAME = "kling-preview"
PYINSTALLER = "pyinstaller>=6.10,<7"


def version() -> str:
    text = (ROOT / "kling_preview" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    if not match:
        raise SystemExit("kling_preview/__init__.py has no __version__")
    return match.group(1)


def dependencies() -> list[str]:
    """The app's runtime requirements, read from pyproject.toml so the two never disagree."""
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def venv_python(path: Path) -> Path:
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(path: Path) -> Path:
    """Create the build venv if needed and install PyInstaller plus the app's dependencies into it."""
    python = venv_python(path)
    if not python.exists():
        print(f"creating build venv {path}")
        venv.EnvBuilder(with_pip=True, clear=False).create(path)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    run([*pip, "--upgrade", "pip"])
    run([*pip, PYINSTALLER, *dependencies()])
    return python


def run(cmd: list[str], **kwargs) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def console_executable(bundle: Path) -> Path:
    """The executable inside a bundle folder (or .app) that prints to a terminal."""
    if sys.platform == "darwin":
        return bundle / "Contents" / "MacOS" / APP_NAME
    return bundle / (f"{APP_NAME}-cli.exe" if os.name == "nt" else APP_NAME)


def bundle_paths(dist: Path) -> tuple[Path, Path]:
    """(folder to ship, its console executable) for this platform."""
    folder = dist / ("Kling Preview.app" if sys.platform == "darwin" else APP_NAME)
    return folder, console_executable(folder)


def smoke_test(exe: Path) -> None:
    """The bundle starts and finds its assets: `--version`, then `validate --sample` headless."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, env=env, timeout=120)
    print(f"{exe.name} --version -> {out.stdout.strip() or out.stderr.strip()} (exit {out.returncode})")
    if out.returncode != 0 or version() not in out.stdout:
        raise SystemExit("smoke test failed: the bundle did not print its version")
    out = subprocess.run([str(exe), "validate", "--sample"], capture_output=True, text=True, env=env, timeout=120)
    print(f"{exe.name} validate --sample -> exit {out.returncode}: {(out.stdout + out.stderr).strip()}")
    if out.returncode != 0:
        raise SystemExit("smoke test failed: the bundled sample project did not validate")


def archive(folder: Path, dist: Path) -> Path:
    system = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    machine = os.uname().machine if hasattr(os, "uname") else os.environ.get("PROCESSOR_ARCHITECTURE", "x86_64")
    base = dist / f"{APP_NAME}-{version()}-{system}-{machine.lower()}"
    fmt = "gztar" if sys.platform.startswith("linux") else "zip"
    # On macOS prefer `ditto -c -k --keepParent` (keeps symlinks and signatures); zip is the portable fallback.
    return Path(shutil.make_archive(str(base), fmt, root_dir=folder.parent, base_dir=folder.name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=PACKAGING / ".buildvenv", help="build venv (created if missing)")
    parser.add_argument(
        "--no-venv", action="store_true", help="use this Python as it is (PyInstaller must be installed in it)"
    )
    parser.add_argument("--dist", type=Path, default=PACKAGING / "dist", help="where the bundle goes")
    parser.add_argument("--work", type=Path, default=PACKAGING / "build", help="PyInstaller's scratch folder")
    parser.add_argument("--clean", action="store_true", help="discard PyInstaller's cache first (slower)")
    parser.add_argument("--skip-install", action="store_true", help="do not pip install into an existing venv")
    parser.add_argument("--no-smoke-test", action="store_true", help="do not run the built bundle")
    parser.add_argument("--archive", action="store_true", help="also pack the bundle as .tar.gz or .zip")
    args = parser.parse_args(argv)

    started = time.monotonic()
    if args.no_venv:
        python = Path(sys.executable)
    elif args.skip_install and venv_python(args.venv).exists():
        python = venv_python(args.venv)
    else:
        python = ensure_venv(args.venv)
    installed = time.monotonic()

    cmd = [
        str(python),
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(args.dist),
        "--workpath",
        str(args.work),
    ]
    if args.clean:
        cmd.append("--clean")
    run([*cmd, str(SPEC)], cwd=ROOT)
    built = time.monotonic()

    folder, exe = bundle_paths(args.dist)
    if not exe.exists():
        raise SystemExit(f"the build finished but {exe} is missing")
    print(f"bundle: {folder} ({folder_size(folder) / 2**20:.0f} MiB)")
    print(f"time: venv {installed - started:.0f} s, PyInstaller {built - installed:.0f} s")
    if not args.no_smoke_test:
        smoke_test(exe)
    if args.archive:
        path = archive(folder, args.dist)
        print(f"archive: {path} ({path.stat().st_size / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
