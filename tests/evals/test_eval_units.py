"""The eval's parts that need no agent: aggregation, scoring a run, parameters, filters."""

from __future__ import annotations

import pytest
from braintrust.parameters import (
    parameters_to_json_schema,
    serialize_eval_parameters,
    validate_parameters,
)

from evals import evaluator as sql_evaluator
from evals.evaluator import (
    config_from,
    default_system_prompt,
    git_commit,
    parameters,
    select_tasks,
    system_prompt_text,
    task_from_row,
)
from evals.scorers import gold_result
from evals.sql_eval import (
    ModelUnavailableError,
    TrialResult,
    aggregate_trials,
    check_model_served,
    question_for,
    score_trial,
)
from evals.tasks import SqlTask, load_tasks
from sema4_agent.run import AgentError, AgentRun, Usage

_ENV = (
    "SEMA4_MODEL",
    "SEMA4_EVAL_TASKS",
    "SEMA4_EVAL_LIMIT",
    "SEMA4_EVAL_TRIALS",
    "SEMA4_EVAL_MAX_TURNS",
    "OPENAI_API_KEY",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


def trial(ex: float, *, soft: float | None = None, error_code: str | None = None) -> TrialResult:
    return TrialResult(
        task_id="t",
        trial_index=0,
        execution_accuracy=ex,
        soft_f1=ex if soft is None else soft,
        valid_sql=1.0,
        error_code=error_code,
        error=f"{error_code}: boom" if error_code else None,
    )


# --- aggregation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rewards", "expected_pass_hat"),
    [
        ([1, 1, 0, 0], {1: 0.5, 2: 1 / 6, 3: 0.0, 4: 0.0}),
        ([1, 1, 1, 1], {1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0}),
        ([0, 0, 0, 0], {1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0}),
        ([1, 0, 1], {1: 2 / 3, 2: 1 / 3, 3: 0.0}),
    ],
)
def test_aggregate_trials_gives_pass_hat_k_for_every_k(rewards, expected_pass_hat):
    scores = aggregate_trials([trial(r) for r in rewards])

    assert scores.n == len(rewards)
    assert scores.c == sum(rewards)
    assert scores.pass_hat == pytest.approx(expected_pass_hat)
    assert scores.execution_accuracy == pytest.approx(sum(rewards) / len(rewards))


def test_as_scores_lists_means_then_pass_hat_k_in_order():
    scores = aggregate_trials([trial(1, soft=1.0), trial(0, soft=0.5)])

    assert list(scores.as_scores().items()) == [
        ("execution_accuracy", 0.5),
        ("soft_f1", 0.75),
        ("valid_sql", 1.0),
        ("pass^1", 0.5),
        ("pass^2", 0.0),
    ]
    assert scores.pass_at == {1: 0.5, 2: 1.0}


def test_aggregate_of_no_trials_is_refused():
    with pytest.raises(ValueError, match="no trials"):
        aggregate_trials([])


def test_trial_result_round_trips_through_a_dict():
    original = TrialResult(
        task_id="t", trial_index=2, rows=[[1, None]], reasons={"valid_sql": "SQL executed"}
    )

    assert TrialResult.from_dict(original.to_dict()) == original


# --- scoring one run ----------------------------------------------------------------------


def first_task() -> SqlTask:
    return load_tasks()[0]


def test_score_trial_gives_one_to_the_gold_rows_and_keeps_the_metrics():
    task = first_task()
    gold = gold_result(task)
    run = AgentRun(
        question=task.question,
        sql=task.gold_sql,
        columns=gold.columns,
        rows=gold.rows,
        num_turns=4,
        usage=Usage(input_tokens=100, output_tokens=20),
    )

    result = score_trial(task, run, trial_index=1)

    assert (result.execution_accuracy, result.soft_f1, result.valid_sql) == (1, 1, 1)
    assert result.trial_index == 1
    assert result.reasons["execution_accuracy"].startswith("rows match")
    assert result.metrics["turns"] == 4
    assert result.metrics["tokens"] == 120
    assert result.answer_quality is None  # no OPENAI_API_KEY: the judge is absent


def test_score_trial_gives_zero_to_a_run_without_sql():
    task = first_task()
    run = AgentRun(question=task.question, error=AgentError("no_answer_sql", "no answer.sql"))

    result = score_trial(task, run)

    assert (result.execution_accuracy, result.soft_f1, result.valid_sql) == (0, 0, 0)
    assert result.error_code == "no_answer_sql"
    assert "no SQL" in result.reasons["valid_sql"]


def test_question_for_hands_the_evidence_over_with_the_question():
    task = SqlTask("x", "How many?", "SELECT 1", "simple", evidence="churned means status")

    assert question_for(task) == "How many?\n\nHint: churned means status"
    assert question_for(SqlTask("y", "How many?", "SELECT 1", "simple")) == "How many?"


# --- model errors -------------------------------------------------------------------------


def test_model_unavailable_only_when_every_trial_failed_on_the_model():
    check_model_served([trial(0, error_code="model_error"), trial(1)], "m")
    check_model_served([trial(0, error_code="max_turns")], "m")

    with pytest.raises(ModelUnavailableError, match="'claude-x' failed on every trial"):
        check_model_served([trial(0, error_code="model_error")] * 2, "claude-x")


# --- parameters ---------------------------------------------------------------------------


