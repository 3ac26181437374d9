"""The local run store: a run and its steps survive a round trip through SQLite."""

from __future__ import annotations

import sqlite3

import pytest

from sema4_agent.run import AgentError, AgentRun, Step, Usage
from sema4_agent.run_store import RunStore, UnreadableRunStore, default_runs_db


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


@pytest.mark.parametrize("pattern", ["%", "_", "b_", "", "b%3"])
def test_get_treats_like_wildcards_as_plain_text(tmp_path, pattern):
    store = RunStore(tmp_path / "runs.db")
    store.save(_run("bb33"))

    assert store.get(pattern) is None


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


def test_open_existing_creates_nothing_when_there_is_no_store(tmp_path):
    path = tmp_path / "not" / "yet" / "runs.db"

    assert RunStore.open_existing(path) is None
    assert not (tmp_path / "not").exists()


def test_open_existing_reads_a_saved_run_without_writing(tmp_path):
    path = tmp_path / "runs.db"
    RunStore(path).save(_run("r1"))
    before = path.read_bytes()

    store = RunStore.open_existing(path)

    assert store.get("r1") == _run("r1")
    assert [row["run_id"] for row in store.recent()] == ["r1"]
    assert path.read_bytes() == before


def test_an_empty_file_is_an_empty_store(tmp_path):
    path = tmp_path / "runs.db"
    path.touch()

    store = RunStore.open_existing(path)

    assert (store.recent(), store.get("r1")) == ([], None)
    assert path.read_bytes() == b""


@pytest.mark.parametrize("read_only", [True, False])
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.mkdir(), "{path} is a directory; point --runs-db at a file."),
        (
            lambda path: path.write_text("x\n"),
            "{path} is not a readable run store (file is not a database); pass another --runs-db.",
        ),
        (
            lambda path: sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close(),
            "{path} is a SQLite file but not a run store (no runs and steps tables); "
            "pass another --runs-db.",
        ),
    ],
)
def test_a_path_that_is_not_a_run_store_is_refused(tmp_path, read_only, make, message):
    path = tmp_path / "runs.db"
    make(path)
    before = path.read_bytes() if path.is_file() else None

    with pytest.raises(UnreadableRunStore) as raised:
        RunStore(path, read_only=read_only)

    assert str(raised.value) == message.format(path=path)
    assert (path.read_bytes() if path.is_file() else None) == before  # nothing was added
