"""The Braintrust Evaluator for the SQL agent: data, task, scorers and Playground parameters.

`evals/eval_sql_gen.py` registers it for `braintrust eval evals/` (and `--dev`, the
Playground's remote-eval server); `modal_app.py` reuses `evaluator_fields` with its own
trial runner. `build_evaluator()` gives the same evaluator as an object. This module has
no import side effects (importing an `eval_*.py` file outside the braintrust CLI runs the
eval).

One row per task, its trials run inside the row. Braintrust's own `trial_count` would give
one row per trial, and its summary would average them: EX would be right, but pass^k is a
property of a task's n trials together (C(c, k) / C(n, k)) that no per-row score can
express, so the terminal summary of `braintrust eval --no-send-logs` could not show it.
With trials inside the row, each row carries EX (mean over its trials), soft F1,
valid SQL and pass^1..pass^n as scores, and the summary's average of pass^k over rows
is exactly tau-bench's pass^k. In the Braintrust UI a row is one question: its output
lists every trial (answer, SQL, rows, error), its trace holds one span per trial with
the agent's spans nested under it, and experiments compare task by task.

Environment (read when the evaluator is built):

- `SEMA4_MODEL`: default of the model parameter.
- `SEMA4_EVAL_TRIALS` (default 3), `SEMA4_EVAL_MAX_TURNS` (default 20): parameter defaults.
- `SEMA4_EVAL_CONCURRENCY` (default 4): agent runs in flight at once, across tasks.
- `SEMA4_EVAL_TASKS=id1,id2` and/or `SEMA4_EVAL_LIMIT=N`: run a subset of the tasks.
- `BRAINTRUST_PROJECT` (default `sema4-demo`).
"""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import weakref
from pathlib import Path
from typing import Any

import braintrust
from braintrust import EvalCase, Evaluator, Score
from braintrust.framework import EvalHooks
from braintrust.logger import Span
from pydantic import BaseModel, Field, create_model

from evals import scorers
from evals.sql_eval import (
    EvalConfig,
    TrialResult,
    TrialRunner,
    aggregate_trials,
    check_model_served,
    prompt_version,
    question_for,
    run_task,
    run_trial,
)
from evals.tasks import SqlTask, load_tasks
from sema4_agent.demo_db import demo_db_path
from sema4_agent.prompt import system_prompt_for
from sema4_agent.tracing import current_span

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PROJECT = "sema4-demo"
FALLBACK_MODEL = "claude-sonnet-4-5"
EVAL_NAME = "sql-gen"


def project_name() -> str:
    return os.environ.get("BRAINTRUST_PROJECT") or DEFAULT_PROJECT


def default_model() -> str:
    return os.environ.get("SEMA4_MODEL") or FALLBACK_MODEL


@functools.cache
def default_system_prompt() -> str:
    """The agent's own system prompt for the demo database (the prompt parameter's default)."""
    return system_prompt_for(demo_db_path())


def eval_concurrency() -> int:
    return _env_positive_int("SEMA4_EVAL_CONCURRENCY", 4)


def parameters() -> dict[str, Any]:
    """The Playground parameters; their defaults are what `braintrust eval` runs with."""
    return {
        "model": {
            "type": "model",
            "default": default_model(),
            "description": "Model the agent runs on (any id your gateway serves).",
        },
        "system_prompt": {
            "type": "prompt",
            "name": "sema4-system-prompt",
            "default": {
                "prompt": {
                    "type": "chat",
                    "messages": [{"role": "system", "content": default_system_prompt()}],
                },
            },
            "description": "The agent's system prompt (the system messages are used).",
        },
        "max_turns": _int_parameter(
            "MaxTurns",
            _env_positive_int("SEMA4_EVAL_MAX_TURNS", 20),
            maximum=100,
            description="Most model turns one agent run may take before it is stopped.",
        ),
        "trials": _int_parameter(
            "Trials",
            _env_positive_int("SEMA4_EVAL_TRIALS", 3),
            maximum=16,
            description="Agent runs per task; pass^k is reported for every k up to this.",
        ),
    }


def _int_parameter(name: str, default: int, *, maximum: int, description: str) -> type[BaseModel]:
    # Braintrust reads a one-field pydantic model named `value` as a plain typed parameter.
    field = Field(default=default, ge=1, le=maximum, description=description)
    return create_model(name, value=(int, field))


def load_cases() -> list[EvalCase]:
    """The task file as eval rows, narrowed by SEMA4_EVAL_TASKS / SEMA4_EVAL_LIMIT."""
    return [case_for(task) for task in select_tasks(load_tasks())]


