"""Files in and out of the window: exports (DS9 or CASA regions, catalogues, a PNG) and region imports.

:class:`ExchangeController` writes what the document holds, stamped with the image and the
model (one provenance stamp, :func:`~decoras_gui.core.provenance.stamp`), and reads DS9 region
files either as new candidate sources (measured on the image, one undo step) or as a
read-only reference layer (another program's regions, dashed).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from ..core.catalogue import CANDIDATE, Catalogue, Source
from ..core.edits import CatalogueEdit
from ..core.errors import DecorasError
from ..core.fileio import atomic_path
from ..core.formats import region_open_filter
from ..core.image import SkyImage
from ..core.provenance import stamp
from ..core.regions_io import read_regions, regions_to_sources, write_regions
from .actions import make_action
from .document import CatalogueDocument
from .export_dialog import ExportDialog
from .image_view import ImageCanvas
from .tools import ReferenceLayer
from .vetting import Notify, remeasured


class ExchangeController(QObject):
    """Export and import actions of one window."""

    exported = Signal(str)  # path written

    def __init__(self, doc: CatalogueDocument, canvas: ImageCanvas, image: Callable[[], SkyImage | None],
                 current_model: Callable[[], tuple[str, str]], notify: Notify,
                 error: Callable[[str, str], object], last_folder: Callable[[], str], parent: QWidget):
        super().__init__(parent)
        self.doc, self.canvas, self.image, self.current_model = doc, canvas, image, current_model
        self.notify, self.error, self.last_folder, self.parent_widget = notify, error, last_folder, parent
        self.dialog = None
        self.reference = ReferenceLayer(canvas.vb, self)

        def act(*args, **kw):
            return make_action(parent, *args, **kw)

        self.act_reference = act("Reference &Layer", self.reference.set_visible, (),
                                 "Show the imported reference regions (dashed)", checkable=True, name="reference")
        self.act_reference.setChecked(True)
        self.act_reference.setEnabled(False)
        self.act_export_regions = act("&Regions (DS9, CASA)…", lambda: self.export_dialog("regions"), (),
                                      "Export the sources as a DS9 (.reg) or CASA (.crtf) region file",
                                      name="export_regions")
        self.act_export_catalogue = act("&Catalogue…", lambda: self.export_dialog("catalogue"), (),
                                        "Export the catalogue (ECSV, CSV, FITS, VOTable)", name="export_catalogue")
        self.act_export_png = act("&PNG of the View…", lambda: self.export_dialog("png"), (),
                                  "Save the view with its ellipses as a PNG", name="export_png")
        self.act_import_sources = act("Regions as &Sources…", lambda: self.import_dialog(False), (),
                                      "Import a DS9 or CASA region file as candidate sources to vet",
                                      name="import_sources")
        self.act_import_reference = act("Regions as &Reference Layer…", lambda: self.import_dialog(True), (),
                                        "Show a DS9 or CASA region file (e.g. PyBDSF, Aegean) as a read-only layer",
                                        name="import_reference")
        self.image_actions = [self.act_export_regions, self.act_export_catalogue, self.act_export_png,
                              self.act_import_sources, self.act_import_reference]

    def update_actions(self, *_) -> None:
        has_image = self.image() is not None
        for a in self.image_actions:
            a.setEnabled(has_image)
        self.act_reference.setEnabled(len(self.reference) > 0)

    # ------------------------------------------------------------------ export
    def export_catalogue_object(self) -> Catalogue:
        """The catalogue stamped with the image, the model and this program (core.provenance)."""
        cat = self.doc.catalogue.copy()
        model, version = self.current_model()
        stamp(cat, self.image(), model=model or None, model_version=version, creator="decoras-gui")
        return cat

    def export_regions(self, path, frame: str = "fk5", statuses=None, labels: bool = True, colors=None,
                       format: str | None = None) -> str:
        """Write DS9 or CASA regions (``format``; by default the file name's extension says)."""
        wcs = self.image().wcs if self.image() is not None else None
        used = write_regions(self.doc.catalogue, path, wcs=wcs, frame=frame, statuses=statuses, colors=colors,
                             labels=labels, format=format)
        self.exported.emit(str(path))
        return used

    def export_catalogue(self, path, statuses=None, format: str | None = None, per: str = "component",
                         layout: str = "native") -> Path:
        """Write the catalogue: one row per ``per`` ('component' or 'source', core.catalogue.to_table),
        or a PyBDSF ``layout`` ('srl', 'gaul': core.pybdsf_layout)."""
        out = self.export_catalogue_object().write(path, format=format, statuses=statuses, per=per, layout=layout)
        self.exported.emit(str(path))
        return out

    def export_png(self, path) -> Path:
        pix = self.canvas.graphics.grab()
        path = Path(path)
        with atomic_path(path) as tmp:
            if not pix.save(str(tmp), "PNG"):
                raise DecorasError("cannot write the PNG", path)
        self.exported.emit(str(path))
        return path

    def _default_export_path(self, kind: str) -> str:
        image = self.image()
        stem = image.path.with_suffix("") if image is not None else Path.home() / "decoras"
        if str(stem).endswith(".fits"):
            stem = stem.with_suffix("")
        ext = {"regions": ".reg", "catalogue": ".ecsv", "png": ".png"}[kind]
        return str(stem) + ("_sources" if kind != "png" else "_view") + ext

    def export_dialog(self, kind: str) -> ExportDialog:
        d = ExportDialog(kind, self._default_export_path(kind), self.parent_widget)
        d.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        d.accepted.connect(lambda: self._run_export(d))
        self.dialog = d
        d.open()
        return d

    def _run_export(self, d: ExportDialog) -> None:
        path = d.path_row.path()
        if not path:
            return
        try:
            if d.kind == "regions":
                used = self.export_regions(path, d.frame.currentData(), d.statuses(), d.labels.isChecked(), d.colors,
                                           format=d.region_format.currentData())
                msg = f"Wrote {path} ({used} coordinates)."
            elif d.kind == "catalogue":
                self.export_catalogue(path, d.statuses(), d.format.currentData(), per=d.per.currentData(),
                                      layout=d.layout_box.currentData())
                msg = f"Wrote {path}."
            else:
                self.export_png(path)
                msg = f"Wrote {path}."
        except (DecorasError, OSError, ValueError) as exc:
            self.error("Export failed", str(exc))
            return
        self.notify(msg, 8000)

    # ------------------------------------------------------------------ import
    def _region_sources(self, path) -> list[Source]:
        regs = read_regions(path)
        wcs = self.image().wcs if self.image() is not None else None
        sources = regions_to_sources(regs, wcs=wcs)
        if regs.skipped:
            self.notify(f"{Path(path).name}: skipped {len(regs.skipped)} regions "
                                           "(only ellipses, circles and points are read).", 8000)
        return sources

    def import_sources(self, path) -> int:
        """A DS9 or CASA region file's regions as new candidate sources (origin 'imported'), measured on the image."""
        sources = []
        for s in self._region_sources(path):
            if not (math.isfinite(s.x) and math.isfinite(s.y)):
                continue
            s = s.replace(origin="imported", status=CANDIDATE)
            if self.image() is not None:
                s = remeasured(self.image(), s, s.x, s.y, s.maj_img if math.isfinite(s.maj_img) else 3.0,
                                  s.min_img if math.isfinite(s.min_img) else 3.0,
                                  s.theta_img if math.isfinite(s.theta_img) else 0.0)
            sources.append(s)
        if sources:
            label = f"Import {len(sources)} sources from {Path(path).name}"
            self.doc.apply(CatalogueEdit.add(self.doc.catalogue, sources, label))
        return len(sources)

    def load_reference(self, path) -> int:
        sources = self._region_sources(path)
        self.reference.set_sources(sources, Path(path))
        self.act_reference.setEnabled(len(self.reference) > 0)
        self.act_reference.setChecked(True)
        self.reference.set_visible(True)
        return len(self.reference)

    def import_dialog(self, reference: bool) -> QFileDialog:
        title = "Import regions as a reference layer" if reference else "Import regions as sources"
        d = QFileDialog(self.parent_widget, title, self.last_folder(), region_open_filter())
        d.setFileMode(QFileDialog.FileMode.ExistingFile)
        d.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

        def chosen(path: str) -> None:
            try:
                n = self.load_reference(path) if reference else self.import_sources(path)
            except DecorasError as exc:
                self.error("Cannot import the regions", str(exc))
                return
            self.notify(f"{n} regions from {Path(path).name}.", 8000)

        d.fileSelected.connect(chosen)
        self.dialog = d
        d.open()
        return d


__all__ = ["ExchangeController"]
