"""End-to-end detection time and peak memory: DECORAS against PyBDSF and Aegean, same files.

    .venv/bin/python benchmarks/speed.py [--sizes 1024 2048 4096 8192] [--batch 20] [--timeout 900]
    .venv/bin/python benchmarks/speed.py --only-targets     # just issue 15's two speed targets

Every image is a simulated VLBA dirty image (``decoras_gui.sim``, random snapshot schedule,
dec +30, one source per ~20,000 pixels).  Each finder runs on each file in a fresh Python
process (``finders.py``: from the file to a catalogue), which reports its wall time and its
peak resident memory (VmHWM), so one run's caches and allocations do not bleed into the next.
DECORAS runs on the CPU, and on CUDA too when a GPU is present.  A run past ``--timeout``
seconds is stopped and reported as "> timeout" (its ratio is then a lower bound).

Then the batch case: ``--batch`` 512^2 images in one ``decoras detect --out-dir`` call (the
whole command, interpreter start included) against PyBDSF and Aegean looping over the same
files in one process each.  Prints a table and the ratios PyBDSF / DECORAS, Aegean / DECORAS.

Then a lone 512^2 image, each finder in its own process, ``--repeat`` times: the whole
``decoras detect FILE --catalog OUT`` command against a whole Python process running PyBDSF on
the file (its time inside the process shown too); the median of the runs.

The issue-15 targets (``--only-targets`` runs just these two cases, PyBDSF beside DECORAS):
the batch at least 5x faster than PyBDSF's loop, the lone image in at most 3 s. Both DECORAS
runs use ``--timing``: how long the networks took in their worker process, and how long the
command waited for them (the networks' share of the critical path), are printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
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
    __import__({{"pybdsf": "bdsf", "aegean": "AegeanTools.source_finder"}}[name])  # its import is start-up
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


#: BATCH_TARGET: DECORAS's batch at least this many times faster than PyBDSF's loop; LONE_TARGET: seconds
BATCH_TARGET, LONE_TARGET = 5.0, 3.0


def decoras_command() -> list[str]:
    """The ``decoras`` console script beside this interpreter, else ``python -m decoras_gui``."""
    script = Path(sys.executable).with_name("decoras")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "decoras_gui"]


def _timing(stderr: str) -> dict:
    """The figures of ``decoras detect --timing``'s line (empty when the networks ran in-process)."""
    line = next((ln for ln in stderr.splitlines() if "timing:" in ln), "")
    out: dict = {}
    for key, pattern in (("workers", r"(\d+) worker processes"), ("worker_ready_s", r"ready after ([\d.]+) s"),
                         ("network_s", r"networks ([\d.]+) s"), ("network_runs", r"\((\d+) runs\)"),
                         ("waited_s", r"waited for them ([\d.]+) s"), ("busy_s", r"of their ([\d.]+) s")):
        m = re.search(pattern, line)
        if m:
            out[key] = float(m[1]) if "." in m[1] else int(m[1])
    return out if "network_s" in out else {}


