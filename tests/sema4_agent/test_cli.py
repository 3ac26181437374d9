"""`python -m sema4_agent`: output, exit codes and the run store, through the real stack."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sema4_agent.cli import main
from sema4_agent.config import MODEL_ACCESS_VARS
from sema4_agent.run import AgentRun
from sema4_agent.run_store import RunStore
from sema4_agent.sql_exec import execute_readonly
from sema4_agent.testing.fake_anthropic import ApiError, ToolCall, Turn, say, sql_policy

SQL = "SELECT region, COUNT(*) AS customers FROM customers GROUP BY region ORDER BY region"


def test_json_output_is_the_run_and_exit_0(fake_model, demo_db, capsys, tmp_path):
    fake_model.reset(sql_policy(SQL, answer="Five regions."))

    code = main(["How many customers per region?", "--json", "--max-retries", "0"])

    out, err = capsys.readouterr()
    run = json.loads(out)
    assert code == 0
    assert run["error"] is None
    assert run["db"] == str(demo_db)
    assert run["model"] == fake_model.requests[0].model  # no --model: Claude Code's default
    assert run["model"].startswith("claude-")
    assert run["sql"] == SQL
    assert run["rows"] == [list(row) for row in execute_readonly(demo_db, SQL)[1]]
    assert [step["tool"] for step in run["steps"]] == ["write_file", "bash_exec"]
    assert err == ""
    assert (tmp_path / ".sema4" / "runs.db").is_file()  # stored by default, under the cwd


def test_human_output_shows_answer_sql_rows_and_steps(fake_model, capsys):
    fake_model.reset(sql_policy(SQL, answer="Five regions."))

    code = main(["How many customers per region?", "--max-retries", "0"])

    out = capsys.readouterr().out
    assert code == 0
    for expected in (
        f"{fake_model.requests[0].model} · 3 turns",
        "Five regions.",
        "GROUP BY region",
        "Result: 5 rows",
        "Central",
        "write_file",
        "bash_exec",
        "3 turns",
        "python -m sema4_agent show",
    ):
        assert expected in out


def test_an_agent_failure_exits_1_with_the_error_on_stderr(fake_model, capsys):
    fake_model.reset(lambda request: say("No idea."))

    code = main(["q", "--json", "--max-retries", "0"])

    out, err = capsys.readouterr()
    assert code == 1
    assert json.loads(out)["error"]["code"] == "no_answer_sql"
    assert "Error: no_answer_sql" in err


def test_no_credentials_exits_2_naming_the_variables(fake_model, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    assert not any(name in env for name in MODEL_ACCESS_VARS)

    done = subprocess.run(
        [sys.executable, "-m", "sema4_agent", "How many customers?"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )

    assert done.returncode == 2
    assert "ANTHROPIC_API_KEY" in done.stderr and "ANTHROPIC_BASE_URL" in done.stderr
    assert done.stdout == ""
    assert fake_model.paths == []


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        return int(exc.code or 0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["q", "--max-turns", "0"], "must be from 1 to 10000, got 0"),
        (["q", "--max-turns", "99999999999999999999"], "must be from 1 to 10000"),
        (["runs", "--limit", "0"], "must be from 1 to 10000, got 0"),
        (
            [""],
            'Error: the question is empty; ask one, e.g. "How many active customers?"\n',
        ),
        (
            ["ask", " \n\t", "--json"],
            'Error: the question is empty; ask one, e.g. "How many active customers?"\n',
        ),
        ([], "usage:"),
    ],
)
def test_usage_errors_exit_2(fake_model, capsys, argv, message):
    assert _exit_code(argv) == 2
    assert message in capsys.readouterr().err
    assert fake_model.paths == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: None, "Error: no database at {path}; pass an existing SQLite file.\n"),
        (
            lambda path: path.mkdir(),
            "Error: {path} is a directory; pass a SQLite database file instead.\n",
        ),
        (
            lambda path: path.write_text("x\n"),
            "Error: {path} is not a readable SQLite database (file is not a database); "
            "pass an intact SQLite file.\n",
        ),
        (
            lambda path: path.touch(),
            "Error: {path} has no tables; pass a SQLite database that holds data.\n",
        ),
    ],
)
def test_a_bad_db_is_one_error_line_and_exit_2(fake_model, capsys, tmp_path, make, message):
    path = tmp_path / "given.db"
    make(path)

    code = main(["q", "--db", "given.db", "--json"])

    out, err = capsys.readouterr()
    assert code == 2
    assert err == message.format(path=path)
    assert out == ""
    assert fake_model.paths == []
    assert not (tmp_path / ".sema4").exists()  # nothing stored for a run that never started


def test_runs_lists_and_show_replays_a_stored_run(fake_model, capsys, tmp_path, monkeypatch):
    runs_db = tmp_path / "elsewhere" / "runs.db"
    monkeypatch.setenv("SEMA4_RUNS_DB", str(runs_db))
    fake_model.reset(sql_policy(SQL, answer="Five regions."))
    assert main(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []

    assert main(["How many customers per region?", "--json", "--max-retries", "0"]) == 0
    asked = json.loads(capsys.readouterr().out)
    assert main(["runs", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert main(["show", asked["run_id"][:6], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)

    assert runs_db.is_file()
    assert shown["model"] == fake_model.requests[0].model
    assert [row["run_id"] for row in listed] == [asked["run_id"]]
    assert listed[0]["row_count"] == 5
    assert shown == asked


def test_a_question_named_like_a_command_is_asked_with_ask(fake_model, capsys):
    fake_model.reset(sql_policy("SELECT 1 AS one"))

    code = main(["ask", "runs", "--json", "--no-store", "--max-retries", "0"])

    run = json.loads(capsys.readouterr().out)
    assert code == 0
    assert run["question"] == "runs"
    assert any("runs" in text for text in fake_model.requests[0].user_texts)


def test_show_of_an_unknown_run_exits_1(fake_model, capsys):
    RunStore(".sema4/runs.db").save(AgentRun(question="q", run_id="abc123"))

    code = main(["show", "nope"])

    assert code == 1
    assert capsys.readouterr().err == (
        "Error: no single run matches 'nope' in .sema4/runs.db; "
        "list runs with `python -m sema4_agent runs`.\n"
    )


@pytest.mark.parametrize("command", [["runs"], ["runs", "--json"], ["show", "abc"]])
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.mkdir(), "Error: {path} is a directory; point --runs-db at a file.\n"),
        (
            lambda path: path.write_text("x\n"),
            "Error: {path} is not a readable run store (file is not a database); "
            "pass another --runs-db.\n",
        ),
    ],
)
def test_runs_and_show_on_a_store_that_is_not_one_exit_2(
    fake_model, capsys, tmp_path, monkeypatch, command, make, message
):
    path = tmp_path / "store"
    make(path)
    monkeypatch.setenv("SEMA4_RUNS_DB", str(path))

    code = main(command)

    out, err = capsys.readouterr()
    assert code == 2
    assert (out, err) == ("", message.format(path=path))


def test_runs_without_a_store_says_so_and_creates_nothing(fake_model, capsys, tmp_path):
    code = main(["runs", "--runs-db", "new/dir/runs.db"])

    out, err = capsys.readouterr()
    assert code == 0
    assert out == ""
    assert err == "No runs stored in new/dir/runs.db yet; ask a question first.\n"
    assert list(tmp_path.iterdir()) == []


def test_show_without_a_store_exits_1_and_creates_nothing(fake_model, capsys, tmp_path):
    code = main(["show", "abc"])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err == "Error: no runs stored in .sema4/runs.db yet; ask a question first.\n"
    assert list(tmp_path.iterdir()) == []


LONG_DIR = "a-directory-whose-name-alone-is-longer-than-eighty-columns-of-a-narrow-terminal"


@pytest.mark.parametrize(
    ("flags", "warning"),
    [
        (["--no-store"], ""),
        (
            ["--runs-db", LONG_DIR],
            f"Warning: could not save the run: {LONG_DIR} is a directory; "
            "point --runs-db at a file.\n",
        ),
    ],
)
def test_a_run_that_was_not_stored_shows_no_show_hint(fake_model, capsys, tmp_path, flags, warning):
    (tmp_path / LONG_DIR).mkdir()
    fake_model.reset(sql_policy(SQL, answer="Five regions."))

    code = main(["How many customers per region?", "--max-retries", "0", *flags])

    out, err = capsys.readouterr()
    assert code == 0
    assert "Five regions." in out
    assert "show" not in out and "run " not in out
    assert err == warning
    assert not (tmp_path / ".sema4").exists()


def test_keep_workspace_prints_where_the_workspace_is(fake_model, capsys):
    fake_model.reset(sql_policy(SQL, answer="Five regions."))

    code = main(["How many customers per region?", "--max-retries", "0", "--keep-workspace"])

    out = capsys.readouterr().out
    kept = [line for line in out.splitlines() if line.startswith("workspace kept: ")]
    assert code == 0
    assert len(kept) == 1
    workspace = Path(kept[0].removeprefix("workspace kept: "))
    try:
        assert sorted(p.name for p in workspace.iterdir()) == ["answer.sql", "data.db"]
    finally:
        shutil.rmtree(workspace.parent)


def test_a_long_error_is_one_line_on_stderr(fake_model, capsys):
    detail = "scripted failure " + "with a long explanation " * 12
    fake_model.reset(lambda request: ApiError(500, "api_error", detail.strip()))

    code = main(["q", "--max-retries", "0", "--no-store"])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("Error: model_error: API error 500: ")
    assert detail.strip() in err  # whole, not broken at 80 columns
    assert len(err) > 300 and err.count("\n") == 1 and err.endswith("\n")


def test_max_turns_1_says_one_turn_and_exits_1(fake_model, capsys):
    fake_model.reset(lambda request: Turn(tool_calls=[ToolCall("list_dir", {"path": "."})]))

    code = main(["q", "--max-turns", "1", "--max-retries", "0", "--no-store"])

    assert code == 1
    assert capsys.readouterr().err == (
        "Error: max_turns: stopped at the turn limit after 1 model turn, unfinished\n"
    )


@pytest.mark.parametrize(
    ("command", "lines"),
    [
        (
            "ask",
            [
                "--model MODEL model alias (sonnet, opus, ...) or full id "
                "(default: SEMA4_MODEL, else Claude Code's default model)",
                "--max-turns N most model turns before the run stops (default: 20)",
                "--max-retries N API retries on 529/5xx errors "
                "(default: Claude Code's, 10 over about 3 minutes)",
            ],
        ),
        ("runs", ["--limit N how many of the newest runs to list (default: 20)"]),
    ],
)
def test_help_shows_defaults(capsys, monkeypatch, command, lines):
    monkeypatch.setenv("COLUMNS", "200")  # argparse wraps help to the terminal width...

    assert _exit_code([command, "--help"]) == 0

    # ...and aligns it in columns that depend on the longest option.
    help_lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    for line in lines:
        assert line in help_lines


def test_a_bad_isolation_setting_is_one_line_and_exit_2(fake_model, capsys, monkeypatch):
    monkeypatch.setenv("SEMA4_ISOLATE", "yes")

    assert _exit_code(["q", "--no-store"]) == 2

    err = capsys.readouterr().err
    assert err == (
        "Error: SEMA4_ISOLATE must be 1 (require isolation), 0 (turn it off) or unset "
        "(isolate when bubblewrap works), not 'yes'\n"
    )
    assert fake_model.paths == []
