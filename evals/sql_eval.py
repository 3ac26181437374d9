"""One eval trial, its scores, and a task's trials aggregated: the unit every eval runner shares.

`evals/eval_sql_gen.py` (`braintrust eval evals/`) and `modal_app.py` (Modal fan-out) both
build on this module, so a task scores the same wherever its trials ran.

Interface (stable; other modules code against it):

- `await run_trial(task, *, model, system_prompt, max_turns, trial_index=0) -> TrialResult`
  One `sema4_agent.run_question` in its own fresh workspace, the harness's rows scored
  against the gold rows. Never raises for agent failures: they land in `TrialResult.error`
  and score 0. Needs the demo database locally (it runs the gold query).
- `score_trial(task, run, *, trial_index=0) -> TrialResult`
  The scoring half of `run_trial` (`evals.scorers.score_run`, `efficiency_metrics`, the
  optional `answer_quality` judge), for a caller that already holds an `AgentRun`.
- `aggregate_trials(trials) -> TaskScores`
  Means of EX, soft F1 and valid SQL over the trials, and pass^k / pass@k for every
  k <= n from `sema4_agent.metrics`. `TaskScores.as_scores()` gives the Braintrust scores.
- `await run_task(task, config, *, trial_runner=run_trial, limiter=None) -> TaskOutcome`
  All `config.trials` trials of one task, concurrently (bounded by `limiter`), aggregated.
  A remote runner (Modal) passes its own `trial_runner` with `run_trial`'s signature.
- `TrialResult.to_dict()` / `TrialResult.from_dict()` are JSON-safe, to cross a process
  or container boundary.
- `ModelUnavailableError`: raised by `check_model_served` when every trial of a task
  failed on the model call, so the runner fails that one row with a clear message.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from evals import scorers
from evals.tasks import SqlTask
from sema4_agent import run_question
from sema4_agent.metrics import is_success, pass_at_ks, pass_hat_ks
from sema4_agent.run import AgentRun


class ModelUnavailableError(RuntimeError):
    """Every trial of a task failed on the model call: the gateway cannot serve that model."""


@dataclass(frozen=True)
class EvalConfig:
    """What one eval run varies: the Playground parameters."""

    model: str | None
    system_prompt: str | None
    max_turns: int = 20
    trials: int = 3


@dataclass
class TrialResult:
    """One trial of one task: what the agent produced, its scores, and what it cost."""

    task_id: str
    trial_index: int
    answer: str | None = None
    sql: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    error: str | None = None
    error_code: str | None = None
    execution_accuracy: float = 0.0
    soft_f1: float = 0.0
    valid_sql: float = 0.0
    answer_quality: float | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    run_id: str | None = None

    @property
    def is_model_error(self) -> bool:
        return self.error_code == "model_error"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialResult:
        return cls(**data)


@dataclass
class TaskScores:
    """A task's trials reduced to the numbers a user compares across experiments."""

    n: int
    c: int
    execution_accuracy: float
    soft_f1: float
    valid_sql: float
    pass_hat: dict[int, float]
    pass_at: dict[int, float]
    answer_quality: float | None = None

    def as_scores(self) -> dict[str, float]:
        """Braintrust scores: EX, soft F1, valid SQL, then pass^1..pass^n."""
        scores = {
            "execution_accuracy": self.execution_accuracy,
            "soft_f1": self.soft_f1,
            "valid_sql": self.valid_sql,
        }
        scores.update({f"pass^{k}": value for k, value in self.pass_hat.items()})
        if self.answer_quality is not None:
            scores["answer_quality"] = self.answer_quality
        return scores


@dataclass
class TaskOutcome:
    """All trials of one task and their aggregate."""

    task_id: str
    trials: list[TrialResult]
    scores: TaskScores


TrialRunner = Callable[..., Awaitable[TrialResult]]


def prompt_version(system_prompt: str | None) -> str:
    """A short content hash, so experiments with the same prompt text group together."""
    text = system_prompt or ""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def question_for(task: SqlTask) -> str:
    """The question as the agent sees it: BIRD hands the evidence hint over with it."""
    if not task.evidence:
        return task.question
    return f"{task.question}\n\nHint: {task.evidence}"


