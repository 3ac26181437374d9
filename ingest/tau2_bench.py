"""tau2-bench results: `{info, tasks, simulations}`, as one file or as a directory.

The layout follows sierra-research/tau2-bench `Results` (src/tau2/data_model/
simulation.py): `info` names the agent and user models and the domain, `tasks`
hold each task's `user_scenario` and `evaluation_criteria`, and each simulation
carries `task_id`, `trial`, `messages`, `reward_info.reward`, costs and `duration`.
The directory layout keeps `results.json` without simulations and writes one
`simulations/<id>.json` per simulation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ingest.checks import check_one_per_trial, number_missing_trials, read_reward, read_trial
from ingest.errors import BadField
from ingest.fields import (
    as_id,
    as_list,
    as_object,
    child,
    optional_number,
    optional_text,
    require,
)
from ingest.messages import read_messages
from ingest.model import Run, Simulation, Task


def read_tasks(doc: dict[str, Any]) -> dict[str, Task]:
    """The tasks of a results document, by id."""
    tasks: dict[str, Task] = {}
    for index, item in enumerate(as_list(require(doc, "tasks", ""), "tasks")):
        place = child("tasks", index)
        obj = as_object(item, place)
        task_id = as_id(require(obj, "id", place), child(place, "id"))
        if task_id in tasks:
            raise BadField(
                child(place, "id"),
                f"duplicate task id {task_id!r} (also at tasks[{list(tasks).index(task_id)}])",
            )
        tasks[task_id] = Task(
            id=task_id,
            scenario=obj.get("user_scenario"),
            criteria=obj.get("evaluation_criteria"),
            description=obj.get("description"),
        )
    return tasks


def read_simulation(value: Any, place: str, tasks: dict[str, Task]) -> Simulation:
    """One simulation; `place` is its path in the document it came from."""
    obj = as_object(value, place)
    task_id = as_id(require(obj, "task_id", place), child(place, "task_id"))
    if task_id not in tasks:
        raise BadField(child(place, "task_id"), f"task {task_id!r} is not among the file's tasks")

    trial = obj.get("trial")
    return Simulation(
        task_id=task_id,
        trial=-1 if trial is None else read_trial(trial, child(place, "trial")),
        reward=_read_reward(obj, place),
        place=place or "(simulation)",
        id=obj.get("id") if isinstance(obj.get("id"), str) else None,
        termination_reason=optional_text(obj, "termination_reason", place),
        agent_cost=optional_number(obj, "agent_cost", place),
        user_cost=optional_number(obj, "user_cost", place),
        duration=optional_number(obj, "duration", place),
        start_time=_parse_timestamp(obj.get("start_time")),
        messages=read_messages(obj.get("messages"), child(place, "messages")),
        reward_details=obj.get("reward_info"),
    )


def _read_reward(obj: dict[str, Any], place: str) -> float | None:
    # A simulation that was never evaluated has no reward_info at all; one that
    # was evaluated must say what the reward was.
    info = obj.get("reward_info")
    if info is None:
        return None

    info_place = child(place, "reward_info")
    info = as_object(info, info_place)
    return read_reward(require(info, "reward", info_place), child(info_place, "reward"))


def build_run(
    doc: dict[str, Any], tasks: dict[str, Task], simulations: list[Simulation], *, source: str
) -> Run:
    """A `Run` from the document's `info` and its simulations, trials numbered and checked."""
    info = as_object(require(doc, "info", ""), "info")
    without_trial = {i for i, s in enumerate(simulations) if s.trial < 0}
    number_missing_trials(simulations, without_trial)
    check_one_per_trial(simulations)

    return Run(
        source=source,
        benchmark="tau2-bench",
        domain=_nested_text(info, "environment_info", "domain_name"),
        agent_model=_nested_text(info, "agent_info", "llm"),
        user_model=_nested_text(info, "user_info", "llm"),
        tasks=tasks,
        simulations=simulations,
    )


def _nested_text(info: dict[str, Any], section: str, key: str) -> str:
    part = info.get(section)
    value = part.get(key) if isinstance(part, dict) else None
    return value if isinstance(value, str) and value else "unknown"


def _parse_timestamp(text: Any) -> float | None:
    # tau2-bench writes local ISO times without a zone; an unreadable one only
    # costs the trace its original start time, so it is not an error.
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None
