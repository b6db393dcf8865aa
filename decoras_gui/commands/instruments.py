"""`decoras instruments`: the arrays the simulator knows (bundled and added), one in detail, or
add one from an instrument file or a CASA antenna configuration."""

from __future__ import annotations

import argparse
import math

from ..cli import command


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", choices=("list", "show", "add"), default="list",
                   help="list (default), show NAME, or add FILE")
    p.add_argument("target", nargs="?", help="the instrument (show) or the file to add (add: .toml, or a CASA .cfg)")
    p.add_argument("--name", help="add: the instrument's name (required for a .cfg station file)")
    p.add_argument("--band", default="band", help="add .cfg: the band's name (default 'band')")
    p.add_argument("--band-centre", type=float, metavar="HZ", help="add .cfg: the band's centre frequency")
    p.add_argument("--bandwidth", type=float, metavar="HZ", help="add .cfg: a typical bandwidth (default 10 %%)")
    p.add_argument("--sefd", type=float, metavar="JY", help="add .cfg: every station's SEFD")
    p.add_argument("--tsys", type=float, metavar="K",
                   help="add .cfg: system temperature, the SEFD following from each dish (with --efficiency)")
    p.add_argument("--efficiency", type=float, default=0.6, help="add .cfg: aperture efficiency (default 0.6)")
    p.add_argument("--reference", metavar="LON,LAT,HEIGHT",
                   help="add .cfg in local coordinates: where the array is (deg, deg, m)")
    p.add_argument("--replace", action="store_true", help="add: overwrite an instrument added before")


def _band(args: argparse.Namespace) -> dict | None:
    if args.band_centre is None:
        return None
    band: dict = {"name": args.band, "centre_hz": args.band_centre,
                  "bandwidths_hz": [args.bandwidth or 0.1 * args.band_centre]}
    if args.sefd is not None:
        band["sefd_jy"] = args.sefd
    elif args.tsys is not None:
        band.update(tsys_k=args.tsys, aperture_efficiency=args.efficiency)
    if args.reference:
        from ..core.errors import DecorasError

        try:
            band["reference"] = [float(v) for v in args.reference.split(",")]
        except ValueError:
            raise DecorasError(f"--reference wants LON,LAT,HEIGHT in deg, deg, m, not {args.reference!r}") from None
    return band


@command("instruments", "List the simulator's instruments, show one, or add one from a station file.")(_add_arguments)
def run(args: argparse.Namespace) -> int:
    from ..core.errors import DecorasError
    from ..sim.instrument import (
        BUNDLED_DIR,
        add_instrument,
        available_instruments,
        get_instrument,
        user_instruments_dir,
    )

    if args.action == "list":
        for inst in available_instruments():
            where = "" if inst.source is None or inst.source.parent == BUNDLED_DIR else f"  (added: {inst.source})"
            print(inst.describe() + where)
        print(f"\nadd your own with 'decoras instruments add FILE' (kept in {user_instruments_dir()})")
        return 0
    if not args.target:
        raise DecorasError(f"'decoras instruments {args.action}' needs a {'name' if args.action == 'show' else 'file'}")
    if args.action == "show":
        inst = get_instrument(args.target)
        print(f"{inst.full_name} ({inst.name}), {inst.array}; from {inst.source}")
        print(f"reference meridian {inst.reference_longitude_deg:g} deg, "
              f"elevation limit {inst.elevation_limit_deg:g} deg")
        for band in inst.bands.values():
            sefd = sorted(set(band.sefd_jy))
            sefd_text = f"{sefd[0]:g} Jy" if len(sefd) == 1 else f"{sefd[0]:g}-{sefd[-1]:g} Jy"
            print(f"band {band.name}: {band.centre_hz / 1e9:.4g} GHz, bandwidths "
                  f"{', '.join(f'{w / 1e6:g}' for w in band.bandwidths_hz)} MHz, SEFD {sefd_text}, "
                  f"resolution {inst.resolution_mas(band.name):.4g} mas")
        for spec in inst.schedules.values():
            print(f"schedule {spec.name}: {len(spec.scan_ha_h)} scan(s), {sum(spec.scan_len_min):g} min, "
                  f"band {spec.band}")
        lon, lat = inst.geodetic
        print(f"{len(inst.station_names)} stations (name, longitude, latitude, diameter):")
        for n, lo, la, d in zip(inst.station_names, lon, lat, inst.diameters_m):
            print(f"  {n:10s} {math.degrees(lo):10.4f} {math.degrees(la):9.4f} {d:6.1f} m")
        return 0
    target = add_instrument(args.target, name=args.name, band=_band(args), replace_existing=args.replace)
    inst = get_instrument(str(target))
    print(f"added {inst.describe()}\n  to {target}")
    return 0
