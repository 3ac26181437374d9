"""Time and peak memory to ingest tau-bench results, with Braintrust's memory logger.

    uv run python bench/bench_ingest.py

Builds two inputs under bench/out/ (git-ignored):
- a tau2-bench file of 456 simulations (114 tasks × 4 trials) made by repeating the
  hand-written test fixture's simulations;
- a ~100 MB tau-bench (v1) file made by repeating the real example file with the
  task ids shifted, so every copy is a distinct set of tasks.

Each measurement runs in a fresh subprocess: wall time for read + validate +
summarize (+ upload to the in-memory Braintrust logger), and the process's peak
RSS above what it held after imports (`resource.getrusage().ru_maxrss`).
"""

from __future__ import annotations

import gzip
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
FIXTURE = ROOT / "tests" / "ingest" / "fixtures" / "handwritten_tau2_results.json"
EXAMPLE = ROOT / "example-traces" / "tau-bench-v1_gpt-4o_airline.json.gz"


def build_tau2_456(path: Path) -> None:
    doc = json.loads(FIXTURE.read_text())
    template_task = doc["tasks"][0]
    template_sims = doc["simulations"]
    tasks, simulations = [], []
    for t in range(114):
        task_id = f"task-{t}"
        tasks.append({**template_task, "id": task_id})
        for trial in range(4):
            source = template_sims[(t * 4 + trial) % len(template_sims)]
            simulations.append(
                {**source, "id": f"sim-{t}-{trial}", "task_id": task_id, "trial": trial}
            )
    doc.update(tasks=tasks, simulations=simulations)
    path.write_text(json.dumps(doc, indent=1))


def build_v1_100mb(path: Path) -> None:
    entries = json.loads(gzip.decompress(EXAMPLE.read_bytes()))
    one_copy = len(json.dumps(entries))
    copies = max(1, round(100e6 / one_copy))
    with path.open("w") as out:
        out.write("[")
        for copy in range(copies):
            for index, entry in enumerate(entries):
                shifted = {**entry, "task_id": entry["task_id"] + 50 * copy}
                if copy or index:
                    out.write(",")
                out.write(json.dumps(shifted))
        out.write("]")


def child(mode: str, path: str) -> None:
    """Runs in the subprocess: ingest once, print figures as JSON."""
    sys.path.insert(0, str(ROOT / "tests" / "ingest"))
    from braintrust import logger
    from braintrust.test_helpers import simulate_login
    from conftest import _open_test_dataset, _open_test_experiment

    from ingest.loading import load_runs
    from ingest.summary import summarize
    from ingest.upload import upload

    simulate_login()
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()

    runs = load_runs([Path(path)])
    summaries = [summarize(run, "bench") for run in runs]
    rows = 0
    if mode == "upload":
        with logger._internal_with_memory_background_logger() as bgl:
            upload(
                summaries,
                project="bench",
                open_dataset=_open_test_dataset,
                open_experiment=_open_test_experiment,
            )
            rows = len(bgl.logs)

    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak_kb / 1024,
                "growth_mb": (peak_kb - baseline_kb) / 1024,
                "simulations": sum(len(r.simulations) for r in runs),
                "rows_logged": rows,
            }
        )
    )


def measure(mode: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    small = OUT / "tau2_456_simulations.json"
    large = OUT / "tau_bench_100mb.json"
    if not small.exists():
        build_tau2_456(small)
    if not large.exists():
        build_v1_100mb(large)

    print(
        f"{'input':32} {'mode':8} {'sims':>6} {'size MB':>8} {'time s':>7} "
        f"{'peak RSS MB':>11} {'growth MB':>9} {'growth/size':>11} {'rows':>7}"
    )
    for path in (small, large):
        size_mb = path.stat().st_size / 1e6
        for mode in ("read", "upload"):
            figures = measure(mode, path)
            print(
                f"{path.name:32} {mode:8} {figures['simulations']:>6} {size_mb:>8.1f} "
                f"{figures['seconds']:>7.2f} {figures['peak_mb']:>11.0f} "
                f"{figures['growth_mb']:>9.0f} {figures['growth_mb'] / size_mb:>10.1f}x "
                f"{figures['rows_logged']:>7}"
            )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
