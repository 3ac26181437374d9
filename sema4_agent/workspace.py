"""The per-run workspace: what it holds, and how the database gets in.

Every run gets its own directory, so concurrent runs (evals run several at once) never see
each other's files, and the source database is never opened for writing.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from pathlib import Path

# The database copy's name inside every workspace; the system prompt names it for the model.
DB_FILENAME = "data.db"
ANSWER_FILENAME = "answer.sql"


class InvalidDatabase(ValueError):
    """The database to query is missing, is not SQLite, cannot be read, or has no tables.

    A caller's mistake rather than an agent failure, so it is raised before anything starts.
    """


def check_database(path: Path) -> None:
    """Raise `InvalidDatabase`, naming `path` and what to pass instead, unless it can be queried.

    Opens the file read-only and reads its table list, which is what SQLite needs to parse
    first; a 0-byte file opens as an empty database, hence the check for tables.
    """
    if path.is_dir():
        raise InvalidDatabase(f"{path} is a directory; pass a SQLite database file instead.")
    if not path.is_file():
        raise InvalidDatabase(f"no database at {path}; pass an existing SQLite file.")

    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            has_tables = tables.fetchone() is not None
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise InvalidDatabase(
            f"{path} is not a readable SQLite database ({exc}); pass an intact SQLite file."
        ) from exc
    if not has_tables:
        raise InvalidDatabase(f"{path} has no tables; pass a SQLite database that holds data.")


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database without writing to it (the backup API sees a consistent state).

    A plain file copy would miss pages still in a WAL file; `backup` reads through SQLite.
    Raises `InvalidDatabase` when the source turns out to be damaged past its table list.
    """
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        raise InvalidDatabase(
            f"{source} could not be copied ({exc}); pass an intact SQLite file."
        ) from exc
    finally:
        src.close()


MAX_ANSWER_BYTES = 256 * 1024


class UnreadableAnswer(Exception):
    """answer.sql exists but is not a plain, reasonably small file; the message says why."""


def read_answer_sql(workspace: Path) -> str | None:
    """The model's answer.sql, or None when there is none.

    The harness runs outside any sandbox the model's commands run in, so it must not follow
    a symlink the model planted (`answer.sql -> /proc/self/environ` would put the harness's
    own secrets into the run) nor block on a FIFO: only a regular file is read, capped.
    """
    path = workspace / ANSWER_FILENAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            message = f"{ANSWER_FILENAME} is a symlink; save the query itself"
            raise UnreadableAnswer(message) from exc
        raise UnreadableAnswer(f"{ANSWER_FILENAME} cannot be read ({exc.strerror})") from exc

    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise UnreadableAnswer(f"{ANSWER_FILENAME} is not a regular file")
        data = file.read(MAX_ANSWER_BYTES + 1)
    if len(data) > MAX_ANSWER_BYTES:
        raise UnreadableAnswer(f"{ANSWER_FILENAME} is larger than {MAX_ANSWER_BYTES // 1024} KiB")
    return data.decode("utf-8", errors="replace").strip() or None
