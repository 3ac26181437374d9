"""tau-bench (v1) results: a JSON list of `{task_id, reward, info, traj, trial}`.

This is what sierra-research/tau-bench's `run.py` writes (its `EnvRunResult`
records). The file says nothing about models; the domain is read from the
policy heading in the system prompt and the models from tau-bench's own
checkpoint file naming when it is there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ingest.checks import check_one_per_trial, number_missing_trials, read_reward, read_trial
from ingest.fields import as_id, as_object, child, optional_number, require
from ingest.messages import read_messages
from ingest.model import Message, Run, Simulation, Task

# `{strategy}-{model}-{temperature}_range_{start}-{end}_user-{user model}-{user strategy}_{time}`
_CHECKPOINT_NAME = re.compile(
    r"^(?:tool-calling|act|react|few-shot)-(?P<model>.+)-[\d.]+"
    r"_range_\d+--?\d+_user-(?P<user>.+)-[a-z]+_\d+$"
)
_POLICY_HEADING = re.compile(r"^\s*#\s*(?P<domain>\w+) agent policy", re.IGNORECASE)


def read_tau_bench(entries: Iterable[Any], *, source: str, file_stem: str) -> Run:
    """A `Run` from tau-bench list entries; raises `BadField` naming the bad entry.

    `entries` may be parsed lazily: each is modelled and let go before the next.
    """
    simulations: list[Simulation] = []
    tasks: dict[str, Task] = {}
    without_trial: set[int] = set()
    policies: dict[str, str] = {}

    for index, entry in enumerate(entries):
        place = child("", index)
        obj = as_object(entry, place)
        simulation = _read_entry(obj, place)
        _share_system_prompts(simulation.messages, policies)
        if obj.get("trial") is None:
            without_trial.add(index)
        simulations.append(simulation)
        if simulation.task_id not in tasks:
            tasks[simulation.task_id] = _read_task(simulation.task_id, obj, place)

    number_missing_trials(simulations, without_trial)
    check_one_per_trial(simulations)

    domain = _domain_from_policy(simulations)
    model, user_model = _models_from_name(file_stem, domain)
    return Run(
        source=source,
        benchmark="tau-bench",
        domain=domain,
        agent_model=model,
        user_model=user_model,
        tasks=tasks,
        simulations=simulations,
    )


def _read_entry(obj: dict[str, Any], place: str) -> Simulation:
    info = as_object(obj.get("info") or {}, child(place, "info"))
    trial = obj.get("trial")
    # run.py records a crashed simulation as reward 0 with the exception in info.error.
    termination = "error" if info.get("error") else None

    return Simulation(
        task_id=as_id(require(obj, "task_id", place), child(place, "task_id")),
        trial=0 if trial is None else read_trial(trial, child(place, "trial")),
        reward=read_reward(require(obj, "reward", place), child(place, "reward")),
        place=place,
        termination_reason=termination,
        user_cost=optional_number(info, "user_cost", child(place, "info")),
        messages=read_messages(obj.get("traj"), child(place, "traj")),
        reward_details=info.get("reward_info"),
    )


def _share_system_prompts(messages: list[Message], seen: dict[str, str]) -> None:
    # Every v1 trajectory opens with the whole domain policy as its system message
    # (6 KB each, 30% of the example file); keep one copy of each distinct text.
    for message in messages:
        if message.role == "system" and message.content:
            message.content = seen.setdefault(message.content, message.content)


def _read_task(task_id: str, obj: dict[str, Any], place: str) -> Task:
    info = obj.get("info") or {}
    task = info.get("task")
    if not isinstance(task, dict):
        return Task(id=task_id)

    scenario = {"instruction": task.get("instruction"), "user_id": task.get("user_id")}
    criteria = {"actions": task.get("actions") or [], "outputs": task.get("outputs") or []}
    return Task(id=task_id, scenario=scenario, criteria=criteria)


def _domain_from_policy(simulations: list[Simulation]) -> str:
    for simulation in simulations:
        system = _first_system_message(simulation.messages)
        if system is not None and system.content:
            match = _POLICY_HEADING.match(system.content)
            if match:
                return match["domain"].lower()
    return "unknown"


def _first_system_message(messages: list[Message]) -> Message | None:
    return next((m for m in messages if m.role == "system"), None)


def _models_from_name(stem: str, domain: str) -> tuple[str, str]:
    """(agent model, user model) from tau-bench's file naming, else 'unknown'."""
    match = _CHECKPOINT_NAME.match(stem)
    if match:
        return match["model"], match["user"]

    # tau-bench's historical_trajectories are named `<model>-<domain>.json`; a copy may
    # carry a prefix, as in our `tau-bench-v1_<model>_<domain>.json.gz`.
    match = re.match(rf"^(?:.*_)?(?P<model>[^_]+)[-_]{re.escape(domain)}$", stem)
    if domain != "unknown" and match:
        return match["model"], "unknown"
    return "unknown", "unknown"
