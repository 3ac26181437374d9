"""The per-run workspace: what it holds, and how the database gets in.

Every run gets its own directory, so concurrent runs (evals run several at once) never see
each other's files, and the source database is never opened for writing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# The database copy's name inside every workspace; the system prompt names it for the model.
DB_FILENAME = "data.db"
ANSWER_FILENAME = "answer.sql"


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database without writing to it (the backup API sees a consistent state).

    A plain file copy would miss pages still in a WAL file; `backup` reads through SQLite.
    """
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
