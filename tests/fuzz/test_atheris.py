"""libFuzzer (atheris) runs over the three readers of user files, seeded with valid files:
any exception other than DecorasError, a case over 10 s or over 1.5 GB of memory fails."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

from tests.core.test_fuzz_inputs import REGION_TEXT, SEEDS, SESSION  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RUNS = 1000


@pytest.mark.slow
@pytest.mark.parametrize("target", ["fits", "session", "regions"])
def test_coverage_guided_fuzzing(tmp_path, target):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = {"fits": SEEDS, "session": [json.dumps(SESSION).encode()], "regions": [REGION_TEXT.encode()]}[target]
    for i, seed in enumerate(seeds):
        (corpus / f"seed{i}").write_bytes(seed)
    proc = subprocess.run([sys.executable, "-m", "tests.fuzz.atheris_targets", target, str(corpus),
                           f"-runs={RUNS}", "-timeout=10", "-rss_limit_mb=1536", "-max_total_time=120",
                           f"-artifact_prefix={tmp_path}/"], cwd=REPO, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    done = re.search(r"Done (\d+) runs", log)
    assert done, log[-2000:]
    print(f"atheris {target}: {done.group(1)} runs, no crash")
