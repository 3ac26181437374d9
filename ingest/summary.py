"""Per-task and per-experiment figures: pass^k, pass@k, rewards, costs, terminations.

The estimators come from `sema4_agent.metrics`, the same functions the evals use.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from statistics import mean

from ingest.model import Run, Simulation
from sema4_agent.metrics import count_successes, pass_at_ks, pass_hat_ks


@dataclass
class TaskScore:
    """One task's trials: n scored trials of which c succeeded (tau-bench's rule)."""

    task_id: str
    simulations: int
    n: int
    c: int
    mean_reward: float | None
    pass_hat_k: dict[int, float]
    pass_at_k: dict[int, float]


@dataclass
class Summary:
    """One experiment's figures; pass^k averages the tasks with at least k scored trials."""

    name: str
    run: Run
    tasks: dict[str, TaskScore]
    avg_reward: float | None
    pass_hat_k: dict[int, float]
    pass_at_k: dict[int, float]
    tasks_per_k: dict[int, int]
    tasks_without_reward: list[str]
    simulations_without_reward: int
    mean_agent_cost: float | None
    mean_duration: float | None
    termination_reasons: Counter[str] = field(default_factory=Counter)

    @property
    def num_simulations(self) -> int:
        return len(self.run.simulations)

    @property
    def num_trials(self) -> int:
        """The most trials any task had (tasks may have fewer: see `trial_counts`)."""
        return max(score.simulations for score in self.tasks.values())

    @property
    def trial_counts(self) -> Counter[int]:
        """How many tasks had each number of simulations."""
        return Counter(score.simulations for score in self.tasks.values())


def sort_key(task_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order, then the rest alphabetically."""
    return (0, int(task_id), "") if task_id.isdigit() else (1, 0, task_id)


def summarize(run: Run, name: str) -> Summary:
    """Figures for one run, named as its experiment will be."""
    by_task: dict[str, list[Simulation]] = {}
    for simulation in run.simulations:
        by_task.setdefault(simulation.task_id, []).append(simulation)
    tasks = {
        task_id: score_task(task_id, by_task[task_id]) for task_id in sorted(by_task, key=sort_key)
    }

    scored = [score for score in tasks.values() if score.n > 0]
    max_n = max((score.n for score in scored), default=0)
    pass_hat = {k: mean(s.pass_hat_k[k] for s in scored if s.n >= k) for k in range(1, max_n + 1)}
    pass_at = {k: mean(s.pass_at_k[k] for s in scored if s.n >= k) for k in range(1, max_n + 1)}
    unscored = [s for s in run.simulations if s.reward is None]

    return Summary(
        name=name,
        run=run,
        tasks=tasks,
        avg_reward=_mean_or_none(s.mean_reward for s in scored),
        pass_hat_k=pass_hat,
        pass_at_k=pass_at,
        tasks_per_k={k: sum(s.n >= k for s in scored) for k in range(1, max_n + 1)},
        tasks_without_reward=sorted({s.task_id for s in unscored}, key=sort_key),
        simulations_without_reward=len(unscored),
        mean_agent_cost=_mean_or_none(s.agent_cost for s in run.simulations),
        mean_duration=_mean_or_none(s.duration for s in run.simulations),
        termination_reasons=Counter(
            s.termination_reason or "not recorded" for s in run.simulations
        ),
    )


def score_task(task_id: str, simulations: list[Simulation]) -> TaskScore:
    """pass^k and pass@k for k = 1..n over the task's scored trials."""
    rewards = [s.reward for s in simulations]
    n, c = count_successes(rewards)
    return TaskScore(
        task_id=task_id,
        simulations=len(simulations),
        n=n,
        c=c,
        mean_reward=_mean_or_none(rewards),
        pass_hat_k=pass_hat_ks(n, c) if n else {},
        pass_at_k=pass_at_ks(n, c) if n else {},
    )


@dataclass
class TaskChange:
    task_id: str
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before


def compare_tasks(baseline: Summary, other: Summary) -> tuple[list[TaskChange], list[TaskChange]]:
    """(regressed, improved) tasks by pass^1 from `baseline` to `other`, most changed first."""
    changes = []
    for task_id, before in baseline.tasks.items():
        after = other.tasks.get(task_id)
        if after is None or not before.n or not after.n:
            continue
        change = TaskChange(task_id, before.pass_hat_k[1], after.pass_hat_k[1])
        if abs(change.delta) > 1e-12:
            changes.append(change)

    changes.sort(key=lambda change: (-abs(change.delta), sort_key(change.task_id)))
    regressed = [change for change in changes if change.delta < 0]
    improved = [change for change in changes if change.delta > 0]
    return regressed, improved


def _mean_or_none(values) -> float | None:
    present = [value for value in values if value is not None]
    return mean(present) if present else None
