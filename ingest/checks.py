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
