"""The NL-to-SQL eval tasks: `evals/sql_tasks.jsonl`, one BIRD-style task per line.

Fields of a line: `id`, `question`, `gold_sql`, `difficulty` (simple / moderate /
challenging, as BIRD labels them) and `evidence` (BIRD's outside-knowledge hint, may be
empty), plus two optional flags: `ordered` (the question asks for an order, so rows are
compared in sequence; default false) and `expect_empty` (the right answer has no rows;
default false).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from os import PathLike
from pathlib import Path
from typing import Literal, get_args

Difficulty = Literal["simple", "moderate", "challenging"]

TASKS_PATH = Path(__file__).with_name("sql_tasks.jsonl")


class TaskFileError(ValueError):
    """A line of the tasks file is not a valid task; the message names the line."""


@dataclass(frozen=True)
class SqlTask:
    """One question over the demo database and the query that answers it."""

    id: str
    question: str
    gold_sql: str
    difficulty: Difficulty
    evidence: str = ""
    ordered: bool = False
    expect_empty: bool = False


_REQUIRED = ("id", "question", "gold_sql", "difficulty", "evidence")
_KNOWN = {f.name for f in fields(SqlTask)}


def load_tasks(path: str | PathLike[str] | None = None) -> list[SqlTask]:
    """Every task in `path` (default: the bundled `evals/sql_tasks.jsonl`), in file order.

    Raises `TaskFileError` naming the file and line of the first bad line.
    """
    path = Path(path) if path is not None else TASKS_PATH
    tasks: list[SqlTask] = []
    seen: set[str] = set()

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            task = _parse(line)
        except ValueError as exc:
            raise TaskFileError(f"{path}:{number}: {exc}") from exc
        if task.id in seen:
            raise TaskFileError(f"{path}:{number}: duplicate task id {task.id!r}")
        seen.add(task.id)
        tasks.append(task)
    return tasks


def _parse(line: str) -> SqlTask:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")

    missing = [name for name in _REQUIRED if name not in data]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}")
    for name in ("id", "question", "gold_sql"):
        if not isinstance(data[name], str) or not data[name].strip():
            raise ValueError(f"{name} must be a non-empty string")
    if not isinstance(data["evidence"], str):
        raise ValueError("evidence must be a string (may be empty)")
    if data["difficulty"] not in get_args(Difficulty):
        raise ValueError(
            f"difficulty must be one of {', '.join(get_args(Difficulty))}, "
            f"got {data['difficulty']!r}"
        )
    for name in ("ordered", "expect_empty"):
        if not isinstance(data.get(name, False), bool):
            raise ValueError(f"{name} must be true or false")
    return SqlTask(**data)
