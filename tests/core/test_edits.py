"""CatalogueEdit: apply, inverse and JSON form (what undo, the journal and replay share)."""

from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.edits import CatalogueEdit
from decoras_gui.core.session import catalogue_digest


def _cat(n: int) -> Catalogue:
    return Catalogue([Source(source_id=i + 1, x=float(i), y=2.0 * i, snr=float(i) or math.nan) for i in range(n)],
                     meta={"image": "a.fits", "model": "m"})


@st.composite
def edits(draw):
    n = draw(st.integers(0, 12))
    cat = _cat(n)
    ids = cat.ids
    remove = draw(st.lists(st.sampled_from(ids), unique=True)) if ids else []
    rest = [i for i in ids if i not in remove]
    changed = draw(st.lists(st.sampled_from(rest), unique=True)) if rest else []
    n_new = draw(st.integers(0, 4))
    final_len = n - len(remove) + n_new
    rows = [cat.get(i).replace(status="accepted", note=f"n{i}") for i in changed]
    rows += [Source(source_id=100 + k, x=-1.0 * k) for k in range(n_new)]
    slots = draw(st.permutations(range(final_len)))[:len(rows)] if final_len else []
    meta = draw(st.one_of(st.none(), st.just({"model": "other", "radesys": "fk5"})))
    return cat, CatalogueEdit("edit", remove=tuple(remove), upsert=tuple(zip(slots, rows)), meta=meta)


#: no wall-clock judgement: no deadline per case, no health check on how fast cases are drawn
ANY_SPEED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


@settings(max_examples=300, **ANY_SPEED)
@given(edits())
def test_inverse_restores_the_catalogue_row_for_row(case):
    cat, edit = case
    before_digest, before_meta = catalogue_digest(cat), dict(cat.meta)
    before = cat.copy()
    edit.apply(cat)
    for index, s in edit.upsert:  # every upserted row lands at its index
        assert cat.index(s.source_id) == index and cat.get(s.source_id) == s
    assert not any(i in cat for i in edit.removed_ids(before))
    edit.inverse(before).apply(cat)
    assert catalogue_digest(cat) == before_digest and cat.meta == before_meta


@settings(max_examples=100, **ANY_SPEED)
@given(edits())
def test_json_round_trip_applies_the_same(case):
    cat, edit = case
    other = cat.copy()
    edit.apply(cat)
    CatalogueEdit.from_json(json.loads(json.dumps(edit.to_json(), allow_nan=False))).apply(other)
    assert catalogue_digest(cat) == catalogue_digest(other) and cat.meta == other.meta


def test_builders_and_ids():
    cat = _cat(3)
    add = CatalogueEdit.add(cat, [Source(source_id=-1, x=9.0), Source(source_id=2, x=8.0)], "add")
    assert [s.source_id for _, s in add.upsert] == [4, 5] and [i for i, _ in add.upsert] == [3, 4]
    assert add.added_ids(cat) == [4, 5] and add.changed_ids(cat) == []
    upd = CatalogueEdit.update(cat, [cat.get(2).replace(status="rejected")], "reject")
    assert upd.changed_ids(cat) == [2] and upd.upsert[0][0] == 1
    dele = CatalogueEdit.delete(cat, [3, 77], "delete")
    assert dele.remove == (3,) and dele.removed_ids(cat) == [3]
    whole = CatalogueEdit.replace_all(cat, Catalogue([Source(source_id=9)], meta={"model": "x"}), "detect")
    whole.apply(cat)
    assert cat.ids == [9] and cat.meta == {"model": "x"} and whole.whole
    assert not CatalogueEdit("nothing")
