"""Importing and exporting trajectory files (KJNodes coordinates, Wan ATI tracks): the window's actions.

A mixin of `MainWindow`. Reading, fitting and writing tracks is the core's (`core.spec.tracks`,
`core.edits.fit_tracks`); the import itself is one `ImportTracks` edit, so it undoes in one step.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox

from kling_preview.core import trajectory as traj
from kling_preview.core.edits import ImportTracks, fit_tracks
from kling_preview.core.project import MAX_REGIONS, REGION_LIMIT_TEXT
from kling_preview.core.spec.tracks import image_tracks, read_track_file, write_track_file

if TYPE_CHECKING:
    from .main_window import MainWindow


TRACKS_OPEN_FILTER = "Trajectory files: KJNodes, ComfyUI workflows, ATI tracks (*.json *.txt *.pth);;All files (*)"
KJNODES_FILTER = "KJNodes coordinates, 81 points per track (*.json)"
SPLINE_FILTER = "KJNodes SplineEditor points, as drawn (*.json)"
ATI_PTH_FILTER = "ATI tracks for bytedance/ATI, 121 points per track (*.pth)"
ATI_FILTER = "ComfyUI ATI node, 121 points per track (*.json)"
#: File > Export Trajectories: dialog filter -> the format's name in `core.spec.tracks.write_track_file`.
EXPORT_FORMATS = {
    KJNODES_FILTER: "kjnodes",
    SPLINE_FILTER: "kjnodes-spline",
    ATI_PTH_FILTER: "ati",
    ATI_FILTER: "ati-json",
}


def count(n: int, one: str, many: str) -> str:
    """"1 trajectory", "3 trajectories"."""
    return f"{n} {one if n == 1 else many}"


class TrackFileActions:
    """File > Import / Export Trajectories, for `MainWindow` (self is the window)."""

    def import_trajectories(self: MainWindow, path: str | Path | None = None) -> bool:
        """Give region i track i of a KJNodes or Wan ATI file, as one undo step.

        Regions are added for more tracks, up to Kling's six; tracks beyond that are reported and left
        out. Tracks over 77 points are resampled to 77 (Kling's limit); points outside the image are
        kept as they are, for the Kling check to list.
        """
        project = self.project
        if project is None:
            return False
        self.canvas.commit_pending()
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(self, "Import trajectories", self._start_dir(), TRACKS_OPEN_FILTER)
            if not chosen:
                return False
            path = chosen
        path = Path(path)
        try:
            tracks, file_notes = image_tracks(read_track_file(path), project.size, path.name)
        except Exception as exc:  # a bug must not take the window down with it
            self._failed("Could not import trajectories", path, "importing trajectories from", exc)
            return False
        self._remember_dir(path)
        fit = fit_tracks(tracks)
        edit = ImportTracks(fit.used, f"Import trajectories from {path.name}")
        self.doc.apply(edit)
        if self.doc.target is None:
            self.doc.set_target(project.regions[0].label)
        notes = [f"Imported {count(len(fit.used), 'trajectory', 'trajectories')} from {path.name}", *file_notes]
        if edit.added:
            notes.append(f"{count(edit.added, 'region', 'regions')} added: paint the masks")
        if fit.shortened:
            notes.append(f"{fit.shortened} resampled to {traj.MAX_POINTS} points")
        self.statusBar().showMessage("; ".join(notes), 15000)
        if fit.left_out:
            left_out = (
                f"trajectory {MAX_REGIONS + 1}"
                if len(tracks) == MAX_REGIONS + 1
                else f"trajectories {MAX_REGIONS + 1} to {len(tracks)}"
            )
            QMessageBox.warning(
                self,
                "Trajectories left out",
                f"{path.name} has {len(tracks)} trajectories, but {REGION_LIMIT_TEXT}: "
                f"the first {MAX_REGIONS} were imported, {left_out} left out.",
            )
        return True

    def export_trajectories(self: MainWindow, path: str | Path | None = None, fmt: str = "kjnodes") -> bool:
        """Write the regions' trajectories in region order, in a format of EXPORT_FORMATS: as the peers'
        own loaders read them (see docs/cli.md, tracks). Without `path` a dialog asks for file and format."""
        if fmt not in EXPORT_FORMATS.values():
            raise ValueError(f"unknown trajectory format {fmt!r}")
        project = self.project
        if project is None:
            return False
        self.canvas.commit_pending()
        regions = [r for r in project.regions if r.trajectory]
        if not regions:
            self._inform("No region has a trajectory to export yet (draw one with the Trajectory tool, T).")
            return False
        if path is None:
            base = self.path or self.source
            stem = base.stem if base is not None else Path(project.image.name).stem
            start = str(Path(self._start_dir()) / f"{stem}-trajectories.json")
            chosen, selected = QFileDialog.getSaveFileName(
                self, "Export trajectories", start, ";;".join(EXPORT_FORMATS)
            )
            if not chosen:
                return False
            path, fmt = chosen, EXPORT_FORMATS.get(selected, "kjnodes")
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".pth" if fmt == "ati" else ".json")
        try:
            write_track_file(path, [r.trajectory for r in regions], fmt)
        except Exception as exc:
            self._failed("Could not export trajectories", path, "exporting trajectories to", exc)
            return False
        self._remember_dir(path)
        text = f"Exported {count(len(regions), 'trajectory', 'trajectories')} to {path.name}"
        missing = [r.name for r in project.regions if not r.trajectory]
        if missing:
            text += f" ({', '.join(missing)}: no trajectory, left out)"
        self.statusBar().showMessage(text, 10000)
        return True
