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
# The whole result held in memory, summed over its text and blob values.
DEFAULT_MAX_BYTES = 32 * 1024 * 1024

# The progress handler runs every this many SQLite VM instructions: often enough to stop
# a runaway cross join within milliseconds of the deadline, rarely enough to cost nothing.
_PROGRESS_EVERY = 10_000


# What a query may do, as SQLite's authorizer reports it. mode=ro protects the main file,
# but ATTACH (and VACUUM INTO, which SQLite authorizes as an ATTACH) opens or creates other
# files read-write, and the model writes the SQL: everything that is not reading is denied.
_ALLOWED_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
_DENIED_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"})


class SqlExecError(Exception):
    """The query could not be run or its result was refused; the message says why."""


def _authorize(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK if action in _ALLOWED_ACTIONS else sqlite3.SQLITE_DENY


def execute_readonly(
    db_path: str | PathLike[str],
    sql: str,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[list[str], list[list[Any]]]:
    """Run one statement on the database at `db_path` opened read-only.

    Returns the column names and the rows (as lists). Raises `SqlExecError` when the file
    is missing, the SQL fails, holds no query or more than one statement, does anything but
    read (write, ATTACH, VACUUM INTO, PRAGMA, load_extension), returns more than `max_rows`
    rows or more than `max_bytes` of text and blobs, or runs longer than `timeout_s` seconds.
    """
    path = Path(db_path)
    if not path.is_file():
        raise SqlExecError(f"database not found: {path}")

    # mode=ro makes SQLite itself refuse writes, whatever the statement says.
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    deadline = time.monotonic() + timeout_s
    conn.set_progress_handler(lambda: time.monotonic() > deadline, _PROGRESS_EVERY)
    conn.set_authorizer(_authorize)
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, min(max_bytes, 1_000_000_000))

    try:
        cursor = conn.execute(sql)
        if cursor.description is None:
            raise SqlExecError("the SQL holds no query that returns rows")
        columns = [d[0] for d in cursor.description]
        rows = _fetch_bounded(cursor, max_rows=max_rows, max_bytes=max_bytes)
    except (sqlite3.Error, sqlite3.Warning) as exc:
        raise SqlExecError(_explain(exc, timeout_s)) from exc
    finally:
        conn.close()

    return columns, rows


def _explain(exc: sqlite3.Error | sqlite3.Warning, timeout_s: float) -> str:
    message = str(exc)
    if message == "interrupted":
        return f"query ran longer than {timeout_s:g} s and was stopped"
    if "not authorized" in message or "authorization denied" in message:
        return f"{message}: only queries that read are allowed"
    return message


def _fetch_bounded(cursor: sqlite3.Cursor, *, max_rows: int, max_bytes: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    size = 0
    while batch := cursor.fetchmany(500):
        for row in batch:
            size += sum(len(v) for v in row if isinstance(v, str | bytes))
            if size > max_bytes:
                raise SqlExecError(
                    f"query returned more than {max_bytes // (1024 * 1024)} MiB of text and "
                    "blobs; select fewer or shorter values"
                )
            rows.append(list(row))
            if len(rows) > max_rows:
                raise SqlExecError(
                    f"query returned more than {max_rows} rows; aggregate or add a LIMIT"
                )
    return rows
