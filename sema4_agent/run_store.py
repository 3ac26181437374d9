"""The local run store: every CLI run saved to SQLite so it can be listed and shown again.

Two tables, `runs` (one row per run) and `steps` (one row per tool call, keyed by run and
position). The default file is `.sema4/runs.db` under the current directory; SEMA4_RUNS_DB
or `--runs-db` moves it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from sema4_agent.run import AgentError, AgentRun, Step, Usage

DEFAULT_RUNS_DB = Path(".sema4") / "runs.db"


def default_runs_db() -> Path:
    return Path(os.environ.get("SEMA4_RUNS_DB") or DEFAULT_RUNS_DB)


class RunStore:
    """Save, list and load agent runs in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(self.path)
        self._ensure_tables()

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
        return list(
            self.db.query(
                "SELECT run_id, created_at, question, error_code, row_count, num_turns, "
                "duration_s, cost_usd FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?",
                [limit],
            )
        )

    def get(self, run_id: str) -> AgentRun | None:
        """The run whose id is `run_id` or starts with it (when that prefix is unique)."""
        records = list(
            self.db.query(
                "SELECT * FROM runs WHERE run_id = ? OR run_id LIKE ? ORDER BY run_id = ? DESC",
                [run_id, f"{run_id}%", run_id],
            )
        )
        if not records or (len(records) > 1 and records[0]["run_id"] != run_id):
            return None

        record = records[0]
        steps = self.db.query(
            "SELECT * FROM steps WHERE run_id = ? ORDER BY position", [record["run_id"]]
        )
        return _run_from_records(record, list(steps))

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
