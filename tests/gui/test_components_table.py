"""The source table as a tree: a source of several components is one row that expands to them;
selecting it selects them all and one accept vets them in one undo step."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel

from decoras_gui.core.catalogue import ACCEPTED, CANDIDATE, Catalogue, Source
from decoras_gui.core.components import assign_groups
from decoras_gui.core.vetting import status_edit
from decoras_gui.gui.document import CatalogueDocument
from decoras_gui.gui.source_table import SourceTableWidget


def _catalogue() -> Catalogue:
    comps = [Source(x=x, y=10.0, peak_flux=p, total_flux=p, maj_img=3.0, min_img=3.0, theta_img=0.0, local_rms=0.01)
             for x, p in ((10.0, 1.0), (13.0, 0.5), (60.0, 0.4))]
    return Catalogue(assign_groups(comps, [1, 1, 2]))


def test_a_source_row_expands_to_its_components_and_is_vetted_whole(qtbot):
    doc = CatalogueDocument()
    table = SourceTableWidget(doc)
    qtbot.addWidget(table)
    doc.set_catalogue(_catalogue())
    proxy = table.proxy
    assert proxy.rowCount() == 2 and table.row_count() == 3  # two sources, three components (ellipses)
    source = proxy.index(0, 0)
    assert proxy.rowCount(source) == 2 and source.data() == "1 (2)"
    assert proxy.index(0, 1).data() == "M" and proxy.index(1, 1).data() == "S"
    table.view.selectionModel().select(source, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                       | QItemSelectionModel.SelectionFlag.Rows)
    assert doc.selected_ids == [1, 2] and table.selected_ids() == [1, 2]
    doc.apply(status_edit(doc.catalogue, doc.selected_ids, ACCEPTED))
    assert [s.status for s in doc.catalogue] == [ACCEPTED, ACCEPTED, CANDIDATE]
    assert proxy.index(0, 0).siblingAtColumn(_col("status")).data() == ACCEPTED
    doc.undo_stack.undo()  # one step undoes the whole source
    assert [s.status for s in doc.catalogue] == [CANDIDATE] * 3
    # a component picked on the image: its row is selected and its source opened
    doc.set_selection([2])
    assert table.selected_ids() == [2] and table.view.isExpanded(proxy.index(0, 0))
    # next / previous step by rows: from the component to the next source
    assert table.neighbour_ids([2], +1) == [3] and table.neighbour_ids([3], -1) == [2]


def _col(key: str) -> int:
    from decoras_gui.gui.source_table import COLUMN_INDEX

    return COLUMN_INDEX[key]