async def run_trial(
    task: SqlTask,
    *,
    model: str | None,
    system_prompt: str | None,
    max_turns: int = 20,
    trial_index: int = 0,
) -> TrialResult:
    """Run the agent once on `task` in a fresh workspace and score what it returned."""
    run = await run_question(
        question_for(task),
        model=model,
        system_prompt=system_prompt,
        max_turns=max_turns,
    )
    # Off the event loop: the gold query and the optional LLM judge block.
    return await asyncio.to_thread(score_trial, task, run, trial_index=trial_index)


def score_trial(task: SqlTask, run: AgentRun, *, trial_index: int = 0) -> TrialResult:
    """Score one agent run against the task's gold rows (EX, soft F1, valid SQL)."""
    gold = scorers.gold_result(task)
    ex, f1, valid = scorers.score_run(run, gold.rows, ordered=task.ordered)
    judged = scorers.answer_quality(task.question, run.answer, gold.columns, gold.rows)

    return TrialResult(
        task_id=task.id,
        trial_index=trial_index,
        answer=run.answer,
        sql=run.sql,
        columns=list(run.columns),
        rows=[list(row) for row in run.rows],
        error=str(run.error) if run.error else None,
        error_code=run.error.code if run.error else None,
        execution_accuracy=float(ex.score),
        soft_f1=float(f1.score),
        valid_sql=float(valid.score),
        answer_quality=None if judged is None else float(judged.score),
        reasons={score.name: (score.metadata or {}).get("reason", "") for score in (ex, f1, valid)},
        metrics=scorers.efficiency_metrics(run),
        run_id=run.run_id,
    )


def aggregate_trials(trials: Sequence[TrialResult]) -> TaskScores:
    """Reduce one task's trials to means and pass^k / pass@k for every k <= n."""
    if not trials:
        raise ValueError("cannot aggregate a task with no trials")

    n = len(trials)
    c = sum(is_success(t.execution_accuracy) for t in trials)
    judged = [t.answer_quality for t in trials if t.answer_quality is not None]
    return TaskScores(
        n=n,
        c=c,
        execution_accuracy=_mean(t.execution_accuracy for t in trials),
        soft_f1=_mean(t.soft_f1 for t in trials),
        valid_sql=_mean(t.valid_sql for t in trials),
        pass_hat=pass_hat_ks(n, c),
        pass_at=pass_at_ks(n, c),
        answer_quality=_mean(judged) if judged else None,
    )


def check_model_served(trials: Sequence[TrialResult], model: str | None) -> None:
    """Raise when no trial got past the model call: the row fails, the eval goes on."""
    if trials and all(t.is_model_error for t in trials):
        raise ModelUnavailableError(
            f"model {model or '(default)'!r} failed on every trial: "
            f"{(trials[0].error or 'model error').rstrip('.')}. "
            "Check the model name and that your gateway (ANTHROPIC_BASE_URL) serves it."
        )


async def run_task(
    task: SqlTask,
    config: EvalConfig,
    *,
    trial_runner: TrialRunner = run_trial,
    limiter: asyncio.Semaphore | None = None,
) -> TaskOutcome:
    """Run every trial of `task` concurrently (each in its own workspace) and aggregate."""

    async def one(trial_index: int) -> TrialResult:
        if limiter is None:
            return await _call(trial_runner, task, config, trial_index)
        async with limiter:
            return await _call(trial_runner, task, config, trial_index)

    trials = await asyncio.gather(*(one(i) for i in range(config.trials)))
    return TaskOutcome(task_id=task.id, trials=list(trials), scores=aggregate_trials(trials))


async def _call(runner: TrialRunner, task: SqlTask, config: EvalConfig, i: int) -> TrialResult:
    return await runner(
        task,
        model=config.model,
        system_prompt=config.system_prompt,
        max_turns=config.max_turns,
        trial_index=i,
    )


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values)
