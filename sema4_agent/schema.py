"""The schema text the model sees, read from the database itself.

Tables, columns, types, keys, row counts, a few real values per column and the reference
date (from the `meta` table) — never copied by hand, so it cannot drift from the data.
"""

from __future__ import annotations

import sqlite3
from os import PathLike
from pathlib import Path

import sqlite_utils
from sqlite_utils.db import Table

# A column with at most this many distinct values lists them all (statuses, categories);
# the model then filters on real spellings instead of guessing them.
MAX_LISTED_VALUES = 8
SAMPLE_VALUES = 3


def schema_text(db_path: str | PathLike[str]) -> str:
    """A compact description of the SQLite database at `db_path` for a system prompt."""
    conn = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        db = sqlite_utils.Database(conn)
        # sqlite_stat1 and friends are SQLite's own bookkeeping, not data to ask about.
        tables = [t for t in db.tables if not t.name.startswith("sqlite_")]
        parts = [_header(db)] + [_describe_table(table) for table in tables]
    finally:
        conn.close()
    return "\n\n".join(parts) + "\n"


def _header(db: sqlite_utils.Database) -> str:
    lines = ["SQLite database."]
    if "meta" not in db.table_names():
        return lines[0]

    notes = dict(db.execute("SELECT key, value FROM meta ORDER BY key").fetchall())
    if "reference_date" in notes:
        lines.append(
            f"Reference date (today for this data): {notes['reference_date']}. "
            "Resolve 'today', 'last month', 'the past N days' against it, never the real clock."
        )
    lines += [f"- {key}: {value}" for key, value in notes.items() if key != "reference_date"]
    return "\n".join(lines)


def _describe_table(table: Table) -> str:
    foreign = {fk.column: f"{fk.other_table}.{fk.other_column}" for fk in table.foreign_keys}
    pks = table.pks if table.use_rowid is False else []
    lines = [f"TABLE {table.name} ({table.count} rows)"]

    for column in table.columns:
        parts = [column.name, column.type or "ANY"]
        if column.name in pks:
            parts.append("PRIMARY KEY" if len(pks) == 1 else "PK part")
        if column.notnull:
            parts.append("NOT NULL")
        if column.name in foreign:
            parts.append(f"-> {foreign[column.name]}")
        # meta's rows are already spelled out in the header.
        note = "" if table.name == "meta" else _values_note(table, column.name)
        lines.append("  " + " ".join(parts) + note)
    return "\n".join(lines)


def _values_note(table: Table, column: str) -> str:
    """Real values from the column: all of them when few, else a range or samples."""
    quoted = f'"{column}"'
    db = table.db
    nulls, distinct, low, high = db.execute(
        f"SELECT sum({quoted} IS NULL), count(DISTINCT {quoted}), min({quoted}), max({quoted})"
        f' FROM "{table.name}"'
    ).fetchone()

    notes = []
    if distinct <= MAX_LISTED_VALUES:
        values = db.execute(
            f'SELECT DISTINCT {quoted} FROM "{table.name}" WHERE {quoted} IS NOT NULL'
            f" ORDER BY {quoted}"
        ).fetchall()
        notes.append("values " + ", ".join(_literal(v) for (v,) in values))
    elif _is_ordered_kind(low):
        notes.append(f"{distinct} distinct, {_literal(low)} .. {_literal(high)}")
    else:
        samples = db.execute(
            f'SELECT DISTINCT {quoted} FROM "{table.name}" WHERE {quoted} IS NOT NULL'
            f" LIMIT {SAMPLE_VALUES}"
        ).fetchall()
        notes.append(f"{distinct} distinct, e.g. " + ", ".join(_literal(v) for (v,) in samples))
    if nulls:
        notes.append(f"{nulls} NULL")
    return "  -- " + "; ".join(notes)


def _is_ordered_kind(value: object) -> bool:
    """Numbers and ISO dates read best as a range; names and emails as examples."""
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and len(value) in (7, 10) and value[:4].isdigit()


def _literal(value: object) -> str:
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return "'" + text.replace("'", "''") + "'"
    return repr(value)