def select_tasks(tasks: list[SqlTask]) -> list[SqlTask]:
    wanted = _env_list("SEMA4_EVAL_TASKS")
    if os.environ.get("SEMA4_EVAL_TASKS", "").strip() and not wanted:
        raise ValueError("SEMA4_EVAL_TASKS names no task ids; use ids from evals/sql_tasks.jsonl")
    if wanted:
        known = {task.id for task in tasks}
        unknown = [task_id for task_id in wanted if task_id not in known]
        if unknown:
            raise ValueError(
                f"SEMA4_EVAL_TASKS names unknown task ids {unknown}; "
                "use ids from evals/sql_tasks.jsonl"
            )
        tasks = [task for task in tasks if task.id in wanted]

    if not os.environ.get("SEMA4_EVAL_LIMIT", "").strip():
        return tasks
    return tasks[: _env_positive_int("SEMA4_EVAL_LIMIT", len(tasks))]


def case_for(task: SqlTask) -> EvalCase:
    gold = scorers.gold_result(task)
    return EvalCase(
        input={"id": task.id, "question": task.question, "evidence": task.evidence},
        expected={
            "sql": task.gold_sql,
            "columns": gold.columns,
            "rows": gold.rows,
            "ordered": task.ordered,
        },
        metadata={"task_id": task.id, "difficulty": task.difficulty},
        tags=[task.difficulty],
    )


def task_from_row(
    input: dict[str, Any] | str,
    expected: dict[str, Any] | str | None,
    metadata: dict[str, Any] | None = None,
) -> SqlTask:
    """Rebuild a task from an eval row: ours, or a Playground dataset row shaped like it.

    A dataset row may also hold the question as its whole input and the gold SQL as its
    whole expected value.
    """
    if isinstance(input, str):
        input = {"question": input}
    if isinstance(expected, str):
        expected = {"sql": expected}
    expected = expected or {}
    metadata = metadata or {}
    if not expected.get("sql"):
        raise ValueError("the row's expected value needs the gold SQL (expected.sql)")
    return SqlTask(
        id=str(input.get("id") or input["question"][:40]),
        question=input["question"],
        gold_sql=expected["sql"],
        difficulty=metadata.get("difficulty", "unknown"),
        evidence=input.get("evidence") or "",
        ordered=bool(expected.get("ordered", False)),
    )


def config_from(params: dict[str, Any] | None) -> EvalConfig:
    params = params or {}
    return EvalConfig(
        model=params.get("model") or default_model(),
        system_prompt=system_prompt_text(params.get("system_prompt")),
        max_turns=int(params.get("max_turns") or _env_positive_int("SEMA4_EVAL_MAX_TURNS", 20)),
        trials=int(params.get("trials") or _env_positive_int("SEMA4_EVAL_TRIALS", 3)),
    )


def system_prompt_text(value: Any) -> str:
    """The system prompt from a prompt parameter (a braintrust Prompt, a dict, or text)."""
    if value is None:
        return default_system_prompt()
    if isinstance(value, str):
        return value

    block = value.get("prompt") if isinstance(value, dict) else value.prompt
    if block is None:
        return default_system_prompt()
    if isinstance(block, dict):
        block = braintrust.prompt.PromptData.from_dict_deep({"prompt": block}).prompt
    if block.type == "completion":
        return block.content
    system = [_text(m.content) for m in block.messages if m.role == "system"]
    return "\n\n".join(system) if system else default_system_prompt()


def make_task(trial_runner: TrialRunner = run_trial):
    """The eval task: every trial of one row's task, concurrently, bounded eval-wide."""

    async def sql_agent(input: dict[str, Any], hooks: EvalHooks) -> dict[str, Any]:
        config = config_from(hooks.parameters)
        task = task_from_row(input, hooks.expected, hooks.metadata)
        hooks.metadata.update(
            model=config.model,
            prompt_version=prompt_version(config.system_prompt),
            trials=config.trials,
            max_turns=config.max_turns,
            git_commit=git_commit(),
        )

        outcome = await run_task(
            task, config, trial_runner=traced(trial_runner, hooks.span), limiter=_limiter()
        )
        check_model_served(outcome.trials, config.model)

        hooks.metadata.update(
            successes=outcome.scores.c,
            pass_at_k={str(k): v for k, v in outcome.scores.pass_at.items()},
        )
        hooks.span.log(metrics=_summed_metrics(outcome.trials))
        return {"trials": [trial.to_dict() for trial in outcome.trials]}

    return sql_agent


