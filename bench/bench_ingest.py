"""Time and peak memory to ingest tau-bench results, with Braintrust's memory logger.

    uv run python bench/bench_ingest.py [--skip-100mb]

Builds its inputs under bench/out/ (git-ignored), never committed:
- fixtures-456: tau2-bench, 114 tasks × 4 trials made by repeating the hand-written
  test fixture's simulations (tiny conversations, about 0.9 KB each);
- v1-real-456: tau-bench v1, 114 tasks × 4 trials made by repeating the real example
  file's tasks with their four trials each (task ids renumbered);
- tau2-derived-456: DERIVED FOR BENCHMARKING, not a tau2-bench run: the same 456 real
  v1 trajectories converted to tau2-bench's format (system policy moved to
  `info.environment_info.policy`, tool calls and results in tau2's shape, no costs
  or timings invented). Its `info.note` says so;
- v1-100mb: the real example repeated to ~100 MB, task ids shifted per copy.

Each figure comes from a fresh subprocess. Modes:
- read: read + validate + model + pass^k (everything before an upload);
- memory-logger: + upload into the SDK's memory logger, which keeps every row and
  span record until the end (what the tests use);
- sent: + upload into a logger that builds and serialises each record, then lets
  it go, as the SDK's HTTP logger does once a batch is sent. What this mode holds
  is ingest's own memory.

Columns: wall time; RSS growth = peak RSS (`ru_maxrss`) minus RSS after imports;
traced peak = tracemalloc's peak over the same work (a second, traced run; Python
allocations only); logger keeps = what freeing the memory logger's records gives back.
"""

from __future__ import annotations

import gc
import gzip
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
FIXTURE = ROOT / "tests" / "ingest" / "fixtures" / "handwritten_tau2_results.json"
EXAMPLE = ROOT / "example-traces" / "tau-bench-v1_gpt-4o_airline.json.gz"
TASKS, TRIALS = 114, 4
DERIVED_NOTE = (
    "DERIVED FOR BENCHMARKING ONLY, not a tau2-bench run: tau-bench v1 gpt-4o airline "
    "trajectories from example-traces/ converted to tau2-bench's format by bench/bench_ingest.py"
)


def _example_entries() -> list[dict]:
    return json.loads(gzip.decompress(EXAMPLE.read_bytes()))


def build_fixtures_456(path: Path) -> None:
    doc = json.loads(FIXTURE.read_text())
    template_task = doc["tasks"][0]
    template_sims = doc["simulations"]
    tasks, simulations = [], []
    for t in range(TASKS):
        task_id = f"task-{t}"
        tasks.append({**template_task, "id": task_id})
        for trial in range(TRIALS):
            source = template_sims[(t * TRIALS + trial) % len(template_sims)]
            simulations.append(
                {**source, "id": f"sim-{t}-{trial}", "task_id": task_id, "trial": trial}
            )
    doc.update(tasks=tasks, simulations=simulations)
    path.write_text(json.dumps(doc, indent=1))


def _real_456() -> list[dict]:
    """114 tasks × 4 trials: task t replays the example's task t mod 50, all four trials."""
    by_task: dict[int, list[dict]] = {}
    for entry in _example_entries():
        by_task.setdefault(entry["task_id"], []).append(entry)
    sources = [by_task[task_id] for task_id in sorted(by_task)]
    return [
        {**entry, "task_id": t}
        for t in range(TASKS)
        for entry in sorted(sources[t % len(sources)], key=lambda e: e["trial"])
    ]


def build_v1_real_456(path: Path) -> None:
    path.write_text(json.dumps(_real_456()))


def build_tau2_derived_456(path: Path) -> None:
    entries = _real_456()
    policy = next(m["content"] for m in entries[0]["traj"] if m["role"] == "system")
    tasks, seen = [], set()
    for entry in entries:
        if entry["task_id"] not in seen:
            seen.add(entry["task_id"])
            tasks.append(_tau2_task(entry))
    doc = {
        "info": {
            "note": DERIVED_NOTE,
            "num_trials": TRIALS,
            "agent_info": {"implementation": "llm_agent_gt", "llm": "gpt-4o"},
            "user_info": {"implementation": "user_simulator", "llm": "unknown"},
            "environment_info": {"domain_name": "airline", "policy": policy},
        },
        "tasks": tasks,
        "simulations": [_tau2_simulation(entry) for entry in entries],
    }
    path.write_text(json.dumps(doc))


def _tau2_task(entry: dict) -> dict:
    task = entry["info"]["task"]
    return {
        "id": str(entry["task_id"]),
        "user_scenario": {
            "instructions": {
                "domain": "airline",
                "task_instructions": task["instruction"],
                "known_info": f"Your user id is {task['user_id']}.",
            }
        },
        "evaluation_criteria": {
            "actions": [
                {"action_id": f"{entry['task_id']}_{i}", "name": a["name"], "arguments": args}
                for i, a in enumerate(task["actions"])
                for args in [a["kwargs"]]
            ],
            "communicate_info": task.get("outputs") or [],
        },
    }


