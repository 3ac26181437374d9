"""The local run store: a run and its steps survive a round trip through SQLite."""

from __future__ import annotations

import pytest

from sema4_agent.run import AgentError, AgentRun, Step, Usage
from sema4_agent.run_store import RunStore, default_runs_db


def _run(run_id: str, **changes) -> AgentRun:
    run = AgentRun(
        question="How many customers?",
        model="sonnet",
        db="/data/demo.db",
        answer="500.",
        sql="SELECT COUNT(*) AS n FROM customers",
        columns=["n"],
        rows=[[500]],
        steps=[
            Step("write_file", {"path": "answer.sql", "content": "SELECT 1"}, "ok", False, 0.01),
            Step("bash_exec", {"cmd": "sqlite3 data.db < answer.sql"}, "boom", True, None),
        ],
        num_turns=3,
        usage=Usage(10, 20, 30, 40),
        cost_usd=0.0125,
        duration_s=2.5,
        session_id="session-1",
        run_id=run_id,
        trace_url="https://example.test/trace",
    )
    for name, value in changes.items():
        setattr(run, name, value)
    return run


def test_a_saved_run_loads_back_equal(tmp_path):
    store = RunStore(tmp_path / "nested" / "runs.db")
    run = _run("abc123def456")

    store.save(run)

    assert store.get("abc123def456") == run


def test_an_error_and_no_steps_round_trip(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    run = _run("e1", error=AgentError("sql_error", "no such table: x"), steps=[], rows=[])

    store.save(run)

    assert store.get("e1") == run


def test_saving_a_run_again_replaces_its_steps(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    store.save(_run("r1"))

    store.save(_run("r1", steps=[Step("list_dir", {"path": "."}, "data.db", False, 0.002)]))

    assert [step.tool for step in store.get("r1").steps] == ["list_dir"]


def test_get_by_unique_prefix_only(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    for run_id in ("aa11", "aa22", "bb33"):
        store.save(_run(run_id))

    assert store.get("bb").run_id == "bb33"
    assert store.get("aa") is None  # ambiguous
    assert store.get("aa22").run_id == "aa22"
    assert store.get("zz") is None


def test_recent_lists_newest_first_with_summaries(tmp_path):
    store = RunStore(tmp_path / "runs.db")
    store.save(_run("first"))
    store.save(_run("second", error=AgentError("max_turns", "stopped"), rows=[]))

    rows = store.recent(limit=10)

    assert [row["run_id"] for row in rows] == ["second", "first"]
    assert [row["error_code"] for row in rows] == ["max_turns", None]
    assert [row["row_count"] for row in rows] == [0, 1]
    assert [row["run_id"] for row in store.recent(limit=1)] == ["second"]


@pytest.mark.parametrize(
    ("env", "expected"), [({}, ".sema4/runs.db"), ({"SEMA4_RUNS_DB": "/x/r.db"}, "/x/r.db")]
)
def test_default_runs_db(monkeypatch, env, expected):
    monkeypatch.delenv("SEMA4_RUNS_DB", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert str(default_runs_db()) == expected
