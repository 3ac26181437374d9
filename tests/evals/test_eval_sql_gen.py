"""The SQL eval end to end: the evaluator in-process and `braintrust eval evals/` as a subprocess.

Every agent run here is real (Claude Agent SDK, bundled Claude Code CLI, workbench MCP
server); only the model is the scripted fake Messages API on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from braintrust import logger as bt_logger
from braintrust.framework import EvalResultWithSummary, run_evaluator
from braintrust.test_helpers import init_test_logger

from evals import evaluator as sql_evaluator
from evals.evaluator import build_evaluator, default_system_prompt
from evals.sql_eval import ModelUnavailableError, prompt_version
from evals.tasks import load_tasks
from sema4_agent.config import MODEL_ACCESS_VARS, NO_CREDENTIALS_MESSAGE
from sema4_agent.testing.fake_anthropic import ApiError, FakeAnthropic, gold_policy, wrong_policy

REPO_ROOT = Path(__file__).resolve().parents[2]
BRAINTRUST_CLI = Path(sys.executable).with_name("braintrust")
TWO_TASKS = "active_customers,customers_per_region"

# Variables of a developer's shell that would change what the eval does.
_AMBIENT_VARS = (
    *MODEL_ACCESS_VARS,
    "BRAINTRUST_API_KEY",
    "BRAINTRUST_PROJECT",
    "OPENAI_API_KEY",
    "SEMA4_MODEL",
    "SEMA4_EVAL_TASKS",
    "SEMA4_EVAL_LIMIT",
    "SEMA4_EVAL_TRIALS",
    "SEMA4_EVAL_MAX_TURNS",
    "SEMA4_EVAL_CONCURRENCY",
    "CLAUDE_CODE_MAX_RETRIES",
)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(gold_policy()) as fake:
        yield fake


@pytest.fixture
def fake_model(fake_server: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The fake, answering with gold SQL until a test resets it, with the agent pointed at it."""
    fake_server.reset(gold_policy())
    for name in _AMBIENT_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in fake_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return fake_server


def run_in_process() -> EvalResultWithSummary:
    """The evaluator run by Braintrust's own framework, nothing sent anywhere."""
    return asyncio.run(run_evaluator(None, build_evaluator(), None, []))


def test_gold_answers_score_one_on_every_row_and_trial(fake_model, monkeypatch):
    monkeypatch.setenv("SEMA4_EVAL_TASKS", TWO_TASKS)
    monkeypatch.setenv("SEMA4_EVAL_TRIALS", "2")

    result = run_in_process()

    assert [r.input["id"] for r in result.results] == TWO_TASKS.split(",")
    for row in result.results:
        assert row.error is None
        assert row.scores == {
            "execution_accuracy": 1,
            "soft_f1": 1,
            "valid_sql": 1,
            "pass^1": 1,
            "pass^2": 1,
        }
        trials = row.output["trials"]
        assert [t["trial_index"] for t in trials] == [0, 1]
        assert all(t["reasons"]["execution_accuracy"].startswith("rows match") for t in trials)
        assert trials[0]["rows"] == row.expected["rows"]
        assert row.metadata["successes"] == 2
        assert row.metadata["prompt_version"] == prompt_version(default_system_prompt())
        assert row.metadata["model"] == sql_evaluator.FALLBACK_MODEL


def test_wrong_answers_score_zero_with_a_reason(fake_model, monkeypatch):
    fake_model.reset(wrong_policy())
    monkeypatch.setenv("SEMA4_EVAL_TASKS", TWO_TASKS)
    monkeypatch.setenv("SEMA4_EVAL_TRIALS", "2")

    result = run_in_process()

    assert len(result.results) == 2
    for row in result.results:
        assert row.error is None
        assert row.scores == {
            "execution_accuracy": 0,
            "soft_f1": 0,
            "valid_sql": 1,
            "pass^1": 0,
            "pass^2": 0,
        }
        reasons = [t["reasons"]["execution_accuracy"] for t in row.output["trials"]]
        assert len(reasons) == 2
        assert all(reason and not reason.startswith("rows match") for reason in reasons)


def test_trials_are_separate_runs_in_separate_workspaces(fake_model, monkeypatch):
    monkeypatch.setenv("SEMA4_EVAL_TASKS", "active_customers")
    monkeypatch.setenv("SEMA4_EVAL_TRIALS", "3")

    (row,) = run_in_process().results

    run_ids = {t["run_id"] for t in row.output["trials"]}
    assert len(run_ids) == 3
    # Each run opens its own conversation: three first turns reached the model.
    first_turns = [r for r in fake_model.requests if r.turn_index == 0]
    assert len(first_turns) == 3


