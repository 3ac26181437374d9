"""Turn input paths into `Run`s: detect the format from content, validate everything first."""

from __future__ import annotations

import stat
from collections.abc import Iterable
from itertools import chain
from pathlib import Path
from typing import Any, Literal

from ingest.errors import BadField, IngestError
from ingest.fields import child
from ingest.json_stream import JsonStream
from ingest.model import Run, Simulation, Task
from ingest.reading import file_mode, open_json, read_json
from ingest.tau2_bench import build_run, read_simulation, read_tasks
from ingest.tau_bench import read_tau_bench

Format = Literal["tau-bench", "tau2-bench", "tau2-bench-dir"]

_NOT_RESULTS = (
    "not a tau-bench or tau2-bench results file: expected a list of "
    "{task_id, reward, info, traj, trial} records or an object with info, tasks and simulations"
)
_NONE = object()


def load_runs(paths: list[Path]) -> list[Run]:
    """Every input as a `Run`, or an `IngestError` if any input is bad (nothing is partial)."""
    runs: list[Run] = []
    errors: list[IngestError] = []
    for path in paths:
        try:
            runs.append(load_run(path))
        except IngestError as e:
            errors.append(e)

    if len(errors) > 1:
        first = errors[0]
        more = f"{len(errors) - 1} more input{'s' if len(errors) > 2 else ''}"
        raise IngestError(first.source, f"{first.problem} ({more} also bad)", first.place)
    if errors:
        raise errors[0]
    return runs


def load_run(path: Path) -> Run:
    """One input file or tau2-bench results directory as a `Run`."""
    if stat.S_ISDIR(file_mode(path)):
        return _load_tau2_dir(path)

    try:
        with open_json(path) as stream:
            run = _read_document(stream, path)
    except BadField as e:
        raise IngestError(str(path), e.problem, e.place) from e
    return _non_empty(run)


def _read_document(stream: JsonStream, path: Path) -> Run:
    # The two big lists (a v1 file itself, a tau2 file's `simulations`) are modelled
    # one element at a time as they are parsed, so their raw JSON never piles up.
    opening = stream.peek()
    if opening == "[":
        return _read_tau_bench_list(stream, path)
    if opening == "{":
        return _read_tau2_object(stream, path)

    stream.value()
    stream.end()
    raise IngestError(str(path), _NOT_RESULTS)


def _read_tau_bench_list(stream: JsonStream, path: Path) -> Run:
    entries = stream.items()
    first = next(entries, _NONE)
    _detect_or_fail([] if first is _NONE else [first], path, has_simulations_dir=False)

    run = read_tau_bench(chain([first], entries), source=str(path), file_stem=_stem(path))
    stream.end()
    return run


def _read_tau2_object(stream: JsonStream, path: Path) -> Run:
    head: dict[str, Any] = {}
    tasks: dict[str, Task] | None = None
    for key in stream.keys():
        # tau2-bench writes info and tasks before simulations; in any other order the
        # simulations are parsed whole and read after the object ends.
        if key == "simulations" and stream.peek() == "[" and {"info", "tasks"} <= head.keys():
            tasks = read_tasks(head)
            head[key] = _read_simulations(stream.items(), tasks)
        else:
            head[key] = stream.value()
    stream.end()

    kind = _detect_or_fail(head, path, has_simulations_dir=(path.parent / "simulations").is_dir())
    if kind == "tau2-bench-dir":
        return _load_tau2_dir(path.parent, results=head, results_path=path)
    if tasks is None:
        tasks = read_tasks(head)
        head["simulations"] = _read_simulations(head["simulations"], tasks)
    return build_run(head, tasks, head["simulations"], source=str(path))


def _read_simulations(items: Iterable[Any], tasks: dict[str, Task]) -> list[Simulation]:
    return [
        read_simulation(item, child("simulations", index), tasks)
        for index, item in enumerate(items)
    ]


def detect_format(doc: Any, *, has_simulations_dir: bool = False) -> Format | None:
    """Which benchmark wrote `doc`, judged from its shape alone; None if neither."""
    if isinstance(doc, list):
        first = doc[0] if doc else None
        if isinstance(first, dict) and "task_id" in first:
            return "tau-bench"
        return None

    if isinstance(doc, dict) and "info" in doc and "tasks" in doc:
        if isinstance(doc.get("simulations"), list) and doc["simulations"]:
            return "tau2-bench"
        if has_simulations_dir:
            return "tau2-bench-dir"
        if "simulations" in doc:
            return "tau2-bench"
    return None


def _detect_or_fail(doc: Any, path: Path, *, has_simulations_dir: bool) -> Format:
    kind = detect_format(doc, has_simulations_dir=has_simulations_dir)
    if kind is None:
        problem = "an empty list, so no simulations to ingest" if doc == [] else _NOT_RESULTS
        raise IngestError(str(path), problem)
    return kind


def _load_tau2_dir(
    directory: Path, *, results: Any = None, results_path: Path | None = None
) -> Run:
    results_path = results_path or directory / "results.json"
    if results is None:
        if not results_path.exists() and not results_path.is_symlink():
            raise IngestError(
                str(directory),
                "a directory input must be a tau2-bench results directory "
                "holding results.json and simulations/*.json",
            )
        results = read_json(results_path)
        _detect_or_fail(results, results_path, has_simulations_dir=True)

    try:
        tasks = read_tasks(results)
    except BadField as e:
        raise IngestError(str(results_path), e.problem, e.place) from e

    simulations = []
    for sim_path in sorted((directory / "simulations").glob("*.json")):
        try:
            simulations.append(read_simulation(read_json(sim_path), "", tasks))
        except BadField as e:
            raise IngestError(str(sim_path), e.problem, e.place) from e
        simulations[-1].place = sim_path.name

    try:
        run = build_run(results, tasks, simulations, source=str(directory))
    except BadField as e:
        raise IngestError(str(directory), e.problem, e.place) from e
    return _non_empty(run)


def _non_empty(run: Run) -> Run:
    if not run.simulations:
        raise IngestError(run.source, "holds no simulations to ingest")
    return run


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".json"):
        name = name.removesuffix(suffix)
    return name