def _tau2_simulation(entry: dict) -> dict:
    messages = []
    for turn, message in enumerate(m for m in entry["traj"] if m["role"] != "system"):
        converted = {"role": message["role"], "content": message.get("content"), "turn_idx": turn}
        if message["role"] == "assistant" and message.get("tool_calls"):
            converted["tool_calls"] = [
                {
                    "id": call["id"],
                    "name": call["function"]["name"],
                    "arguments": json.loads(call["function"]["arguments"]),
                    "requestor": "assistant",
                }
                for call in message["tool_calls"]
            ]
        if message["role"] == "tool":
            converted.update(id=message["tool_call_id"], requestor="assistant", error=False)
        messages.append(converted)
    return {
        "id": f"derived-{entry['task_id']}-{entry['trial']}",
        "task_id": str(entry["task_id"]),
        "trial": entry["trial"],
        "termination_reason": None,
        "user_cost": entry["info"].get("user_cost"),
        "reward_info": {"reward": entry["reward"], "info": entry["info"].get("reward_info")},
        "messages": messages,
    }


def build_v1_100mb(path: Path) -> None:
    entries = _example_entries()
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


def child(mode: str, path: str, traced: bool) -> None:
    """Runs in the subprocess: ingest once, print figures as JSON."""
    sys.path.insert(0, str(ROOT / "tests" / "ingest"))
    from braintrust import logger
    from braintrust.bt_json import bt_dumps
    from braintrust.test_helpers import simulate_login
    from conftest import _open_test_dataset, _open_test_experiment

    from ingest.loading import load_runs
    from ingest.summary import summarize
    from ingest.upload import upload

    class SendingLogger(logger._MemoryBackgroundLogger):
        """Builds and serialises every record as it is logged, then drops it."""

        def log(self, *records) -> None:
            for record in records:
                bt_dumps(record.get())
            self.logs_seen = getattr(self, "logs_seen", 0) + len(records)

    simulate_login()
    if traced:
        tracemalloc.start()
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()

    runs = load_runs([Path(path)])
    summaries = [summarize(run, "bench") for run in runs]
    rows, kept = 0, None
    if mode != "read":
        bgl = logger._MemoryBackgroundLogger() if mode == "memory-logger" else SendingLogger()
        logger._state._override_bg_logger.logger = bgl
        upload(
            summaries,
            project="bench",
            open_dataset=_open_test_dataset,
            open_experiment=_open_test_experiment,
        )
        rows = len(bgl.logs) or getattr(bgl, "logs_seen", 0)
        if traced and mode == "memory-logger":
            before = tracemalloc.get_traced_memory()[0]
            bgl.logs.clear()
            gc.collect()
            kept = (before - tracemalloc.get_traced_memory()[0]) / 1e6

    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {
        "seconds": seconds,
        "growth_mb": (peak_kb - baseline_kb) / 1024,
        "simulations": sum(len(r.simulations) for r in runs),
        "rows_logged": rows,
    }
    if traced:
        figures.update(traced_peak_mb=tracemalloc.get_traced_memory()[1] / 1e6, kept_mb=kept)
    print(json.dumps(figures))


def measure(mode: str, path: Path, *, traced: bool) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), "traced" if traced else "plain"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    inputs = [
        (OUT / "tau2_fixtures_456.json", build_fixtures_456),
        (OUT / "tau_bench_v1_real_456.json", build_v1_real_456),
        (OUT / "tau2_DERIVED_from_v1_456.json", build_tau2_derived_456),
    ]
    if "--skip-100mb" not in sys.argv:
        inputs.append((OUT / "tau_bench_v1_100mb.json", build_v1_100mb))
    for path, build in inputs:
        if not path.exists():
            build(path)

    print(
        f"{'input':30} {'mode':13} {'sims':>5} {'file MB':>7} {'time s':>6} "
        f"{'RSS growth MB':>13} {'×file':>5} {'traced peak MB':>14} {'×file':>5} "
        f"{'logger keeps MB':>15} {'records':>7}"
    )
    for path, _ in inputs:
        size_mb = path.stat().st_size / 1e6
        large = size_mb > 50
        for mode in ("read", "memory-logger", "sent"):
            plain = measure(mode, path, traced=False)
            # tracemalloc slows the SDK's per-span work about threefold: skipped at 100 MB.
            traced = measure(mode, path, traced=True) if not (large and mode != "read") else {}
            peak = traced.get("traced_peak_mb")
            kept = traced.get("kept_mb")
            print(
                f"{path.name:30} {mode:13} {plain['simulations']:>5} {size_mb:>7.1f} "
                f"{plain['seconds']:>6.2f} {plain['growth_mb']:>13.1f} "
                f"{plain['growth_mb'] / size_mb:>5.1f} "
                f"{'–' if peak is None else f'{peak:.1f}':>14} "
                f"{'–' if peak is None else f'{peak / size_mb:.1f}':>5} "
                f"{'–' if kept is None else f'{kept:.1f}':>15} {plain['rows_logged']:>7}",
                flush=True,
            )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4] == "traced")
    else:
        main()
