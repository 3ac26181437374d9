"""Send runs to Braintrust: one dataset row per task, one experiment row per simulation.

Every row carries an id derived from what it describes (task id, trial, turn),
so ingesting the same file again overwrites the rows it wrote before instead of
adding copies: Braintrust upserts rows by id, and `braintrust.init(update=True)`
reopens the experiment of the same name instead of creating `name-1`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingest.conversation import conversation_spans
from ingest.model import Run, Simulation
from ingest.summary import Summary, sort_key

log = logging.getLogger(__name__)

OpenDataset = Callable[[str, str], Any]
OpenExperiment = Callable[[str, str, Any], Any]


@dataclass
class Uploaded:
    """Where one experiment went."""

    name: str
    url: str | None
    rows: int


def default_dataset_name(run: Run) -> str:
    return f"{run.benchmark} {run.domain} tasks"


def dataset_row_id(run: Run, task_id: str) -> str:
    # tau-bench and tau2-bench number their airline tasks alike but differently.
    return f"{run.benchmark}/{run.domain}/task/{task_id}"


def experiment_row_id(simulation: Simulation) -> str:
    return f"task/{simulation.task_id}/trial/{simulation.trial}"


def open_dataset(project: str, name: str):
    import braintrust

    return braintrust.init_dataset(project=project, name=name)


def open_experiment(project: str, name: str, dataset):
    import braintrust

    # A dataset reference by id: passing the Dataset object makes the SDK fetch
    # the whole dataset to learn its version.
    return braintrust.init(
        project=project, experiment=name, update=True, dataset={"id": dataset.id}, set_current=False
    )


def upload(
    summaries: list[Summary],
    *,
    project: str,
    dataset_name: str | None = None,
    on_row: Callable[[], None] = lambda: None,
    open_dataset: OpenDataset = open_dataset,
    open_experiment: OpenExperiment = open_experiment,
) -> list[Uploaded]:
    """Upload every summary's run; `on_row` is called once per simulation logged."""
    datasets: dict[str, Any] = {}
    for summary in summaries:
        name = dataset_name or default_dataset_name(summary.run)
        if name not in datasets:
            datasets[name] = open_dataset(project, name)
        insert_tasks(datasets[name], summary.run)

    uploaded = []
    for summary in summaries:
        dataset = datasets[dataset_name or default_dataset_name(summary.run)]
        experiment = open_experiment(project, summary.name, dataset)
        for simulation in summary.run.simulations:
            log_simulation(experiment, summary, simulation, dataset_id=dataset.id)
            on_row()
        experiment.flush()
        uploaded.append(Uploaded(summary.name, _link(experiment), len(summary.run.simulations)))

    for dataset in datasets.values():
        dataset.flush()
    return uploaded


def insert_tasks(dataset, run: Run) -> None:
    """One dataset row per task; inserting with an explicit id replaces the earlier row."""
    for task_id in sorted(run.tasks, key=sort_key):
        task = run.tasks[task_id]
        dataset.insert(
            id=dataset_row_id(run, task_id),
            input=task.scenario,
            expected=task.criteria,
            metadata={
                "benchmark": run.benchmark,
                "domain": run.domain,
                "task_id": task_id,
                "description": task.description,
            },
        )


def log_simulation(experiment, summary: Summary, simulation: Simulation, *, dataset_id: str):
    """One experiment row for `simulation`, with its conversation as child spans."""
    run = summary.run
    task = run.tasks[simulation.task_id]
    row_id = experiment_row_id(simulation)
    start = _start_time(simulation)

    root = experiment.start_span(
        name=f"task {simulation.task_id} · trial {simulation.trial}",
        type="eval",
        id=row_id,
        start_time=start,
        set_current=False,
        input=task.scenario,
        expected=task.criteria,
        output={
            "termination_reason": simulation.termination_reason,
            "last_agent_message": _last_agent_message(simulation),
        },
        scores=_scores(summary, simulation),
        metadata=_metadata(run, simulation),
        metrics=_metrics(simulation),
        origin={
            "object_type": "dataset",
            "object_id": dataset_id,
            "id": dataset_row_id(run, simulation.task_id),
        },
    )

    spans = conversation_spans(
        simulation.messages, agent_model=run.agent_model, user_model=run.user_model
    )
    # Turns carry no reliable times of their own: spread them over the row's span so
    # the trace timeline reads in conversation order inside its parent.
    step = (simulation.duration or 0.001 * len(spans)) / max(len(spans), 1)
    for index, turn in enumerate(spans):
        child = root.start_span(
            name=turn.name,
            type=turn.type,
            id=f"{row_id}/turn/{index}",
            start_time=start + index * step,
            set_current=False,
            input=turn.input,
            output=turn.output,
            metadata=turn.metadata,
            metrics=turn.metrics or None,
        )
        child.end(end_time=start + (index + 1) * step)

    # The row's duration in the UI is the simulation's own, when the file has it.
    root.end(end_time=start + (simulation.duration or 0.001 * len(spans)))


def _scores(summary: Summary, simulation: Simulation) -> dict[str, float]:
    scores: dict[str, float] = {}
    if simulation.reward is not None:
        scores["reward"] = simulation.reward
    for k, value in summary.tasks[simulation.task_id].pass_hat_k.items():
        scores[f"pass^{k}"] = value
    return scores


def _metadata(run: Run, simulation: Simulation) -> dict[str, Any]:
    return {
        "benchmark": run.benchmark,
        "domain": run.domain,
        "task_id": simulation.task_id,
        "trial": simulation.trial,
        "agent_model": run.agent_model,
        "user_model": run.user_model,
        "termination_reason": simulation.termination_reason,
        "agent_cost": simulation.agent_cost,
        "user_cost": simulation.user_cost,
        "simulation_id": simulation.id,
        "reward_info": simulation.reward_details,
    }


def _metrics(simulation: Simulation) -> dict[str, float]:
    metrics = {"duration": simulation.duration, "cost": simulation.agent_cost}
    return {key: value for key, value in metrics.items() if value is not None}


def _last_agent_message(simulation: Simulation) -> str | None:
    for message in reversed(simulation.messages):
        if message.role == "assistant" and message.content:
            return message.content
    return None


def _start_time(simulation: Simulation) -> float:
    return time.time() if simulation.start_time is None else simulation.start_time


def _link(experiment) -> str | None:
    try:
        return experiment.summarize(summarize_scores=False).experiment_url
    except Exception as e:  # a missing link must not hide rows that were uploaded
        log.warning("could not build the link for experiment %s: %s", experiment.name, e)
        return None
