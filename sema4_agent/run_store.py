"""The local run store: every CLI run saved to SQLite so it can be listed and shown again.

Two tables, `runs` (one row per run) and `steps` (one row per tool call, keyed by run and
position). The default file is `.sema4/runs.db` under the current directory; SEMA4_RUNS_DB
or `--runs-db` moves it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from sema4_agent.run import AgentError, AgentRun, Step, Usage

DEFAULT_RUNS_DB = Path(".sema4") / "runs.db"


def default_runs_db() -> Path:
    return Path(os.environ.get("SEMA4_RUNS_DB") or DEFAULT_RUNS_DB)


class UnreadableRunStore(Exception):
    """The run store path is a directory, or a file that is not a SQLite run store."""


class RunStore:
    """Save, list and load agent runs in one SQLite file.

    By default the file, its directories and tables are created as needed (for saving).
    `read_only=True` creates nothing (see `open_existing`). Either way `UnreadableRunStore`,
    naming the path, is raised when the path cannot be a run store.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise UnreadableRunStore(f"{self.path} is a directory; point --runs-db at a file.")

        with _unreadable_as(self.path):
            if read_only:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self.db = sqlite_utils.Database(sqlite3.connect(uri, uri=True))
                self._check_tables()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite_utils.Database(self.path)
                self._check_tables()  # never add our tables to someone's data
                self._ensure_tables()

    @classmethod
    def open_existing(cls, path: str | Path) -> RunStore | None:
        """The store at `path`, read-only; None when there is no file there yet."""
        path = Path(path)
        if not path.exists():
            return None
        return cls(path, read_only=True)

    def save(self, run: AgentRun) -> None:
        """Store `run` and its steps (replacing a run with the same id)."""
        if not run.run_id:
            raise ValueError("a run needs a run_id to be stored")

        with self.db.conn:
            self.db["steps"].delete_where("run_id = ?", [run.run_id])
            self.db["runs"].insert(_run_record(run), replace=True)
            self.db["steps"].insert_all(
                _step_record(run.run_id, position, step) for position, step in enumerate(run.steps)
            )

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest runs, newest first, as summary rows."""
        with _unreadable_as(self.path):
            if not self.db["runs"].exists():  # a read-only store that is still empty
                return []
            return list(
                self.db.query(
                    "SELECT run_id, created_at, question, error_code, row_count, num_turns, "
                    "duration_s, cost_usd FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?",
                    [limit],
                )
            )

    def get(self, run_id: str) -> AgentRun | None:
        """The run whose id is `run_id` or starts with it (when that prefix is unique)."""
        with _unreadable_as(self.path):
            return self._get(run_id)

    def _get(self, run_id: str) -> AgentRun | None:
        if not run_id or not self.db["runs"].exists():
            return None
        records = list(
            self.db.query(
                "SELECT * FROM runs WHERE run_id = ? OR substr(run_id, 1, length(?)) = ? "
                "ORDER BY run_id = ? DESC",
                [run_id, run_id, run_id, run_id],
            )
        )
        if not records or (len(records) > 1 and records[0]["run_id"] != run_id):
            return None

        record = records[0]
        steps = self.db.query(
            "SELECT * FROM steps WHERE run_id = ? ORDER BY position", [record["run_id"]]
        )
        return _run_from_records(record, list(steps))

    def _check_tables(self) -> None:
        # A 0-byte file is an empty SQLite database: a store with no runs yet.
        tables = set(self.db.table_names())
        if tables and not {"runs", "steps"} <= tables:
            raise UnreadableRunStore(
                f"{self.path} is a SQLite file but not a run store (no runs and steps tables); "
                "pass another --runs-db."
            )

    def _ensure_tables(self) -> None:
        self.db["runs"].create(
            {
                "run_id": str,
                "created_at": str,
                "question": str,
                "model": str,
                "db": str,
                "answer": str,
                "sql": str,
                "columns": str,
                "rows": str,
                "row_count": int,
                "error_code": str,
                "error_message": str,
                "num_turns": int,
                "input_tokens": int,
                "output_tokens": int,
                "cache_creation_input_tokens": int,
                "cache_read_input_tokens": int,
                "cost_usd": float,
                "duration_s": float,
                "session_id": str,
                "workspace": str,
                "trace_url": str,
            },
            pk="run_id",
            if_not_exists=True,
        )
        self.db["steps"].create(
            {
                "run_id": str,
                "position": int,
                "tool": str,
                "input": str,
                "output": str,
                "is_error": int,
                "duration_s": float,
            },
            pk=("run_id", "position"),
            foreign_keys=[("run_id", "runs", "run_id")],
            if_not_exists=True,
        )


@contextmanager
def _unreadable_as(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise UnreadableRunStore(
            f"{path} is not a readable run store ({exc}); pass another --runs-db."
        ) from exc


def _run_record(run: AgentRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        # When the run was stored, for ordering the list; never used as "today" for data.
        "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "question": run.question,
        "model": run.model,
        "db": run.db,
        "answer": run.answer,
        "sql": run.sql,
        "columns": json.dumps(run.columns),
        "rows": json.dumps(run.rows, default=str),
        "row_count": len(run.rows),
        "error_code": run.error.code if run.error else None,
        "error_message": run.error.message if run.error else None,
        "num_turns": run.num_turns,
        "input_tokens": run.usage.input_tokens,
        "output_tokens": run.usage.output_tokens,
        "cache_creation_input_tokens": run.usage.cache_creation_input_tokens,
        "cache_read_input_tokens": run.usage.cache_read_input_tokens,
        "cost_usd": run.cost_usd,
        "duration_s": run.duration_s,
        "session_id": run.session_id,
        "workspace": run.workspace,
        "trace_url": run.trace_url,
    }


def _step_record(run_id: str, position: int, step: Step) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "position": position,
        "tool": step.tool,
        "input": json.dumps(step.input, default=str),
        "output": step.output,
        "is_error": int(step.is_error),
        "duration_s": step.duration_s,
    }


def _run_from_records(record: dict[str, Any], steps: list[dict[str, Any]]) -> AgentRun:
    error = None
    if record["error_code"]:
        error = AgentError(record["error_code"], record["error_message"] or "")
    return AgentRun(
        question=record["question"],
        model=record["model"],
        db=record["db"],
        answer=record["answer"],
        sql=record["sql"],
        columns=json.loads(record["columns"] or "[]"),
        rows=json.loads(record["rows"] or "[]"),
        error=error,
        steps=[
            Step(
                tool=step["tool"],
                input=json.loads(step["input"] or "{}"),
                output=step["output"] or "",
                is_error=bool(step["is_error"]),
                duration_s=step["duration_s"],
            )
            for step in steps
        ],
        num_turns=record["num_turns"] or 0,
        usage=Usage(
            input_tokens=record["input_tokens"] or 0,
            output_tokens=record["output_tokens"] or 0,
            cache_creation_input_tokens=record["cache_creation_input_tokens"] or 0,
            cache_read_input_tokens=record["cache_read_input_tokens"] or 0,
        ),
        cost_usd=record["cost_usd"],
        duration_s=record["duration_s"] or 0.0,
        session_id=record["session_id"],
        workspace=record["workspace"],
        run_id=record["run_id"],
        trace_url=record["trace_url"],
    )
