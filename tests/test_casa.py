"""CASA region text (CRTF) read back by CASA itself: ``casatools`` from PyPI (the ``casa`` extra,
installed by scripts/setup) with its measures data (``casadata``).

CASA runs in a child process (it parses ``sys.argv`` and writes its log in the working
folder), configured by a site file that points it at ``casadata`` and turns its downloads off.
The child converts the FITS image to a CASA image, reads our ``.crtf`` with the region
manager, and paints the region into the image; the painted pixels must be the pixels our own
ellipses cover (``regions`` masks, centre mode) -- which holds only when centre, radii and
position angle all mean the same thing to CASA as to us.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.regions_io import catalogue_to_regions, write_regions
from tests.core.test_regions_io import make_wcs

INSTALL_HINT = "casatools and casadata are needed: pip install -e '.[casa]' (scripts/setup installs them)"

CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import casatools
    image, regions, out = sys.argv[1:4]
    ia, rg = casatools.image(), casatools.regionmanager()
    ia.fromfits("image.casa", image, overwrite=True)
    region = rg.fromtextfile(regions, shape=ia.shape(), csys=ia.coordsys().torecord())
    ia.set(pixels=0.0)
    ia.set(pixels=1.0, region=region)
    mask = ia.getchunk()[:, :, 0, 0] if ia.shape().size > 2 else ia.getchunk()
    np.save(out, mask.T > 0.5)  # CASA's (x, y) order to numpy's (y, x)
    parts = [p for p in region.get("regions", {"0": region}).values() if isinstance(p, dict)]
    print(json.dumps({"n": len(parts), "names": sorted({p["name"] for p in parts})}))
    ia.done()
""")


def _casa_python_env(tmp_path) -> dict:
    try:
        import casadata
    except ImportError:
        pytest.fail(INSTALL_HINT)
    site = tmp_path / "casasiteconfig.py"
    site.write_text(f"measurespath = {casadata.datapath!r}\nmeasures_auto_update = False\n"
                    "data_auto_update = False\n")
    import os

    return dict(os.environ, CASASITECONFIG=str(site))


def _casa_mask(tmp_path, image, regions) -> tuple[np.ndarray, dict]:
    script = tmp_path / "casa_child.py"
    script.write_text(CHILD)
    out = tmp_path / "casa_mask.npy"
    r = subprocess.run([sys.executable, str(script), str(image), str(regions), str(out)], cwd=tmp_path,
                       env=_casa_python_env(tmp_path), capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        tail = "\n".join((r.stdout + r.stderr).splitlines()[-15:])
        if "No module named 'casatools'" in tail:
            pytest.fail(INSTALL_HINT)
        raise AssertionError(f"CASA could not read {regions.name}:\n{tail}")
    return np.load(out), json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture
def field(tmp_path):
    """A 200 x 200 image of 1 mas pixels and three ellipses of VLBI size at different angles."""
    wcs = make_wcs("FK5")
    wcs.wcs.crpix = [101.0, 101.0]
    image = tmp_path / "field.fits"
    fits.PrimaryHDU(np.zeros((200, 200), np.float32), header=wcs.to_header()).writeto(image)
    cat = Catalogue()
    for x, y, maj, mn, pa in [(50.0, 60.0, 40.0, 12.0, 30.0), (140.0, 130.0, 30.0, 10.0, 120.0),
                              (60.0, 150.0, 24.0, 16.0, 75.0)]:
        sky = wcs.pixel_to_world(x, y)
        cat.add(Source(x=x, y=y, ra=sky.ra.deg, dec=sky.dec.deg, maj=maj * 1e-3, min=mn * 1e-3, pa=pa,
                       maj_img=maj, min_img=mn, theta_img=(pa + 90.0) % 180.0, status="accepted"))
    return image, wcs, cat


def _our_mask(cat, wcs, shape, frame):
    mask = np.zeros(shape, bool)
    for reg in catalogue_to_regions(cat, wcs=wcs, frame=frame):
        pix = reg.to_pixel(wcs) if frame != "image" else reg
        mask |= pix.to_mask(mode="center").to_image(shape).astype(bool)
    return mask


@pytest.mark.parametrize("frame", ["fk5", "image"])
def test_casa_reads_our_crtf_as_the_same_ellipses(tmp_path, field, frame):
    image, wcs, cat = field
    path = tmp_path / f"sources_{frame}.crtf"
    write_regions(cat, path, wcs=wcs, frame=frame)
    casa, info = _casa_mask(tmp_path, image, path)
    assert info["n"] == 3 and info["names"] == ["WCEllipsoid"]
    ours = _our_mask(cat, wcs, (200, 200), frame)
    iou = (casa & ours).sum() / (casa | ours).sum()
    assert ours.sum() > 3 * 100 and iou > 0.97, f"CASA and decoras-gui ellipses differ (IoU {iou:.3f})"
    # the test can fail: the ellipses turned by 90 degrees cover other pixels
    turned = cat.copy()
    for s in list(turned):
        turned.update(s.source_id, pa=(s.pa + 90.0) % 180.0, theta_img=s.pa)
    wrong = _our_mask(turned, wcs, (200, 200), frame)
    assert (casa & wrong).sum() / (casa | wrong).sum() < 0.6


def test_casa_sizes_are_fwhm_and_frames_tie_within_tens_of_mas(tmp_path, field):
    """One ellipse alone: the area CASA paints is pi/4 maj min, maj and min the catalogue's FWHM,
    centred where it is. Written in another frame than the image's (ICRS for an FK5 image),
    CASA's ICRS-J2000 tie and astropy's differ by some 30 mas: a VLBI user writes regions in the
    image's own frame (docs/catalogue.md says so)."""
    image, wcs, cat = field
    one = Catalogue([cat[0].replace(source_id=-1)])
    s = one[0]
    assert u.Quantity(1, u.mas).to_value(u.deg) == pytest.approx(abs(wcs.wcs.cdelt[0]))
    centres = {}
    for frame in ("fk5", "icrs"):
        path = tmp_path / f"one_{frame}.crtf"
        write_regions(one, path, wcs=wcs, frame=frame)
        casa, _ = _casa_mask(tmp_path, image, path)
        area = np.pi / 4 * (s.maj / 1e-3) * (s.min / 1e-3)  # pixels of 1 mas
        assert casa.sum() == pytest.approx(area, rel=0.05)
        centres[frame] = np.argwhere(casa).mean(axis=0)
    assert centres["fk5"] == pytest.approx([s.y, s.x], abs=0.5)
    assert 1.0 < np.hypot(*(centres["icrs"] - [s.y, s.x])) < 50.0
