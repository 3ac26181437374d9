"""run_question end to end: the real SDK, the real Claude Code CLI and the real workbench
server, with a scripted fake Messages API standing in for the model."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sema4_agent import InvalidDatabase, agent, run_question
from sema4_agent.config import MODEL_ACCESS_VARS
from sema4_agent.sql_exec import execute_readonly
from sema4_agent.testing.fake_anthropic import (
    ApiError,
    ModelRequest,
    ToolCall,
    Turn,
    bash_exec,
    fail_first,
    report_last_output,
    say,
    scripted,
    sql_policy,
    sql_turns,
    write_file,
)

PLAN_COUNTS_SQL = (
    "SELECT p.name AS plan, COUNT(*) AS customers FROM customers c "
    "JOIN plans p ON p.id = c.plan_id WHERE c.status = 'active' "
    "GROUP BY p.name ORDER BY customers DESC, plan"
)
WORKBENCH_TOOLS = {
    f"mcp__workbench__{t}" for t in ("bash_exec", "read_file", "write_file", "list_dir")
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_run_question_answers_with_the_rows_of_answer_sql(fake_model, demo_db):
    fake_model.reset(sql_policy(PLAN_COUNTS_SQL, answer="Standard has the most customers."))

    run = await run_question("How many active customers does each plan have?", max_retries=0)

    assert run.error is None
    assert (run.columns, run.rows) == execute_readonly(demo_db, PLAN_COUNTS_SQL)
    assert run.sql == PLAN_COUNTS_SQL
    assert run.answer == "Standard has the most customers."
    assert [step.tool for step in run.steps] == ["write_file", "bash_exec"]
    assert not any(step.is_error for step in run.steps)
    first_plan = run.rows[0][0]
    assert first_plan in run.steps[1].output  # the model saw sqlite3's real output
    assert run.num_turns == 3
    assert run.usage.input_tokens > 0 and run.usage.output_tokens > 0
    assert run.cost_usd is not None and run.cost_usd > 0
    assert run.db == str(demo_db)
    assert run.workspace is None
    assert run.session_id


@pytest.mark.parametrize("model", [None, "sonnet", "claude-custom-model"])
async def test_the_run_records_the_model_claude_code_used(fake_model, model):
    fake_model.reset(sql_policy("SELECT 1 AS one"))

    run = await run_question("q", model=model, max_retries=0)

    used = {request.model for request in fake_model.requests}
    assert run.error is None
    assert used == {run.model}
    assert run.model.startswith("claude-")
    if model is not None:
        assert model in run.model


async def test_the_model_sees_the_schema_and_only_workbench_tools(fake_model):
    fake_model.reset(sql_policy("SELECT 1 AS one"))

    await run_question("q", max_retries=0)

    request = fake_model.requests[0]
    assert "TABLE customers" in request.system
    assert "2026-07-01" in request.system  # the reference date, read from the database
    assert WORKBENCH_TOOLS <= set(request.tool_names)
    assert not {"Bash", "Read", "Write", "Edit"} & set(request.tool_names)


async def test_model_writes_touch_only_the_workspace_copy(fake_model, demo_db):
    before = _sha256(demo_db)
    count_sql = "SELECT COUNT(*) AS n FROM customers"
    fake_model.reset(
        scripted(
            [
                bash_exec("sqlite3 data.db 'DELETE FROM customers'"),
                *sql_turns(count_sql),
                report_last_output,
            ]
        )
    )

    run = await run_question("How many customers?", max_retries=0)

    assert run.error is None
    assert '"stdout":"n\\n0\\n"' in run.steps[2].output  # the copy was emptied...
    assert run.rows == execute_readonly(demo_db, count_sql)[1]  # ...the source was not
    assert run.rows[0][0] > 0
    assert _sha256(demo_db) == before


async def test_a_failing_first_query_then_a_fix_shows_both_attempts(fake_model, demo_db):
    bad_sql = "SELECT plan_name FROM customers"
    fake_model.reset(
        scripted([*sql_turns(bad_sql), *sql_turns(PLAN_COUNTS_SQL), report_last_output])
    )

    run = await run_question("How many active customers per plan?", max_retries=0)

    assert run.error is None
    assert [step.tool for step in run.steps] == ["write_file", "bash_exec"] * 2
    assert "no such column: plan_name" in run.steps[1].output
    assert json.loads(run.steps[1].output)["exit_code"] != 0
    assert json.loads(run.steps[3].output)["exit_code"] == 0
    assert run.sql == PLAN_COUNTS_SQL
    assert run.rows == execute_readonly(demo_db, PLAN_COUNTS_SQL)[1]
    assert run.num_turns == 5


@pytest.mark.parametrize(("status", "error_type"), [(529, "overloaded_error"), (500, "api_error")])
async def test_api_errors_end_as_model_error_after_capped_retries(fake_model, status, error_type):
    fake_model.reset(lambda request: ApiError(status, error_type, "scripted failure"))
    progress: list[str] = []

    run = await run_question("q", max_retries=1, on_progress=progress.append)

    assert run.error is not None and run.error.code == "model_error"
    assert f"API error {status}" in run.error.message
    assert len(fake_model.requests) == 2  # the first try and one retry
    assert [m for m in progress if "retry" in m] == [
        m for m in progress if m.startswith(f"API error {status}; retry 1 of 1")
    ]
    assert any("retry" in m for m in progress)
    assert run.rows == [] and run.sql is None


async def test_a_retried_overload_still_answers(fake_model):
    fake_model.reset(fail_first(1, ApiError(529), sql_policy("SELECT 42 AS answer")))
    progress: list[str] = []

    run = await run_question("q", max_retries=2, on_progress=progress.append)

    assert run.error is None
    assert run.rows == [[42]]
    assert any(m.startswith("API error 529; retry 1 of 2") for m in progress)


async def test_no_credentials_stops_before_spawning_anything(fake_model, monkeypatch):
    spawned: list[object] = []
    real_popen = subprocess.Popen

    class SpyPopen(real_popen):  # every subprocess (asyncio's too) goes through Popen
        def __init__(self, args, *rest, **kwargs):
            spawned.append(args)
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", SpyPopen)
    for name in MODEL_ACCESS_VARS:
        monkeypatch.delenv(name, raising=False)

    run = await run_question("q")

    assert run.error is not None and run.error.code == "no_credentials"
    assert "ANTHROPIC_API_KEY" in run.error.message
    assert "ANTHROPIC_BASE_URL" in run.error.message
    assert spawned == [] and fake_model.paths == []

    # The spy does see a run that has credentials: the assertion above can fail.
    for name, value in fake_model.env().items():
        monkeypatch.setenv(name, value)
    await run_question("q", max_retries=0)
    assert spawned and fake_model.paths


def _note_taker(request: ModelRequest) -> Turn:
    """Leave a note named after the question, list the workspace, answer with the tag."""
    tag = "alpha" if any("alpha" in text for text in request.user_texts) else "beta"
    turns = [
        write_file(f"{tag}.txt", tag),
        Turn(tool_calls=[ToolCall("list_dir", {"path": "."})]),
        write_file("answer.sql", f"SELECT '{tag}' AS tag"),
        say(f"tag {tag}"),
    ]
    return turns[min(request.turn_index, len(turns) - 1)]


async def test_concurrent_runs_do_not_see_each_others_files(fake_model):
    fake_model.reset(_note_taker)

    alpha, beta = await asyncio.gather(
        run_question("question alpha", max_retries=0, keep_workspace=True),
        run_question("question beta", max_retries=0, keep_workspace=True),
    )

    try:
        assert (alpha.error, beta.error) == (None, None)
        assert alpha.rows == [["alpha"]] and beta.rows == [["beta"]]
        assert "alpha.txt" in alpha.steps[1].output and "beta.txt" not in alpha.steps[1].output
        assert "beta.txt" in beta.steps[1].output and "alpha.txt" not in beta.steps[1].output
        assert alpha.workspace != beta.workspace
        assert sorted(p.name for p in Path(alpha.workspace).iterdir()) == [
            "alpha.txt",
            "answer.sql",
            "data.db",
        ]
    finally:
        for run in (alpha, beta):
            shutil.rmtree(Path(run.workspace).parent, ignore_errors=True)


async def test_a_workbench_that_never_connects_is_a_clean_error(fake_model, monkeypatch):
    broken = [sys.executable, "-c", "raise SystemExit(3)"]
    monkeypatch.setattr(agent, "workbench_command", lambda workspace: broken)

    run = await run_question("q", max_retries=0)

    assert run.error is not None and run.error.code == "mcp_not_connected"
    assert "workbench" in run.error.message
    assert fake_model.requests == []  # stopped before the model was asked anything


@pytest.mark.parametrize(
    ("max_turns", "message"),
    [
        (1, "stopped at the turn limit after 1 model turn, unfinished"),
        (2, "stopped at the turn limit after 2 model turns, unfinished"),
    ],
)
async def test_hitting_max_turns_reports_the_model_turns_taken(fake_model, max_turns, message):
    # Text and two tool calls per turn: the CLI sends each block as its own message.
    listing = ToolCall("list_dir", {"path": "."})
    fake_model.reset(lambda request: Turn(text="Looking.", tool_calls=[listing, listing]))

    run = await run_question("q", max_turns=max_turns, max_retries=0)

    assert run.error is not None
    assert (run.error.code, run.error.message) == ("max_turns", message)
    assert run.num_turns == len(fake_model.requests) == max_turns
    assert [step.tool for step in run.steps] == ["list_dir"] * 2 * max_turns


async def test_an_answer_without_answer_sql_is_no_answer_sql(fake_model):
    fake_model.reset(lambda request: say("I think it is about 42."))

    run = await run_question("q", max_retries=0)

    assert run.error is not None and run.error.code == "no_answer_sql"
    assert run.answer == "I think it is about 42."
    assert run.rows == []


async def test_failing_answer_sql_is_sql_error(fake_model):
    fake_model.reset(sql_policy("SELECT * FROM no_such_table"))

    run = await run_question("q", max_retries=0)

    assert run.error is not None and run.error.code == "sql_error"
    assert "no such table: no_such_table" in run.error.message
    assert run.sql == "SELECT * FROM no_such_table"


async def test_user_claude_settings_do_not_reach_the_run(fake_model, monkeypatch, tmp_path):
    home = tmp_path / "home"
    for config_dir in (home / ".claude", tmp_path / "user-config"):
        config_dir.mkdir(parents=True)
        (config_dir / "settings.json").write_text(json.dumps({"model": "claude-leaked-model"}))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "user-config"))
    fake_model.reset(sql_policy("SELECT 1 AS one"))

    run = await run_question("q", max_retries=0)

    assert run.error is None
    assert {request.model for request in fake_model.requests} != {"claude-leaked-model"}
    assert all("leaked" not in request.model for request in fake_model.requests)


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (bwrap)")
async def test_isolated_commands_cannot_write_outside_the_workspace(
    fake_model, monkeypatch, tmp_path
):
    outside = tmp_path / "escaped.txt"
    monkeypatch.setenv("SEMA4_ISOLATE", "1")
    fake_model.reset(scripted([bash_exec(f"echo x > {outside}"), *sql_turns("SELECT 1 AS one")]))

    run = await run_question("q", max_retries=0)

    assert run.error is None and run.rows == [[1]]
    assert json.loads(run.steps[0].output)["exit_code"] != 0
    assert not outside.exists()


def _bad_database(tmp_path: Path, kind: str, demo_db: Path) -> Path:
    path = tmp_path / f"{kind}.db"
    if kind == "directory":
        path.mkdir()
    elif kind == "not_sqlite":
        path.write_text("x\n")
    elif kind == "empty_file":
        path.touch()
    elif kind == "truncated":
        path.write_bytes(demo_db.read_bytes()[:20_000])
    elif kind == "no_tables":
        sqlite3.connect(path).execute("PRAGMA user_version = 1").connection.close()
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", "no database at {path}; pass an existing SQLite file."),
        ("directory", "{path} is a directory; pass a SQLite database file instead."),
        (
            "not_sqlite",
            "{path} is not a readable SQLite database (file is not a database); "
            "pass an intact SQLite file.",
        ),
        (
            "truncated",
            "{path} is not a readable SQLite database (database disk image is malformed); "
            "pass an intact SQLite file.",
        ),
        ("empty_file", "{path} has no tables; pass a SQLite database that holds data."),
        ("no_tables", "{path} has no tables; pass a SQLite database that holds data."),
    ],
)
def test_a_bad_db_raises_invalid_database_before_anything_starts(
    fake_model, tmp_path, demo_db, kind, message
):
    path = _bad_database(tmp_path, kind, demo_db)

    with pytest.raises(InvalidDatabase) as raised:
        agent.run_question_sync("q", db=path)

    assert str(raised.value) == message.format(path=path)
    assert fake_model.paths == []


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("ln -s /proc/self/environ answer.sql", "answer.sql is a symlink; save the query itself"),
        ("mkfifo answer.sql", "answer.sql is not a regular file"),
        ("head -c 300000 /dev/zero | tr '\\0' ' ' > answer.sql", "larger than 256 KiB"),
    ],
)
async def test_answer_sql_is_read_only_as_a_plain_small_file(
    fake_model, monkeypatch, command, message
):
    # The harness reads answer.sql outside any sandbox: a planted symlink must not make it
    # read its own environment into the run, and a FIFO must not block it.
    monkeypatch.setenv("PLANTED_SERVICE_TOKEN", "planted-secret-value")
    fake_model.reset(scripted([bash_exec(command), say("done")]))

    run = await asyncio.wait_for(run_question("q", max_retries=0), timeout=120)

    assert run.error is not None and run.error.code == "sql_error"
    assert message in run.error.message
    assert run.sql is None
    assert "planted-secret-value" not in json.dumps(run.to_dict(), default=str)