def run_detect_cli(paths: list[Path], out: Path, timeout: float) -> dict:
    """The whole ``decoras detect`` command (interpreter start included): ``--out-dir out`` for
    several images, ``--catalog out`` for one; its wall time and its ``--timing`` figures."""
    where = ["--out-dir", str(out)] if len(paths) > 1 else ["--catalog", str(out)]
    if out.is_file():
        out.unlink()
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([*decoras_command(), "detect", *map(str, paths), *where, "--device", "cpu", "--timing"],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": True, "seconds": timeout}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip()[-300:]}
    return {"seconds": time.perf_counter() - t0, **_timing(proc.stderr)}


def run_batch_cli(paths: list[Path], out_dir: Path, timeout: float) -> dict:
    """The whole ``decoras detect --out-dir`` command over ``paths``, interpreter start included."""
    return run_detect_cli(paths, out_dir, timeout)


def median_run(runs: list[dict]) -> dict:
    """The run of median time among ``runs`` (all its figures), with every run's seconds as ``all``."""
    good = [r for r in runs if "seconds" in r and "error" not in r and "timeout" not in r]
    if not good:
        return runs[-1]
    mid = sorted(good, key=lambda r: r["seconds"])[(len(good) - 1) // 2]
    return {**mid, "all": [round(r["seconds"], 2) for r in good], "median": statistics.median(
        r["seconds"] for r in good)}


def network_line(r: dict) -> str:
    """How long the networks took, and what that was of the command, from ``--timing``."""
    if "network_s" not in r:
        return "networks ran in the command's own process (no --timing figures)"
    head = f"networks {r['network_s']:.2f} s ({r['network_runs']} runs"
    if "busy_s" in r:  # whole images in several worker processes
        return (head + f") of the {r['workers']} worker processes' {r['busy_s']:.2f} s on whole images "
                f"({100 * r['network_s'] / r['busy_s']:.0f} %); workers ready after {r['worker_ready_s']:.2f} s")
    return (head + f", {100 * r['network_s'] / r['seconds']:.0f} % of the command's time) in their worker, ready "
            f"after {r['worker_ready_s']:.2f} s; the command waited for them {r['waited_s']:.2f} s")


def targets(folder: Path, n_batch: int, repeat: int, timeout: float) -> dict:
    """Issue 15's speed targets, PyBDSF beside DECORAS: the batch and the lone image."""
    out: dict = {}
    paths = [make_image(512, folder, i) for i in range(n_batch)]
    dec = run_detect_cli(paths, folder / "out", timeout)
    pyb = run_child("pybdsf", paths, "cpu", timeout)
    out["batch"] = {"decoras": dec, "pybdsf": pyb}
    print(f"\n(a) {n_batch} images of 512^2: one `decoras detect --out-dir` call (whole command) vs PyBDSF "
          "looping over the same files in one Python process")
    print(f"  decoras detect (one call)    {fmt_s(dec)}")
    with_start = pyb.get("process_seconds", float("nan"))
    print(f"  pybdsf (one process)         {fmt_s(pyb)}  inside the loop; {with_start:.1f} s with its start-up")
    speedup = None
    if all("seconds" in r and "error" not in r and "timeout" not in r for r in (dec, pyb)):
        speedup = pyb["seconds"] / dec["seconds"]
        print(f"  PyBDSF / DECORAS: {speedup:.1f}x (target >= {BATCH_TARGET:.0f}x: "
              f"{'met' if speedup >= BATCH_TARGET else 'NOT met'})")
    else:
        print("  PyBDSF / DECORAS: -")
    print(f"  {network_line(dec)}")
    out["batch"]["ratio"] = speedup
    lone = paths[0]
    decs = [run_detect_cli([lone], folder / "lone.ecsv", timeout) for _ in range(repeat)]
    pybs = [run_child("pybdsf", [lone], "cpu", timeout) for _ in range(repeat)]
    d, p = median_run(decs), median_run([{**r, "seconds": r.get("process_seconds", r.get("seconds", 0.0)),
                                          "inside": r.get("seconds")} for r in pybs])
    out["lone"] = {"decoras": d, "pybdsf": p}
    print(f"\n(b) a lone 512^2 image in its own process (median of {repeat}): `decoras detect FILE --catalog OUT` "
          "(whole command) vs a Python process running PyBDSF on it")
    print(f"  decoras detect               {fmt_s(d)}   runs: {d.get('all')}")
    print(f"  pybdsf (whole process)       {fmt_s(p)}   runs: {p.get('all')}; "
          f"{p.get('inside') or float('nan'):.2f} s inside the process")
    if "seconds" in d and "error" not in d:
        ok = d["seconds"] <= LONE_TARGET
        print(f"  DECORAS {d['seconds']:.2f} s (target <= {LONE_TARGET:.0f} s: {'met' if ok else 'NOT met'}); "
              f"PyBDSF / DECORAS: {p['seconds'] / d['seconds']:.1f}x")
    print(f"  {network_line(d)}")
    return out


def fmt_s(r: dict) -> str:
    if "timeout" in r:
        return f"> {r['seconds']:.0f} s"
    if "error" in r:
        return f"failed: {r['error'][-120:]}"
    return f"{r['seconds']:7.2f} s"


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
    p.add_argument("--only-targets", action="store_true",
                   help="only issue 15's two speed targets: the --batch case and a lone 512^2 image, beside PyBDSF")
    p.add_argument("--repeat", type=int, default=3, help="runs of the lone-image case (the median is shown)")
    args = p.parse_args(argv)
    if args.only_targets:
        with tempfile.TemporaryDirectory(prefix="decoras-speed-") as tmp:
            results = targets(Path(tmp), args.batch or 20, max(1, args.repeat), args.timeout)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1))
        print(f"\n(machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end)")
        return 0
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
