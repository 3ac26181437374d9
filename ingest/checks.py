"""Rules both formats share: what a reward may be, and one simulation per task and trial."""

from __future__ import annotations

from typing import Any

from ingest.errors import BadField
from ingest.fields import as_number, describe
from ingest.model import Simulation


def read_reward(value: Any, place: str) -> float | None:
    """A reward in [0, 1], or None when the simulation was never scored (null)."""
    if value is None:
        return None

    reward = as_number(value, place)
    if not 0 <= reward <= 1:
        raise BadField(place, f"must be between 0 and 1, got {describe(value)}")
    return reward


# tau-bench and tau2-bench number trials from 0; nobody runs a million of one task, so a
# larger number is a damaged file, not data.
MAX_TRIAL = 999_999


def read_trial(value: Any, place: str) -> int:
    """A trial number: a whole number from 0 to MAX_TRIAL ("2" and 2.0 read as 2)."""
    trial = as_number(value, place)
    if not (trial.is_integer() and 0 <= trial <= MAX_TRIAL):
        raise BadField(
            place, f"must be a whole number from 0 to {MAX_TRIAL:,}, got {describe(value)}"
        )
    return int(trial)


def number_missing_trials(simulations: list[Simulation], missing: set[int]) -> None:
    """Give simulations without a trial number the next free one for their task.

    Older result files omit `trial`; order within a task is then the only record
    of which trial came first. `missing` holds positions in `simulations`.
    """
    taken: dict[str, set[int]] = {}
    for index, simulation in enumerate(simulations):
        if index not in missing:
            taken.setdefault(simulation.task_id, set()).add(simulation.trial)

    for index in sorted(missing):
        simulation = simulations[index]
        used = taken.setdefault(simulation.task_id, set())
        trial = 0
        while trial in used:
            trial += 1
        simulation.trial = trial
        used.add(trial)


def check_one_per_trial(simulations: list[Simulation]) -> None:
    """Two simulations of the same task and trial would overwrite each other's row."""
    seen: dict[tuple[str, int], Simulation] = {}
    for simulation in simulations:
        key = (simulation.task_id, simulation.trial)
        if key in seen:
            raise BadField(
                simulation.place,
                f"task {simulation.task_id} trial {simulation.trial} appears twice "
                f"(also at {seen[key].place})",
            )
        seen[key] = simulation
