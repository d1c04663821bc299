"""No file of the user's is lost to an export or an import: foreign files, kills, concurrent writers, links."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_project, textured_pixels
from PIL import Image

from kling_preview.cli import main
from kling_preview.core import exportfolder
from kling_preview.core.errors import OutputError
from kling_preview.core.project import STATIC, Project
from kling_preview.core.projectfile import load_project, save_project
from kling_preview.core.spec.kling import export_bundle


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every entry of `folder` with its bytes (None for a folder)."""
    return {p.name: None if p.is_dir() else p.read_bytes() for p in sorted(folder.iterdir())}


def plain_jpeg(width: int = 640, height: int = 400) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(textured_pixels(width, height, 5)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def painted(regions: int, seed: int = 0, static: bool = True) -> Project:
    project = make_project(640, 400, seed=seed)
    for i in range(regions):
        region = project.add_region()
        x, y = 100 + 150 * i, 120
        project.paint(region.label, [(x, y)], 25)
        region.trajectory = [(x, y), (x + 40.0, y + 30.0)]
    if static:
        project.paint(STATIC, [(320, 340)], 30)
    return project


# ----- 1. only files an earlier export wrote are replaced ------------------------------------------


def test_export_into_the_folder_holding_the_input_keeps_the_input(capsys, tmp_path):
    folder = tmp_path / "shoot"
    folder.mkdir()
    photo = folder / "image.jpg"  # the very name an export of a JPEG writes
    photo.write_bytes(plain_jpeg())
    before = tree(folder)
    code, _, err = run(capsys, "export", str(photo), "-o", str(folder))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "image.jpg" in lines[0]
    assert "not written by an export" in lines[0]
    assert tree(folder) == before  # the input is untouched and nothing else appeared


def test_the_users_own_request_and_files_refuse_the_export_and_survive(capsys, tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    (folder / "image.jpeg").write_bytes(plain_jpeg())
    (folder / "request.json").write_text('{"prompt": "my own hand-written request"}')
    before = tree(folder)
    save_project(painted(2), tmp_path / "p.klproj")
    code, _, err = run(capsys, "export", str(tmp_path / "p.klproj"), "-o", str(folder))
    assert code == 2 and err.count("\n") == 1 and "request.json" in err
    assert tree(folder) == before


def test_reexport_replaces_only_its_own_files(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    mine = {"notes.txt": b"my notes", "image.jpeg": plain_jpeg(), "dynamic_mask_3.png": b"my own mask"}
    for name, data in mine.items():
        (folder / name).write_bytes(data)
    export_bundle(painted(2), folder)
    assert (folder / exportfolder.MANIFEST).is_file()
    export_bundle(painted(1, static=False), folder)  # fewer files: our stale ones go
    names = {p.name for p in folder.iterdir()}
    assert "dynamic_mask_2.png" not in names and "static_mask.png" not in names
    assert {n: (folder / n).read_bytes() for n in mine} == mine


def test_a_file_of_ours_the_user_changed_is_no_longer_ours(capsys, tmp_path):
    folder = tmp_path / "bundle"
    export_bundle(painted(2), folder)
    edited = (folder / "request.json").read_text() + "\n"  # a hand edit, however small
    (folder / "request.json").write_text(edited)
    save_project(painted(1), tmp_path / "p.klproj")
    code, _, err = run(capsys, "export", str(tmp_path / "p.klproj"), "-o", str(folder))
    assert code == 2 and "request.json" in err
    assert (folder / "request.json").read_text() == edited
    assert (folder / "dynamic_mask_2.png").exists()  # nothing of the old export was removed either


def test_a_link_in_place_of_our_file_is_never_written_through(tmp_path):
    precious = tmp_path / "precious.json"
    precious.write_text("keep me")
    folder = tmp_path / "bundle"
    export_bundle(painted(1), folder)
    (folder / "request.json").unlink()
    (folder / "request.json").symlink_to(precious)
    with pytest.raises(exportfolder.ForeignFilesError, match="request.json"):
        export_bundle(painted(1), folder)
    assert precious.read_text() == "keep me" and (folder / "request.json").is_symlink()


# ----- 2. import never replaces the input, a request or a photo ------------------------------------


@pytest.fixture
def request_json(tmp_path) -> Path:
    export_bundle(painted(1), tmp_path / "bundle")
    return tmp_path / "bundle" / "request.json"


def test_import_onto_its_own_input_is_refused(capsys, request_json):
    before = request_json.read_bytes()
    code, _, err = run(capsys, "import", str(request_json), "-o", str(request_json))
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ")
    assert request_json.read_bytes() == before


def test_import_onto_a_hard_link_of_its_input_is_refused(capsys, request_json, tmp_path):
    link = tmp_path / "alias.klproj"
    os.link(request_json, link)
    before = request_json.read_bytes()
    code, _, err = run(capsys, "import", str(request_json), "-o", str(link))
    assert code == 2 and "is the input" in err
    assert request_json.read_bytes() == before and link.read_bytes() == before


@pytest.mark.parametrize("name", ["photo.jpg", "other.json", "fake.klproj"])
def test_import_over_a_file_that_is_not_a_project_is_refused(capsys, request_json, tmp_path, name):
    victim = tmp_path / name
    victim.write_bytes(plain_jpeg() if name.endswith(".jpg") else b"not a project")
    before = victim.read_bytes()
    code, _, err = run(capsys, "import", str(request_json), "-o", str(victim))
    assert code == 2 and err.count("\n") == 1 and name in err and "not a .klproj project" in err
    assert victim.read_bytes() == before


def test_import_still_replaces_an_older_project(capsys, request_json, tmp_path):
    out = tmp_path / "old.klproj"
    save_project(painted(3), out)
    code, _, err = run(capsys, "import", str(request_json), "-o", str(out))
    assert code == 0, err
    assert len(load_project(out).regions) == 1


# ----- 3. all or nothing, even when killed; one writer at a time -----------------------------------

KILL_SCRIPT = """
import os, sys
from pathlib import Path
from kling_preview.core import exportfolder
from kling_preview.cli import main

limit = int(sys.argv[1])
real = os.replace
done = [0]

def replace(src, dst):
    if Path(src).parent.name == exportfolder.STAGING or Path(dst).parent.name == exportfolder.BACKUP:
        if done[0] == limit:
            os._exit(9)  # a kill: no cleanup, no finally
        done[0] += 1
    return real(src, dst)

os.replace = replace
sys.exit(main(["export", sys.argv[2], "-o", sys.argv[3]]))
"""


def run_script(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("renames", [0, 5, 12])
def test_a_kill_during_the_swap_is_completed_by_the_next_reader(capsys, tmp_path, renames):
    folder = tmp_path / "bundle"
    export_bundle(painted(3), folder)
    old = tree(folder)
    new_project = tmp_path / "new.klproj"
    save_project(painted(2, seed=4), new_project)
    export_bundle(load_project(new_project), tmp_path / "reference")
    new = tree(tmp_path / "reference")

    killed = run_script(KILL_SCRIPT, str(renames), str(new_project), str(folder))
    assert killed.returncode == 9, killed.stderr
    assert (folder / exportfolder.JOURNAL).exists()  # the swap was caught half-way
    assert tree(folder) not in (old, new)

    code, _, err = run(capsys, "validate", str(folder))
    assert code == 0, err
    assert tree(folder) == new  # completed: every new file, no old one, no journal, no scratch folder


def test_a_kill_during_the_swap_is_completed_by_the_next_export(tmp_path):
    folder = tmp_path / "bundle"
    export_bundle(painted(3), folder)
    new_project = tmp_path / "new.klproj"
    save_project(painted(2, seed=4), new_project)
    assert run_script(KILL_SCRIPT, "7", str(new_project), str(folder)).returncode == 9
    third = painted(1, seed=9, static=False)
    export_bundle(third, folder)
    export_bundle(third, tmp_path / "reference")
    assert tree(folder) == tree(tmp_path / "reference")


def test_a_failed_rename_puts_the_old_export_back(tmp_path, monkeypatch):
    folder = tmp_path / "bundle"
    export_bundle(painted(3), folder)
    before = tree(folder)
    real = os.replace
    failed: list[str] = []

    def replace(src, dst):
        if Path(dst) == folder / "request.json" and not failed:
            failed.append(str(dst))
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError, match="Input/output error"):
        export_bundle(painted(1, seed=2), folder)
    assert tree(folder) == before


def test_a_second_writer_waits_for_the_lock(tmp_path, monkeypatch):
    folder = tmp_path / "bundle"
    export_bundle(painted(3), folder)
    before = tree(folder)
    monkeypatch.setattr(exportfolder, "LOCK_WAIT_SECONDS", 0.3)
    with exportfolder.folder_lock(folder):  # another writer at work (a lock is per open file, so this works in-process)
        with pytest.raises(OutputError, match="another export is still writing"):
            export_bundle(painted(1), folder)
        assert tree(folder) == {**before, exportfolder.LOCK: b""}
    assert tree(folder) == before  # the lock file goes with the lock
    export_bundle(painted(1), folder)
    assert (folder / "dynamic_mask_1.png").exists() and not (folder / "dynamic_mask_3.png").exists()


SLOW_SCRIPT = """
import os, sys, time
from kling_preview.cli import main

real = os.replace

def replace(src, dst):
    time.sleep(0.02)  # widen the rename phase, so unserialised writers would interleave
    return real(src, dst)

os.replace = replace
sys.exit(main(["export", sys.argv[1], "-o", sys.argv[2]]))
"""


def test_two_concurrent_exports_never_mix(tmp_path):
    folder = tmp_path / "bundle"
    export_bundle(painted(2, seed=1), folder)
    inputs, references = [], []
    for i, project in enumerate([painted(3, seed=2), painted(1, seed=3, static=False)]):
        save_project(project, tmp_path / f"{i}.klproj")
        export_bundle(project, tmp_path / f"ref{i}")
        inputs.append(str(tmp_path / f"{i}.klproj"))
        references.append(tree(tmp_path / f"ref{i}"))
    procs = [
        subprocess.Popen([sys.executable, "-c", SLOW_SCRIPT, path, str(folder)], stderr=subprocess.PIPE)
        for path in inputs
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert tree(folder) in references  # exactly one export's files, whichever came last


# ----- 14. failed exports leave no folders; links keep pointing at the new content -----------------


def test_a_failed_export_removes_the_folders_it_created(tmp_path, monkeypatch):
    real = os.replace

    def replace(src, dst):
        if Path(dst).name == "request.json":
            raise OSError(errno.EACCES, "Permission denied")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError):
        export_bundle(painted(1), tmp_path / "a" / "b" / "bundle")
    assert list(tmp_path.iterdir()) == []


def test_a_refused_export_into_an_existing_folder_keeps_that_folder(capsys, tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "request.json").write_text("{}")
    save_project(painted(1), tmp_path / "p.klproj")
    assert run(capsys, "export", str(tmp_path / "p.klproj"), "-o", str(folder))[0] == 2
    assert folder.is_dir() and tree(folder) == {"request.json": b"{}"}


def test_replacing_a_linked_project_writes_the_target_and_keeps_the_link(capsys, request_json, tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    target = private / "real.klproj"
    save_project(painted(3), target)
    os.chmod(target, 0o600)
    link = tmp_path / "link.klproj"
    link.symlink_to(target)
    code, _, err = run(capsys, "import", str(request_json), "-o", str(link))
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == target
    assert len(load_project(target).regions) == 1  # the target holds the new project
    assert target.stat().st_mode & 0o777 == 0o600  # and keeps its own permissions
    assert sorted(p.name for p in private.iterdir()) == ["real.klproj"]


def test_replacing_a_plain_file_keeps_its_permissions(capsys, request_json, tmp_path):
    out = tmp_path / "shared.klproj"
    save_project(painted(2), out)
    os.chmod(out, 0o640)
    assert run(capsys, "import", str(request_json), "-o", str(out))[0] == 0
    assert out.stat().st_mode & 0o777 == 0o640 and not out.is_symlink()


def test_render_onto_its_own_input_is_refused(capsys, tmp_path):
    still = tmp_path / "still.gif"
    Image.fromarray(textured_pixels(320, 240)).save(still, "GIF")
    before = still.read_bytes()
    code, _, err = run(capsys, "render", str(still), "-o", str(tmp_path / "." / "still.gif"), "--seconds", "0.2")
    assert code == 2 and err.count("\n") == 1 and "is the input" in err
    assert still.read_bytes() == before


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_a_file_system_without_locks_still_exports(tmp_path, monkeypatch):
    import fcntl

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    export_bundle(painted(1), tmp_path / "bundle")
    assert (tmp_path / "bundle" / "request.json").is_file()
    assert not (tmp_path / "bundle" / exportfolder.LOCK).exists()
