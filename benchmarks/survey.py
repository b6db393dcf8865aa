"""Survey scale: throughput of ``decoras detect`` on Dask against one process, cost per image
from 10 to N images, peak memory per worker, and the time a killed worker costs.

    .venv/bin/python benchmarks/survey.py [--fields 1000] [--size 512] [--work runs/survey-bench]
                                          [--json benchmarks/results/survey.json]

The fields are ``decoras simulate``'s (VLBA mJIVE-20 snapshots with their dirty beams), made
once into WORK/fields. Every timing is of a run in this session, side by side:

* one process: ``decoras detect FILES --out-dir`` as a subprocess (its networks in a worker
  process of their own, overlapping the measuring: the product's one-process batch mode);
* Dask with 1 and 2 workers: :class:`decoras_gui.survey.engine.SurveyRun` on a LocalCluster,
  timed from the start (cluster start-up and model loading included) and in steady state (first
  task submitted to last result);
* the cost per image at 10, 100, ... N images on 2 workers;
* a run of K images with one worker killed (SIGKILL) when the K/4-th image finishes, against the
  same run untouched: the difference is the time lost.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from decoras_gui.survey.engine import SurveyRun
from decoras_gui.survey.inputs import folder_images

OPTIONS = {"model": None, "device": "cpu", "threshold": None, "psf": None, "drop_sidelobes": False,
           "per": "component", "format": "ecsv", "frame": "fk5", "timing": False}
DECORAS = [sys.executable, "-m", "decoras_gui"]


def make_fields(folder: Path, n: int, size: int) -> list[Path]:
    have = folder_images(folder) if folder.is_dir() and any(folder.glob("*.fits")) else []
    if len(have) < n:
        subprocess.run([*DECORAS, "simulate", "--n-fields", str(n), "--size", str(size), "--seed", "2026",
                        "--out", str(folder)], check=True, stderr=subprocess.DEVNULL)
        have = folder_images(folder)
    return have[:n]


def one_process(images: list[Path], out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([*DECORAS, "detect", *map(str, images), "--out-dir", str(out), "--device", "cpu"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def dask_run(images: list[Path], out: Path, workers: int, kill_after: int | None = None) -> dict:
    killed: dict = {}
    running: dict[str, int] = {}  # input -> pid of the worker that started it

    def on_event(event: dict) -> None:
        if event["event"] == "start":
            running[event["input"]] = event["pid"]
        elif event["event"] == "image":
            running.pop(event["entry"]["input"], None)
            if kill_after is not None and not killed and event["done"] >= kill_after and running:
                victim, pid = next(iter(running.items()))
                killed.update(input=victim, pid=pid)
                os.kill(pid, signal.SIGKILL)

    t0 = time.perf_counter()
    summary = SurveyRun(images, out, OPTIONS, workers=workers, dashboard=False, on_event=on_event).run()
    wall = time.perf_counter() - t0
    entries = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    peak: dict[int, float] = {}
    for e in entries:
        if "peak_rss_mb" in e:
            peak[e["pid"]] = max(peak.get(e["pid"], 0.0), e["peak_rss_mb"])
    assert summary.done_now == len(images), (summary.done_now, summary.failures[:2])
    return {"images": len(images), "workers": workers, "wall_s": round(wall, 2),
            "steady_s": round(summary.seconds, 2), "images_per_s": round(len(images) / wall, 3),
            "steady_images_per_s": round(len(images) / summary.seconds, 3),
            "peak_rss_mb_per_worker": sorted(peak.values()), "killed": killed or None,
            "restarts": summary.restarts}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fields", type=int, default=1000)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--work", default="runs/survey-bench")
    p.add_argument("--kill-images", type=int, default=100, help="images of the killed-worker runs")
    p.add_argument("--baseline-images", type=int, default=None,
                   help="time the one-process baseline on the first N images only (its cost per image is flat)")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    work = Path(args.work).absolute()
    images = make_fields(work / "fields", args.fields, args.size)
    n = len(images)
    ladder = [k for k in (10, 100, 1000, 10000) if k < n] + [n]
    out = {"fields": n, "size": args.size, "cores": os.cpu_count()}
    run = 0

    def fresh() -> Path:
        nonlocal run
        run += 1
        return work / f"run{run:02d}"

    nb = min(args.baseline_images or n, n)
    base = one_process(images[:nb], fresh())
    out["one_process"] = {"images": nb, "wall_s": round(base, 2), "images_per_s": round(nb / base, 3)}
    print(f"one process (decoras detect --out-dir): {nb} images in {base:.1f} s, {nb / base:.3f} images/s", flush=True)
    for workers in (1, 2):
        r = dask_run(images, fresh(), workers)
        out[f"dask_{workers}"] = r
        print(f"Dask, {workers} worker(s): {n} images in {r['wall_s']:.1f} s ({r['images_per_s']:.3f} images/s; "
              f"steady {r['steady_images_per_s']:.3f}/s), peak memory per worker {r['peak_rss_mb_per_worker']} MB",
              flush=True)
    one, two = out["dask_1"], out["dask_2"]
    out["speedup_2_over_1"] = round(two["images_per_s"] / one["images_per_s"], 3)
    out["speedup_2_over_1_steady"] = round(two["steady_images_per_s"] / one["steady_images_per_s"], 3)
    out["speedup_2_over_one_process"] = round(two["images_per_s"] / out["one_process"]["images_per_s"], 3)
    print(f"2 workers / 1 worker: {out['speedup_2_over_1']:.2f}x (steady {out['speedup_2_over_1_steady']:.2f}x); "
          f"2 workers / one process: {out['speedup_2_over_one_process']:.2f}x", flush=True)
    cost = []
    for k in ladder[:-1]:
        r = dask_run(images[:k], fresh(), 2)
        cost.append({"images": k, "s_per_image": round(r["wall_s"] / k, 3),
                     "steady_s_per_image": round(r["steady_s"] / k, 3)})
    cost.append({"images": n, "s_per_image": round(two["wall_s"] / n, 3),
                 "steady_s_per_image": round(two["steady_s"] / n, 3)})
    out["cost_per_image_2_workers"] = cost
    print("cost per image on 2 workers (wall, steady): "
          + "; ".join(f"{c['images']}: {c['s_per_image']:.3f} s, {c['steady_s_per_image']:.3f} s" for c in cost),
          flush=True)
    k = min(args.kill_images, n)
    clean = dask_run(images[:k], fresh(), 2)
    hit = dask_run(images[:k], fresh(), 2, kill_after=k // 4)
    lost = hit["wall_s"] - clean["wall_s"]
    out["killed_worker"] = {"images": k, "clean_wall_s": clean["wall_s"], "killed_wall_s": hit["wall_s"],
                            "lost_s": round(lost, 2), "restarts": hit["restarts"], "killed": hit["killed"]}
    print(f"a worker killed after {k // 4} of {k} images: {hit['wall_s']:.1f} s against {clean['wall_s']:.1f} s "
          f"untouched: {lost:.1f} s lost ({hit['restarts']} image(s) started again), every image done once",
          flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
