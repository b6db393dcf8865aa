"""libFuzzer (atheris) runs over the three readers of user files, seeded with valid files:
any exception other than DecorasError, a case over 1.5 GB of memory or hung (over CASE_SECONDS,
when cases take milliseconds) fails. Every machine runs the same RUNS cases: no time budget."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

from tests.core.test_fuzz_inputs import CASE_SECONDS, REGION_TEXT, SEEDS, SESSION  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RUNS = 1000
HANG_S = 1800  # 1,000 runs of a target take under a minute on 2 cores: longer than this is a hang


CASE_LIMIT_MB = 1536


def rss_limit_mb() -> int:
    """libFuzzer's limit: CASE_LIMIT_MB above this process's peak resident set. libFuzzer reads
    the peak with getrusage, and Linux carries a process's peak across fork and exec: a fuzzer
    started from a test worker that has grown to 2 GB starts "over" a plain 1.5 GB limit."""
    import resource

    return CASE_LIMIT_MB + resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


@pytest.mark.slow
@pytest.mark.parametrize("target", ["fits", "session", "regions"])
def test_coverage_guided_fuzzing(tmp_path, target):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = {"fits": SEEDS, "session": [json.dumps(SESSION).encode()], "regions": [REGION_TEXT.encode()]}[target]
    for i, seed in enumerate(seeds):
        (corpus / f"seed{i}").write_bytes(seed)
    proc = subprocess.run([sys.executable, "-m", "tests.fuzz.atheris_targets", target, str(corpus),
                           f"-runs={RUNS}", f"-timeout={CASE_SECONDS}", f"-rss_limit_mb={rss_limit_mb()}",
                           f"-artifact_prefix={tmp_path}/"], cwd=REPO, capture_output=True, text=True,
                          timeout=HANG_S)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    done = re.search(r"Done (\d+) runs", log)
    assert done and int(done.group(1)) == RUNS, log[-2000:]
    print(f"atheris {target}: {done.group(1)} runs, no crash")
