"""Wall time of the SQL eval at several concurrencies, against the fake model, vs the ideal.

    uv run python bench/bench_eval.py                     # every task x 3 trials, c = 1 and 4
    uv run python bench/bench_eval.py --limit 8 --concurrency 1 2 4 8

Runs the evaluator exactly as `braintrust eval evals/ --no-send-logs` does (Braintrust's
`run_evaluator`, in-process, nothing sent), every agent run real (Claude Agent SDK, the
bundled Claude Code CLI, the workbench MCP server) and the model the fake Messages API
answering each request after a fixed latency (200 ms by default) with the gold SQL.

Definitions, per concurrency c over N agent runs (tasks x trials):

- ideal = N x t_run / c, where t_run is the mean wall time of one agent run measured at
  c = 1 (model latency x turns, plus the run's own CLI and MCP server start-up, which no
  scheduling can remove). A ratio of 1.0 is perfect scaling.
- model-only = N x (model requests per run x latency) / c: what the eval would take if
  everything but the model were free. Shown for reference; the CLI start-up dominates.
- CPU floor = CPU seconds of this process and the agent's processes (Claude Code CLI,
  workbench MCP server, sqlite3) / cores: no scheduling can beat it. On a small machine
  it is above the ideal, so the last column, wall / max(ideal, CPU floor), says how close
  the eval comes to what the machine allows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass

from braintrust.framework import run_evaluator

from sema4_agent.testing.fake_anthropic import FakeAnthropic, gold_policy


@dataclass
class Measurement:
    concurrency: int
    runs: int
    wall_s: float
    run_wall_s: float
    requests: int
    cpu_s: float
    ex: float


def measure(fake: FakeAnthropic, concurrency: int) -> Measurement:
    """One whole eval at `concurrency`; the evaluator is built fresh to read the env."""
    os.environ["SEMA4_EVAL_CONCURRENCY"] = str(concurrency)
    from evals.evaluator import build_evaluator

    evaluator = build_evaluator()
    fake.reset()
    cpu_before = _cpu()

    started = time.monotonic()
    result = asyncio.run(run_evaluator(None, evaluator, None, []))
    wall = time.monotonic() - started

    failed = [r for r in result.results if r.error]
    if failed:
        raise SystemExit(f"error: {len(failed)} rows failed, e.g. {failed[0].error}")
    trials = [t for r in result.results for t in r.output["trials"]]
    return Measurement(
        concurrency=concurrency,
        runs=len(trials),
        wall_s=wall,
        run_wall_s=statistics.fmean(t["metrics"]["duration_s"] for t in trials),
        requests=sum(1 for method, path in fake.paths if path.endswith("/v1/messages")),
        cpu_s=_cpu() - cpu_before,
        ex=statistics.fmean(r.scores["execution_accuracy"] for r in result.results),
    )


def _cpu() -> float:
    """CPU seconds used so far by this process and its finished children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="first N tasks (0: all)")
    parser.add_argument("--latency-ms", type=float, default=200.0)
    args = parser.parse_args()
    if 1 not in args.concurrency:
        parser.error("--concurrency must include 1: the ideal is measured there")

    os.environ["SEMA4_EVAL_TRIALS"] = str(args.trials)
    os.environ["SEMA4_EVAL_LIMIT"] = str(args.limit)
    for name in ("SEMA4_EVAL_TASKS", "BRAINTRUST_API_KEY", "OPENAI_API_KEY"):
        os.environ.pop(name, None)

    latency = args.latency_ms / 1000
    with FakeAnthropic(gold_policy(), latency_s=latency) as fake:
        os.environ.update(fake.env())
        results = [measure(fake, c) for c in sorted(args.concurrency)]

    serial = results[0]
    cores = os.cpu_count() or 1
    print(
        f"{serial.runs} agent runs ({serial.runs // args.trials} tasks x {args.trials} trials), "
        f"fake model latency {args.latency_ms:g} ms, {cores} cores, "
        f"load average {os.getloadavg()[0]:.1f} (other work on the machine skews the figures)"
    )
    print(
        f"one run at c=1: {serial.run_wall_s:.2f} s wall, "
        f"{serial.requests / serial.runs:.1f} model requests, "
        f"{serial.cpu_s / serial.runs:.2f} s CPU"
    )
    print(
        "  c   wall s   ideal s  ratio   model-only s  ratio   CPU floor s"
        "   vs max(ideal, floor)    EX"
    )
    for m in results:
        ideal = m.runs * serial.run_wall_s / m.concurrency
        model_only = m.requests * latency / m.concurrency
        floor = m.cpu_s / cores
        print(
            f"{m.concurrency:>3} {m.wall_s:>8.1f} {ideal:>9.1f} {m.wall_s / ideal:>6.2f}x"
            f" {model_only:>14.1f} {m.wall_s / model_only:>6.1f}x {floor:>13.1f}"
            f" {m.wall_s / max(ideal, floor):>22.2f}x {m.ex:>5.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
