"""How long the demo database, its schema text and the scorers take.

    uv run python bench/demo_data.py

Prints the median of several runs for: building the database from scratch, a
`demo_db_path()` cache hit, `schema_text()`, running every gold query, and scoring
large results with execution accuracy and soft F1.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evals.scorers import execution_accuracy, soft_f1
from evals.tasks import load_tasks
from sema4_agent.demo_db import build_demo_db, demo_db_path
from sema4_agent.schema import schema_text
from sema4_agent.sql_exec import execute_readonly

RUNS = 5


def median_ms(work: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SEMA4_CACHE_DIR"] = tmp
        db = build_demo_db(Path(tmp) / "bench.db")
        demo_db_path()
        tasks = load_tasks()
        _, big = execute_readonly(db, "SELECT * FROM transactions")
        shuffled = [list(reversed(row)) for row in reversed(big)]

        figures = [
            ("build_demo_db (from scratch)", median_ms(lambda: build_demo_db(db))),
            ("demo_db_path (cache hit)", median_ms(demo_db_path)),
            ("schema_text", median_ms(lambda: schema_text(db))),
            (
                f"all {len(tasks)} gold queries",
                median_ms(lambda: [execute_readonly(db, t.gold_sql) for t in tasks]),
            ),
            (
                f"execution_accuracy, {len(big)} rows x 6 columns, reordered",
                median_ms(lambda: execution_accuracy(shuffled, big)),
            ),
            (
                f"soft_f1, {len(big)} rows x 6 columns, reordered",
                median_ms(lambda: soft_f1(shuffled, big)),
            ),
        ]
        schema_chars = len(schema_text(db))

    for name, ms in figures:
        print(f"{name:55} {ms:9.1f} ms")
    print(f"{'schema_text length':55} {schema_chars:9d} chars")


if __name__ == "__main__":
    main()
