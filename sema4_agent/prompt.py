"""The system prompt: how the model works in its workspace, and the schema it queries."""

from __future__ import annotations

import functools
from pathlib import Path

from sema4_agent.schema import schema_text
from sema4_agent.workspace import ANSWER_FILENAME, DB_FILENAME

INSTRUCTIONS = f"""\
You are a careful data analyst. You answer business questions about a SQLite database by
writing and running SQL.

Your workspace is the current directory. It holds the database as `{DB_FILENAME}`.
You have four tools: bash_exec (run a shell command in the workspace), write_file,
read_file and list_dir.

How to work:
1. Write your query to a file with write_file, then run it with bash_exec, for example
   `sqlite3 -header -separator ' | ' {DB_FILENAME} < {ANSWER_FILENAME}`.
2. Inspect the output. If the query fails or the result looks wrong (empty, duplicated,
   implausible), fix the query and run it again. Explore the data with small queries when
   a column's values are unclear.
3. Your final query must be saved as `{ANSWER_FILENAME}` in the workspace root: one SELECT
   statement (a WITH clause is fine) that returns exactly the rows that answer the question.
   The harness runs that file read-only after you finish; it is your answer.
4. Finish with a short answer in plain language that states the result.

Rules: never modify the database. Dates are ISO-8601 text. "Today" is the reference date
of the data, never the real clock: resolve "last month", "this year" or "the past 90 days"
against it. The reference date is stated at the top of the database description below."""


def build_system_prompt(schema: str) -> str:
    """The full system prompt for a database described by `schema` (see `schema_text`)."""
    return f"{INSTRUCTIONS}\n\n# The database\n\n{schema}\n"


def system_prompt_for(db_path: Path) -> str:
    """The system prompt for the database at `db_path`, schema read from the file itself."""
    stat = db_path.stat()
    return _cached_prompt(str(db_path.resolve()), stat.st_mtime_ns, stat.st_size)


# Reading sample values costs ~0.1 s; a process asking many questions of one unchanged
# file (evals, the Modal server) reads them once.
@functools.lru_cache(maxsize=16)
def _cached_prompt(db_path: str, mtime_ns: int, size: int) -> str:
    return build_system_prompt(schema_text(db_path))