def traced(trial_runner: TrialRunner, row_span: Span) -> TrialRunner:
    """Wrap each trial in its own span under the row's, so the agent's spans nest in it.

    The span comes from the row's (`hooks.span`), not from `braintrust.start_span()`: under
    the remote-eval server the row logs through the request's own state, which the global
    `start_span` does not see.
    """

    async def run(task: SqlTask, *, trial_index: int = 0, **kwargs: Any) -> TrialResult:
        trial_span = row_span.start_span(
            name=f"trial {trial_index}", type="task", input={"question": question_for(task)}
        )
        with current_span(trial_span) as span:
            trial = await trial_runner(task, trial_index=trial_index, **kwargs)
            # Scores stay on the row: a score on a child span would be averaged into it.
            # Tokens stay on the agent's own spans, so a trace does not count them twice.
            span.log(
                output={"answer": trial.answer, "sql": trial.sql, "rows": trial.rows},
                error=trial.error,
                metadata={
                    "execution_accuracy": trial.execution_accuracy,
                    "reasons": trial.reasons,
                    "run_id": trial.run_id,
                },
                metrics={k: v for k, v in trial.metrics.items() if k in _SPAN_METRICS},
            )
            return trial

    return run


def execution_accuracy(output: dict[str, Any]) -> Score:
    """BIRD's EX, averaged over the row's trials; the reasons are in the metadata."""
    return _mean_over_trials(output, "execution_accuracy")


def soft_f1(output: dict[str, Any]) -> Score:
    """Partial credit for overlapping rows, averaged over the row's trials."""
    return _mean_over_trials(output, "soft_f1")


def valid_sql(output: dict[str, Any]) -> Score:
    """Share of the row's trials whose answer.sql executed."""
    return _mean_over_trials(output, "valid_sql")


def _mean_over_trials(output: dict[str, Any], name: str) -> Score:
    # One function per score, not a factory: Braintrust lists a scorer by its __name__.
    trials = _trials(output)
    return Score(
        name=name,
        score=getattr(aggregate_trials(trials), name),
        metadata={"reasons": [t.reasons.get(name, "") for t in trials]},
    )


def answer_quality(output: dict[str, Any]) -> Score | None:
    """The LLM judge's mean over trials; absent (None) without OPENAI_API_KEY."""
    judged = aggregate_trials(_trials(output)).answer_quality
    return None if judged is None else Score(name="answer_quality", score=judged)


def pass_hat_k(output: dict[str, Any]) -> list[Score]:
    """pass^k for k = 1..n over the row's trials (tau-bench's reliability measure)."""
    scores = aggregate_trials(_trials(output))
    return [
        Score(name=f"pass^{k}", score=value, metadata={"n": scores.n, "c": scores.c})
        for k, value in scores.pass_hat.items()
    ]


def scorer_list() -> list[Any]:
    """The row scorers; the LLM judge only when OPENAI_API_KEY is set, else it is absent."""
    scores: list[Any] = [execution_accuracy, soft_f1, valid_sql, pass_hat_k]
    if os.environ.get("OPENAI_API_KEY"):
        scores.append(answer_quality)
    return scores


def build_evaluator(
    *, trial_runner: TrialRunner = run_trial, eval_name: str = EVAL_NAME
) -> Evaluator:
    """The evaluator as an object, for `create_app` or for running it in-process."""
    return Evaluator(
        project_name=project_name(),
        eval_name=eval_name,
        **evaluator_fields(trial_runner=trial_runner),
    )


def evaluator_fields(*, trial_runner: TrialRunner = run_trial) -> dict[str, Any]:
    """Everything but the names, shared by `build_evaluator` and `Eval(...)`."""
    model = default_model()
    return {
        "data": load_cases,
        "task": make_task(trial_runner),
        "scores": scorer_list(),
        "experiment_name": None,
        "metadata": {
            "model": model,
            "prompt_version": prompt_version(default_system_prompt()),
            "git_commit": git_commit(),
        },
        "max_concurrency": eval_concurrency(),
        "parameters": parameters(),
    }


@functools.cache
def git_commit() -> str | None:
    """The repository's HEAD, or None outside a git checkout (a Modal image, a wheel)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


# One limiter per event loop: an asyncio.Semaphore must not be shared across loops, and
# tests and the devserver may each run their own.
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _limiter() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _limiters:
        _limiters[loop] = asyncio.Semaphore(eval_concurrency())
    return _limiters[loop]


def _trials(output: dict[str, Any]) -> list[TrialResult]:
    return [TrialResult.from_dict(trial) for trial in output["trials"]]


_SPAN_METRICS = ("turns", "tool_calls", "duration_s", "cost_usd")


def _summed_metrics(trials: list[TrialResult]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for trial in trials:
        for name in ("turns", "tool_calls", "cost_usd"):
            if name in trial.metrics:
                totals[name] = totals.get(name, 0) + trial.metrics[name]
    return totals


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(getattr(part, "text", "") for part in content)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_positive_int(name: str, default: int) -> int:
    value = _env_int(name, default)
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]
