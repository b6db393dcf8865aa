"""Sources made of components (core/components): grouping rules, per-source and per-component
files, grouped regions; on a simulated core-jet field through the real bundled model and on
the observed NGC 1052 jet."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy.table import Table

from decoras_gui.core.catalogue import ACCEPTED, REJECTED, Catalogue, Source
from decoras_gui.core.components import NO_GROUP, aggregate, assign_groups, per_source, source_groups
from decoras_gui.core.image import load_fits
from decoras_gui.core.regions_io import read_regions, regions_to_sources, write_regions


def comp(x: float, y: float, peak: float, size: float = 3.0, **kw) -> Source:
    return Source(x=x, y=y, peak_flux=peak, total_flux=peak, maj_img=size, min_img=size, theta_img=0.0,
                  local_rms=0.01, **kw)


def test_touching_components_are_one_source_and_far_ones_are_not():
    out = assign_groups([comp(10, 10, 1.0), comp(13, 10, 0.5), comp(60, 60, 0.5)], [1, 1, 2])
    assert out[0].group == out[1].group != NO_GROUP and out[2].group == NO_GROUP
    assert [s.s_code for s in out] == ["M", "M", "S"]
    groups = source_groups(Catalogue(out))
    assert [len(g.component_ids) for g in groups] == [2, 1] and groups[0].source_id == 1  # the brightest


def test_an_island_of_two_separate_sources_gives_c_codes():
    # one island (the detection threshold joined them) but 6 FWHMs apart with nothing between: two sources
    out = assign_groups([comp(10, 10, 1.0), comp(28, 10, 1.0)], [1, 1])
    assert [s.s_code for s in out] == ["C", "C"] and out[0].group == out[1].group == NO_GROUP


def test_a_bridge_in_the_restored_map_joins_components_of_different_islands():
    restored = np.zeros((40, 60))
    restored[8:13, 10:41] = 0.2  # a jet at 20 sigma from one knot to the other
    rms = np.full_like(restored, 0.01)
    comps = [comp(10, 10, 1.0), comp(40, 10, 0.5)]
    assert assign_groups(comps, [1, 2])[0].group == NO_GROUP
    joined = assign_groups(comps, [1, 2], restored=restored, rms_map=rms, beam_px=6.0)  # reach 6 beams
    assert joined[0].group == joined[1].group != NO_GROUP


def test_aggregate_sums_flux_and_takes_moments():
    a, b = comp(10, 10, 1.0, ra=150.0, dec=40.0, maj=1e-3, min=1e-3, pa=0.0, source_id=1), \
        comp(14, 10, 1.0, ra=150.0 + 4e-3 / 3600 / math.cos(math.radians(40)), dec=40.0, maj=1e-3, min=1e-3,
             pa=0.0, source_id=2)
    row = aggregate([a, b], {"beam_maj": 1e-3, "beam_min": 1e-3, "beam_pa": 0.0})
    assert row.total_flux == pytest.approx(2.0) and row.peak_flux == 1.0 and row.x == pytest.approx(12.0)
    assert row.maj > row.min and abs(abs(row.pa) - 90.0) < 1e-6  # elongated east-west
    assert row.maj_img > 4.0 and row.min_img == pytest.approx(3.0)
    rejected = aggregate([a, b.replace(status=REJECTED)])
    assert rejected.total_flux == pytest.approx(1.0) and rejected.status != REJECTED


def test_per_component_and_per_source_files_read_back(tmp_path):
    cat = Catalogue(assign_groups([comp(10, 10, 1.0), comp(13, 10, 0.5), comp(60, 60, 0.5)], [7, 7, 9]))
    path = tmp_path / "c.ecsv"
    cat.write(path)
    table = Table.read(path)
    assert table.colnames[:4] == ["source_id", "component_id", "island", "s_code"]
    assert list(table["source_id"]) == [1, 1, 3] and list(table["component_id"]) == [1, 2, 3]
    assert list(table["island"]) == [1, 1, 2] and list(table["s_code"]) == ["M", "M", "S"]
    back = Catalogue.read(path)
    assert [len(g.component_ids) for g in source_groups(back)] == [2, 1]
    cat.write(tmp_path / "s.fits", per="source")
    sources = Table.read(tmp_path / "s.fits")
    assert list(sources["source_id"]) == [1, 3] and list(sources["n_components"]) == [2, 1]
    assert sources["total_flux"][0] == pytest.approx(1.5)


def test_regions_are_grouped_by_a_source_tag(tmp_path):
    cat = Catalogue(assign_groups([comp(10, 10, 1.0), comp(13, 10, 0.5), comp(60, 60, 0.5)], [1, 1, 2]))
    write_regions(cat, tmp_path / "r.reg", frame="image")
    text = (tmp_path / "r.reg").read_text()
    assert text.count("tag={source 1}") == 2
    back = Catalogue(regions_to_sources(read_regions(tmp_path / "r.reg")))
    assert [len(g.component_ids) for g in source_groups(back)] == [2, 1]


def test_vetting_a_source_is_one_edit_of_its_components():
    from decoras_gui.core.vetting import status_edit

    cat = Catalogue(assign_groups([comp(10, 10, 1.0), comp(13, 10, 0.5), comp(60, 60, 0.5)], [1, 1, 2]))
    group = source_groups(cat)[0]
    edit = status_edit(cat, group.component_ids, ACCEPTED)
    before = cat.copy()
    edit.apply(cat)
    assert [s.status for s in cat] == [ACCEPTED, ACCEPTED, "candidate"]
    edit.inverse(before).apply(cat)
    assert list(cat) == list(before)


def test_simulated_core_jets_come_out_as_sources(tmp_path, bundled_model):
    """A simulated field of core-jets and doubles through the real model: components the truth
    puts in one source and the detection finds both of are mostly one source, and no source
    mixes two truth sources."""
    from decoras_gui.ml.tasks import get_task
    from decoras_gui.sim.config import SimConfig
    from decoras_gui.sim.field import simulate_field
    from decoras_gui.sim.output import write_field

    cfg = SimConfig(size=256, max_sources=8, empty_fraction=0.0, kind_probs=(0.0, 0.0, 0.5, 0.5))
    mixed = joined = 0
    for k in range(20, 28):  # eight fields of doubles and core-jets (benchmarks/grouping.py, seed 5)
        image, beam, truth_path = write_field(simulate_field((5, k), cfg), tmp_path, f"f{k}")
        cat = get_task("detect").run(load_fits(image), bundled_model, device="cpu", psf=beam).result
        truth = Table.read(truth_path)
        tx, ty, tg = (np.asarray(truth[c]) for c in ("x", "y", "group"))
        nearest = {s.source_id: int(tg[np.argmin(np.hypot(tx - s.x, ty - s.y))]) for s in cat}
        for g in source_groups(cat):
            truths = {nearest[c] for c in g.component_ids}
            mixed += len(truths) > 1
            joined += g.multi
    assert joined >= 2 and mixed == 0


def test_ngc1052_jet_is_few_sources(real_data, bundled_model):
    """The VLBA NGC 1052 twin jet: 15 components, once 15 unrelated sources, now a handful: the
    core and its inner jet one source, the western jet another."""
    from decoras_gui.ml.tasks import get_task

    cat = get_task("detect").run(load_fits(real_data / "vlba_X_NGC1052_2017-04-04_map.fits"), bundled_model,
                                 device="cpu").result
    groups = source_groups(cat)
    assert len(cat) >= 10 and len(groups) <= len(cat) // 2
    core = max(cat, key=lambda s: s.peak_flux)
    of_core = next(g for g in groups if core.source_id in g.component_ids)
    assert of_core.s_code == "M" and len(of_core.component_ids) >= 4
    assert sum(g.multi for g in groups) >= 2  # the western jet is a source of its own too
    table = per_source(cat)[0]
    assert len(table) == len(groups)
