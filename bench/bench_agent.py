"""Harness overhead of one agent question: everything that is not the model.

Each trial is a fresh Python process that asks two questions against the fake Messages API
(which answers in a few milliseconds, so a run's wall time is the harness's own cost: SDK
import, CLI spawn, workbench MCP start, workspace set-up, answer execution, shutdown). The
figures are medians over the trials; phases come from `on_progress` timestamps.

    uv run python bench/bench_agent.py [--trials 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SQL = "SELECT region, COUNT(*) AS customers FROM customers GROUP BY region ORDER BY region"

# Progress messages that start each phase, in order.
PHASES = [
    ("workspace", "preparing the workspace"),
    ("cli + mcp start", "starting Claude Code"),
    ("model turns + tools", "workbench connected"),
    ("cli shutdown", "model turn 3"),
    ("answer.sql", "running answer.sql"),
]


def child() -> None:
    """One trial: import, then two questions in this process; print timings as JSON."""
    started = time.perf_counter()
    from sema4_agent import run_question_sync
    from sema4_agent.demo_db import demo_db_path
    from sema4_agent.testing.fake_anthropic import FakeAnthropic, sql_policy

    demo_db_path()
    import_s = time.perf_counter() - started
    results = {"import_s": import_s, "questions": []}

    with FakeAnthropic(sql_policy(SQL, answer="Five regions.")) as fake:
        os.environ.update(fake.env())
        for _ in range(2):
            marks: list[tuple[str, float]] = []
            t0 = time.perf_counter()
            run = run_question_sync(
                "How many customers per region?",
                max_retries=0,
                on_progress=lambda m, marks=marks, t0=t0: marks.append(
                    (m, time.perf_counter() - t0)
                ),
            )
            total = time.perf_counter() - t0
            assert run.error is None, run.error
            results["questions"].append({"total_s": total, "phases": _phases(marks, total)})
    print(json.dumps(results))


def _phases(marks: list[tuple[str, float]], total: float) -> dict[str, float]:
    starts = []
    for name, prefix in PHASES:
        at = next((t for m, t in marks if m.startswith(prefix)), None)
        if at is not None:
            starts.append((name, at))
    ends = [t for _, t in starts[1:]] + [total]
    return {name: end - start for (name, start), end in zip(starts, ends, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return

    trials = []
    for _ in range(args.trials):
        out = subprocess.run(
            [sys.executable, __file__, "--child"], capture_output=True, text=True, check=True
        ).stdout
        trials.append(json.loads(out))

    print(f"agent harness overhead, fake model, {args.trials} fresh processes (median)")
    print(
        f"  import sema4_agent + claude_agent_sdk: {_median(t['import_s'] for t in trials):.2f} s"
    )
    for index, label in enumerate(("first question", "second question, same process")):
        totals = [t["questions"][index]["total_s"] for t in trials]
        print(
            f"  {label}: {statistics.median(totals):.2f} s "
            f"(min {min(totals):.2f}, max {max(totals):.2f})"
        )
        for name, _ in PHASES:
            values = [t["questions"][index]["phases"].get(name, 0.0) for t in trials]
            print(f"    {name:<22}{statistics.median(values) * 1000:7.0f} ms")


def _median(values) -> float:
    return statistics.median(list(values))


if __name__ == "__main__":
    main()
