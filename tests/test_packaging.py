"""The desktop bundle (PyInstaller, one folder) starts, finds its assets and runs headless and as an app.

Slow: it builds the bundle with packaging/build.py (a build venv of its own, ~1-3 minutes on a warm cache,
longer the first time) unless KLING_PREVIEW_BUNDLE names an existing bundle folder. Run with
`pytest -m packaging tests/test_packaging.py`. The Linux desktop-entry checks at the end are fast and run always.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import kling_preview

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
BUNDLE_ENV = "KLING_PREVIEW_BUNDLE"  # an existing bundle folder (dist/kling-preview, or the .app on macOS)
BUILD_VENV_ENV = "KLING_PREVIEW_BUILD_VENV"  # the build venv to use or create (default packaging/.buildvenv)
QUIT_ENV = "KLING_PREVIEW_QUIT_AFTER_MS"  # the app closes its window by itself after this many ms
TIMEOUT = 180


def _load_build_module():
    # Loaded by path: a folder named `packaging` would clash with the `packaging` distribution on sys.path.
    spec = importlib.util.spec_from_file_location("kling_build", PACKAGING / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build_module()


@pytest.fixture(scope="module")
def bundle() -> tuple[Path, Path]:
    """(bundle folder, console executable), built now unless given by KLING_PREVIEW_BUNDLE."""
    given = os.environ.get(BUNDLE_ENV)
    if given:
        folder = Path(given).resolve()
        exe = build.console_executable(folder)
    else:
        dist = PACKAGING / "dist"
        venv = Path(os.environ.get(BUILD_VENV_ENV, PACKAGING / ".buildvenv"))
        cmd = [sys.executable, str(PACKAGING / "build.py"), "--venv", str(venv), "--dist", str(dist), "--no-smoke-test"]
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
        assert result.returncode == 0, f"build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        folder, exe = build.bundle_paths(dist)
    assert exe.is_file(), f"{exe} is missing"
    return folder, exe


def _run(exe: Path, *args: str, env: dict | None = None, timeout: float = TIMEOUT, cwd: Path | None = None):
    full_env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **(env or {}))
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=full_env, timeout=timeout, cwd=cwd)


def _internal(folder: Path) -> Path:
    """Where the bundle keeps its libraries and data (`sys._MEIPASS`)."""
    if sys.platform == "darwin":
        return folder / "Contents" / "Frameworks"
    return folder / "_internal"


@pytest.mark.packaging
def test_bundle_prints_its_version(bundle):
    _, exe = bundle
    result = _run(exe, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"kling-preview {kling_preview.__version__}"


@pytest.mark.packaging
def test_bundle_validates_the_bundled_sample_headless(bundle, tmp_path):
    _, exe = bundle
    result = _run(exe, "validate", "--sample", cwd=tmp_path)  # not the checkout: the bundle's own assets
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.packaging
def test_bundle_renders_and_exports_the_sample(bundle, tmp_path):
    """OpenCV, PyAV and Pillow work inside the bundle: a short MP4 and a Kling export of the sample."""
    import av

    _, exe = bundle
    video = tmp_path / "sample.mp4"
    result = _run(exe, "render", "--sample", "-o", str(video), "--seconds", "1", "--fps", "8", "--width", "160")
    assert result.returncode == 0, result.stderr
    with av.open(str(video)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames >= 2

    export = tmp_path / "bundle"
    result = _run(exe, "export", "--sample", "-o", str(export))
    assert result.returncode == 0, result.stderr
    assert (export / "request.json").is_file()
    assert (export / "static_mask.png").is_file()


@pytest.mark.packaging
def test_bundle_app_starts_offscreen_and_quits_by_itself(bundle):
    """The window opens on the sample and closes itself; a hang or a crash fails the test."""
    _, exe = bundle
    try:
        result = _run(exe, "--sample", env={QUIT_ENV: "1500"}, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the app did not quit by itself; it must honour {QUIT_ENV}")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.packaging
def test_bundle_holds_assets_and_needed_qt_plugins_only(bundle):
    folder, _ = bundle
    internal = _internal(folder)
    assets = internal / "assets"
    assert (assets / "icon.png").is_file()
    assert (assets / "samples" / "sample.klproj").is_file()
    assert not list(assets.rglob("*.py")), "generator scripts do not belong in the bundle"
    assert list((internal / "cv2" / "data").glob("haarcascade_frontalface_default.xml")), "face cascade missing"

    plugins = next(internal.rglob("plugins/platforms")).parent
    names = {p.name for p in plugins.rglob("*") if p.is_file()}
    stems = {n.removeprefix("lib").split(".")[0] for n in names}
    platforms = {"qxcb", "qoffscreen"} if sys.platform.startswith("linux") else {"qoffscreen"}
    assert platforms <= stems
    assert {"qjpeg", "qgif"} <= stems  # imageformats
    libs = [p.name for p in internal.rglob("*") if p.is_file()]
    assert not [n for n in libs if "Qt6Quick" in n or "Qt6Qml" in n or "WebEngine" in n or "Qt6Pdf" in n]

    size = build.folder_size(folder)
    print(f"\nbundle {folder}: {size / 2**20:.0f} MiB")
    assert size < 700 * 2**20, f"the bundle grew to {size / 2**20:.0f} MiB; look for an unwanted dependency"


@pytest.mark.packaging
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the per-user installer is for Linux desktops")
def test_linux_installer_puts_menu_entry_icon_and_link_in_prefix(bundle, tmp_path):
    folder, _ = bundle
    prefix = tmp_path / "prefix"
    env = dict(os.environ, PREFIX=str(prefix), HOME=str(tmp_path))
    env.pop("XDG_DATA_HOME", None)
    script = PACKAGING / "linux" / "install.sh"
    result = subprocess.run(["sh", str(script), str(folder)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    link = prefix / "bin" / "kling-preview"
    assert _run(link, "--version").stdout.strip() == f"kling-preview {kling_preview.__version__}"
    entry = (prefix / "share" / "applications" / "kling-preview.desktop").read_text()
    assert f'Exec="{prefix}/lib/kling-preview/kling-preview" %f' in entry
    assert (prefix / "share" / "icons" / "hicolor" / "512x512" / "apps" / "kling-preview.png").is_file()
    assert (prefix / "share" / "mime" / "packages" / "kling-preview.xml").is_file()

    result = subprocess.run(["sh", str(script), "--uninstall"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert not link.exists() and not (prefix / "lib" / "kling-preview").exists()


# ----- fast checks of the static packaging files (default run) ---------------------------------------------
def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(PACKAGING / "linux" / "kling-preview.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_opens_files_with_the_app_and_names_the_icon():
    entry = _desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "kling-preview" and entry["Exec"].split()[1] in ("%f", "%F")
    assert entry["Icon"] == "kling-preview"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";") and entry["MimeType"].endswith(";")


def test_desktop_entry_mime_type_is_the_one_that_claims_klproj():
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    tree = ET.parse(PACKAGING / "linux" / "kling-preview-mime.xml")
    types = {t.get("type"): t for t in tree.getroot().findall("m:mime-type", ns)}
    (klproj,) = [name for name, t in types.items() if t.find("m:glob", ns).get("pattern") == "*.klproj"]
    assert klproj in _desktop_entry()["MimeType"].split(";")


def test_committed_icons_are_the_sizes_the_platforms_ask_for():
    from PIL import Image

    with Image.open(ROOT / "assets" / "icon.png") as png:
        assert png.size == (512, 512) and png.mode == "RGBA"
    with Image.open(ROOT / "assets" / "icon.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])


def test_shortcuts_doc_lists_every_shortcut_of_the_app():
    """docs/shortcuts.md is written by hand; the Help dialog's list is what the window registers."""
    from kling_preview.ui.dialogs.help import SHORTCUTS

    doc = (ROOT / "docs" / "shortcuts.md").read_text(encoding="utf-8")
    cells = {line.split("|")[1].strip() for line in doc.splitlines() if line.startswith("| ")}
    missing = [keys for keys, _ in SHORTCUTS if keys not in cells]
    assert not missing, f"docs/shortcuts.md lacks {missing}"
