"""End-to-end detection time and peak memory: DECORAS against PyBDSF and Aegean, same files.

    .venv/bin/python benchmarks/speed.py [--sizes 1024 2048 4096 8192] [--batch 20] [--timeout 900]

Every image is a simulated VLBA dirty image (``decoras_gui.sim``, random snapshot schedule,
dec +30, one source per ~20,000 pixels).  Each finder runs on each file in a fresh Python
process (``finders.py``: from the file to a catalogue), which reports its wall time and its
peak resident memory (VmHWM), so one run's caches and allocations do not bleed into the next.
DECORAS runs on the CPU, and on CUDA too when a GPU is present.  A run past ``--timeout``
seconds is stopped and reported as "> timeout" (its ratio is then a lower bound).

Then the batch case: ``--batch`` 512^2 images in one ``decoras detect --out-dir`` call (the
whole command, interpreter start included) against PyBDSF and Aegean looping over the same
files in one process each.  Prints a table and the ratios PyBDSF / DECORAS, Aegean / DECORAS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Runs one finder on files in a fresh process; prints JSON {seconds, n_sources, peak_rss_mb}.
_CHILD = r"""
import json, sys, time
sys.path.insert(0, {here!r})
import finders
name, device, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
if name == "decoras":
    from decoras_gui.ml.registry import load_model
    run = finders.decoras_finder(load_model(), device)
else:
    run = {{"pybdsf": finders.pybdsf_finder, "aegean": finders.aegean_finder}}[name]
t0 = time.perf_counter()
n = sum(len(run(__import__("pathlib").Path(p))) for p in paths)
dt = time.perf_counter() - t0
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({{"seconds": dt, "n_sources": n, "peak_rss_mb": int(hwm) / 1024}}))
"""


def make_image(size: int, folder: Path, seed: int) -> Path:
    """A simulated VLBA dirty image of ``size``^2 pixels."""
    from decoras_gui.eval.evaluate import sim_config_for
    from decoras_gui.ml.registry import load_model
    from decoras_gui.sim import simulate_field
    from decoras_gui.sim.output import write_field

    cfg = replace(sim_config_for(load_model()), size=size, dec_deg=30.0,
                  max_sources=max(5, size * size // 20000), empty_fraction=0.0)
    return write_field(simulate_field((920000 + seed, size), cfg), folder, f"speed_{size}_{seed}")[0]


def run_child(name: str, paths: list[Path], device: str, timeout: float) -> dict:
    """One finder over ``paths`` in a fresh process: its figures, or {'timeout': True}."""
    code = _CHILD.format(here=str(HERE))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", code, name, device, *map(str, paths)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": True, "seconds": timeout}
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_seconds"] = wall
    return out


def run_batch_cli(paths: list[Path], out_dir: Path, timeout: float) -> dict:
    """The whole ``decoras detect --out-dir`` command over ``paths``, interpreter start included."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "decoras_gui", "detect", *map(str, paths), "--out-dir",
                           str(out_dir), "--device", "cpu"], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-300:]}
    return {"seconds": time.perf_counter() - t0}


def fmt(r: dict) -> str:
    if "timeout" in r:
        return f"> {r['seconds']:.0f} s"
    if "error" in r:
        return "failed"
    return f"{r['seconds']:7.1f} s {r['peak_rss_mb']:6.0f} MB"


def ratio(a: dict, b: dict) -> str:
    """a's time over b's ('>' when a timed out)."""
    if "seconds" not in a or "seconds" not in b or "error" in a or "error" in b:
        return "-"
    return f"{'>' if 'timeout' in a else ''}{a['seconds'] / b['seconds']:.1f}x"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096, 8192])
    p.add_argument("--batch", type=int, default=20, help="number of 512^2 images for the batch case (0: skip)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is stopped")
    p.add_argument("--finders", default="decoras,pybdsf,aegean")
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args(argv)
    import torch

    names = args.finders.split(",")
    runs = [(n, "cpu") for n in names]
    if "decoras" in names and torch.cuda.is_available():
        runs.insert(1, ("decoras", "cuda"))
    results: dict = {"sizes": {}, "batch": {}}
    with tempfile.TemporaryDirectory(prefix="decoras-speed-") as tmp:
        folder = Path(tmp)
        print(f"{'image':>12s}" + "".join(f"{n + ('/' + d if d != 'cpu' else ''):>22s}" for n, d in runs)
              + "   pybdsf/decoras  aegean/decoras")
        for size in args.sizes:
            path = make_image(size, folder, 0)
            row = {f"{n}/{d}": run_child(n, [path], d, args.timeout) for n, d in runs}
            results["sizes"][size] = row
            dec = row.get("decoras/cpu", {})
            print(f"{size:>7d}^2   " + "".join(f"{fmt(row[f'{n}/{d}']):>22s}" for n, d in runs)
                  + f"   {ratio(row.get('pybdsf/cpu', {}), dec):>14s}  {ratio(row.get('aegean/cpu', {}), dec):>14s}",
                  flush=True)
            path.unlink()
        if args.batch:
            paths = [make_image(512, folder, i) for i in range(args.batch)]
            batch = {"decoras detect (one call)": run_batch_cli(paths, folder / "out", args.timeout)}
            for n in names:
                if n != "decoras":
                    batch[f"{n} (one process)"] = run_child(n, paths, "cpu", args.timeout)
            results["batch"] = batch
            dec = batch["decoras detect (one call)"]
            print(f"\n{args.batch} images of 512^2:")
            for label, r in batch.items():
                per = f"{r['seconds'] / args.batch:.2f} s per image" if "seconds" in r else r.get("error", "")
                print(f"  {label:28s} {r.get('seconds', float('nan')):7.1f} s  ({per})  {ratio(r, dec)} of decoras")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"\n(cpu threads: torch {torch.get_num_threads()}, machine {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