def test_a_model_the_gateway_cannot_serve_fails_its_rows_not_the_eval(fake_model, monkeypatch):
    fake_model.reset(lambda request: ApiError(404, "not_found_error", f"model: {request.model}"))
    monkeypatch.setenv("SEMA4_EVAL_TASKS", TWO_TASKS)
    monkeypatch.setenv("SEMA4_EVAL_TRIALS", "1")
    monkeypatch.setenv("SEMA4_MODEL", "claude-no-such-model")

    result = run_in_process()

    assert len(result.results) == 2
    for row in result.results:
        assert isinstance(row.error, ModelUnavailableError)
        assert "'claude-no-such-model' failed on every trial" in str(row.error)
        assert "ANTHROPIC_BASE_URL" in str(row.error)


def test_trace_nests_each_trial_and_its_agent_run_under_the_row(fake_model, monkeypatch):
    monkeypatch.setenv("SEMA4_EVAL_TASKS", "active_customers")
    monkeypatch.setenv("SEMA4_EVAL_TRIALS", "2")

    with bt_logger._internal_with_memory_background_logger() as memory:
        init_test_logger("sema4-eval-test")
        try:
            run_in_process()
            bt_logger.flush()
            spans = memory.pop()
        finally:
            bt_logger._state.reset_parent_state()

    by_id = {span["span_id"]: span for span in spans}

    def parent_name(span: dict) -> str | None:
        parents = [by_id[p] for p in span.get("span_parents") or [] if p in by_id]
        return parents[0]["span_attributes"]["name"] if parents else None

    trials = [s for s in spans if s["span_attributes"]["name"].startswith("trial ")]
    assert sorted(s["span_attributes"]["name"] for s in trials) == ["trial 0", "trial 1"]
    assert {parent_name(s) for s in trials} == {"task"}
    agent_roots = [s for s in spans if s["span_attributes"]["name"] == "run_sql_gen_task"]
    assert sorted(parent_name(s) for s in agent_roots) == ["trial 0", "trial 1"]
    assert all(s["metrics"]["turns"] >= 1 for s in trials)


# --- `braintrust eval evals/` as a user runs it --------------------------------------------


def braintrust_eval(fake: FakeAnthropic, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run the braintrust CLI on evals/ offline, its agent pointed at the fake."""
    environ = {k: v for k, v in os.environ.items() if k not in _AMBIENT_VARS}
    environ.update(fake.env())
    environ.update(env)
    return subprocess.run(
        [str(BRAINTRUST_CLI), "eval", "evals/", "--no-send-logs", "--no-progress-bars", *args],
        cwd=REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=280,
    )


def summary_scores(stdout: str) -> dict[str, float]:
    (line,) = [line for line in stdout.splitlines() if line.startswith("{")]
    return {name: s["score"] for name, s in json.loads(line)["scores"].items()}


def test_cli_runs_the_whole_task_file_and_gold_scores_one(fake_model):
    result = braintrust_eval(fake_model, "--jsonl", SEMA4_EVAL_TRIALS="1")

    assert result.returncode == 0, result.stderr[-3000:]
    # EX is 0 or 1 per row, so a mean of 1 means every row scored 1.
    assert summary_scores(result.stdout) == {
        "execution_accuracy": 1,
        "soft_f1": 1,
        "valid_sql": 1,
        "pass^1": 1,
    }
    first_turns = [r for r in fake_model.requests if r.turn_index == 0]
    assert len(first_turns) == len(load_tasks())
    for task in load_tasks():
        assert any(task.question in text for r in first_turns for text in r.user_texts)


def test_cli_summary_shows_ex_soft_f1_and_pass_k_for_wrong_answers(fake_model):
    fake_model.reset(wrong_policy())

    result = braintrust_eval(fake_model, SEMA4_EVAL_TASKS="active_customers", SEMA4_EVAL_TRIALS="2")

    assert result.returncode == 0, result.stderr[-3000:]
    summary = result.stdout[result.stdout.index("SUMMARY") :]
    for name in ("execution_accuracy", "soft_f1", "pass^1", "pass^2"):
        assert f"00.00% '{name}'" in summary, summary
    assert "100.00% 'valid_sql'" in summary


def test_cli_refuses_an_unknown_task_id_in_one_line(fake_model):
    result = braintrust_eval(fake_model, SEMA4_EVAL_TASKS="active_customers,no_such_task")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: SEMA4_EVAL_TASKS names unknown task ids ['no_such_task']; "
        "use ids from evals/sql_tasks.jsonl"
    )
    assert fake_model.requests == []


def test_cli_without_model_access_stops_in_one_line_before_any_run(fake_model):
    result = braintrust_eval(
        fake_model, SEMA4_EVAL_TASKS="active_customers", ANTHROPIC_BASE_URL="", ANTHROPIC_API_KEY=""
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"Error: {NO_CREDENTIALS_MESSAGE}"
    assert "SUMMARY" not in result.stdout
    assert fake_model.requests == []