def test_parameters_serialize_for_the_playground(monkeypatch):
    monkeypatch.setenv("SEMA4_MODEL", "claude-haiku-4-5")
    monkeypatch.setenv("SEMA4_EVAL_TRIALS", "5")

    serialized = serialize_eval_parameters(parameters())
    schema = parameters_to_json_schema(parameters())

    assert serialized["model"] == {
        "type": "model",
        "default": "claude-haiku-4-5",
        "description": serialized["model"]["description"],
    }
    assert serialized["system_prompt"]["type"] == "prompt"
    (message,) = serialized["system_prompt"]["default"]["prompt"]["messages"]
    assert message == {"role": "system", "content": default_system_prompt()}
    assert serialized["trials"]["default"] == 5
    assert serialized["max_turns"]["default"] == 20
    assert schema["properties"]["model"]["x-bt-type"] == "model"


def test_default_parameters_reach_the_task_as_the_agents_own_prompt():
    validated = validate_parameters({}, parameters())

    config = config_from(validated)

    assert config.system_prompt == default_system_prompt()
    assert (config.model, config.max_turns, config.trials) == (
        sql_evaluator.FALLBACK_MODEL,
        20,
        3,
    )


def test_a_playground_prompt_edit_reaches_the_task():
    edited = {"prompt": {"type": "chat", "messages": [{"role": "system", "content": "Be terse."}]}}
    validated = validate_parameters(
        {"system_prompt": edited, "model": "claude-opus-4-1", "trials": 2}, parameters()
    )

    config = config_from(validated)

    assert (config.system_prompt, config.model, config.trials) == (
        "Be terse.",
        "claude-opus-4-1",
        2,
    )
    assert system_prompt_text(edited) == "Be terse."
    assert system_prompt_text("plain text") == "plain text"


def test_invalid_trials_are_refused_by_the_parameter_schema():
    with pytest.raises(ValueError, match="trials"):
        validate_parameters({"trials": 0}, parameters())


@pytest.mark.parametrize("name", ["SEMA4_EVAL_TRIALS", "SEMA4_EVAL_CONCURRENCY"])
def test_a_count_below_one_is_refused_with_its_name(monkeypatch, name):
    monkeypatch.setenv(name, "0")

    with pytest.raises(ValueError, match=f"{name} must be at least 1"):
        sql_evaluator.evaluator_fields()


# --- task selection and rows --------------------------------------------------------------


def test_select_tasks_by_id_and_limit(monkeypatch):
    tasks = load_tasks()
    wanted = [tasks[3].id, tasks[1].id]
    monkeypatch.setenv("SEMA4_EVAL_TASKS", ",".join(wanted))

    assert [t.id for t in select_tasks(tasks)] == [tasks[1].id, tasks[3].id]

    monkeypatch.setenv("SEMA4_EVAL_LIMIT", "1")
    assert [t.id for t in select_tasks(tasks)] == [tasks[1].id]

    monkeypatch.delenv("SEMA4_EVAL_TASKS")
    monkeypatch.setenv("SEMA4_EVAL_LIMIT", "2")
    assert select_tasks(tasks) == tasks[:2]


def test_select_tasks_names_unknown_ids(monkeypatch):
    monkeypatch.setenv("SEMA4_EVAL_TASKS", "no_such_task")

    with pytest.raises(ValueError, match=r"unknown task ids \['no_such_task'\]"):
        select_tasks(load_tasks())


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SEMA4_EVAL_LIMIT", "0", "SEMA4_EVAL_LIMIT must be at least 1, got 0"),
        ("SEMA4_EVAL_LIMIT", "-2", "SEMA4_EVAL_LIMIT must be at least 1, got -2"),
        ("SEMA4_EVAL_TASKS", ",", "SEMA4_EVAL_TASKS names no task ids"),
        ("SEMA4_EVAL_TASKS", " , ", "SEMA4_EVAL_TASKS names no task ids"),
    ],
)
def test_a_filter_that_selects_nothing_is_refused(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)

    with pytest.raises(ValueError, match=message):
        select_tasks(load_tasks())


def test_a_non_number_limit_says_which_variable(monkeypatch):
    monkeypatch.setenv("SEMA4_EVAL_LIMIT", "all")

    with pytest.raises(ValueError, match="SEMA4_EVAL_LIMIT must be a whole number"):
        select_tasks(load_tasks())


def test_a_row_round_trips_to_its_task():
    task = next(t for t in load_tasks() if t.ordered)
    case = sql_evaluator.case_for(task)

    rebuilt = task_from_row(case.input, case.expected, case.metadata)

    assert rebuilt == SqlTask(
        id=task.id,
        question=task.question,
        gold_sql=task.gold_sql,
        difficulty=task.difficulty,
        evidence=task.evidence,
        ordered=True,
    )
    assert case.expected["rows"] == gold_result(task).rows


def test_a_playground_row_may_be_a_bare_question_and_gold_sql():
    task = task_from_row("How many plans?", "SELECT COUNT(*) FROM plans")

    assert (task.question, task.gold_sql, task.ordered) == (
        "How many plans?",
        "SELECT COUNT(*) FROM plans",
        False,
    )
    with pytest.raises(ValueError, match="expected.sql"):
        task_from_row({"question": "How many plans?"}, None)


# --- metadata -----------------------------------------------------------------------------


def test_git_commit_outside_a_checkout_is_none(monkeypatch, tmp_path):
    monkeypatch.setattr(sql_evaluator, "REPO_ROOT", tmp_path)

    assert git_commit.__wrapped__() is None  # uncached: the real one is read once


def test_git_commit_in_the_checkout_is_a_sha():
    commit = git_commit()

    assert commit is not None and len(commit) == 40
    int(commit, 16)
