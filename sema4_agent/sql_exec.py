"""Run one SQL query against a SQLite file read-only, bounded in rows and time.

The agent harness runs the model's `answer.sql` through this, and the evals run the gold
queries through it, so a candidate and its gold answer are executed the same way.
"""

from __future__ import annotations

import sqlite3
import time
from os import PathLike
from pathlib import Path
from typing import Any

DEFAULT_MAX_ROWS = 10_000
DEFAULT_TIMEOUT_S = 10.0

# The progress handler runs every this many SQLite VM instructions: often enough to stop
# a runaway cross join within milliseconds of the deadline, rarely enough to cost nothing.
_PROGRESS_EVERY = 10_000


class SqlExecError(Exception):
    """The query could not be run or its result was refused; the message says why."""


def execute_readonly(
    db_path: str | PathLike[str],
    sql: str,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> tuple[list[str], list[list[Any]]]:
    """Run one statement on the database at `db_path` opened read-only.

    Returns the column names and the rows (as lists). Raises `SqlExecError` when the file
    is missing, the SQL fails, holds no query or more than one statement, tries to write,
    returns more than `max_rows` rows, or runs longer than `timeout_s` seconds.
    """
    path = Path(db_path)
    if not path.is_file():
        raise SqlExecError(f"database not found: {path}")

    # mode=ro makes SQLite itself refuse writes, whatever the statement says.
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    deadline = time.monotonic() + timeout_s
    conn.set_progress_handler(lambda: time.monotonic() > deadline, _PROGRESS_EVERY)

    try:
        cursor = conn.execute(sql)
        if cursor.description is None:
            raise SqlExecError("the SQL holds no query that returns rows")
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchmany(max_rows + 1)
    except sqlite3.OperationalError as exc:
        if str(exc) == "interrupted":
            raise SqlExecError(f"query ran longer than {timeout_s:g} s and was stopped") from exc
        raise SqlExecError(str(exc)) from exc
    except (sqlite3.Error, sqlite3.Warning) as exc:
        raise SqlExecError(str(exc)) from exc
    finally:
        conn.close()

    if len(rows) > max_rows:
        raise SqlExecError(f"query returned more than {max_rows} rows; aggregate or add a LIMIT")
    return columns, [list(row) for row in rows]
