import sqlite3

import pytest

from sema4_agent.demo_db import build_demo_db
from sema4_agent.schema import schema_text


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_db(tmp_path_factory.mktemp("schema") / "demo.db")


def table_columns(path):
    with sqlite3.connect(path) as conn:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {
            name: [c[1] for c in conn.execute(f"PRAGMA table_info('{name}')")] for name in names
        }


def test_schema_text_mentions_every_table_and_column_with_its_row_count(demo):
    text = schema_text(demo)
    tables = table_columns(demo)

    assert sorted(tables) == [
        "customers",
        "data_usage",
        "meta",
        "plans",
        "support_tickets",
        "transactions",
    ]
    with sqlite3.connect(demo) as conn:
        for table, columns in tables.items():
            (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            block = text.split(f"TABLE {table} ({count} rows)\n", 1)[1].split("\n\n", 1)[0]
            listed = [line.split()[0] for line in block.splitlines()]
            assert listed == columns, table


def test_schema_text_reads_the_reference_date_from_the_database(demo):
    with sqlite3.connect(demo) as conn:
        (reference,) = conn.execute(
            "SELECT value FROM meta WHERE key = 'reference_date'"
        ).fetchone()

    assert f"Reference date (today for this data): {reference}." in schema_text(demo)


@pytest.mark.parametrize(
    "line",
    [
        "  plan_id INTEGER NOT NULL -> plans.id  -- values 1, 2, 3, 4, 5, 6, 7",
        "  status TEXT NOT NULL  -- values 'active', 'cancelled', 'suspended'",
        "  type TEXT NOT NULL  -- values 'charge', 'payment', 'refund'",
        "  month TEXT PK part  -- 12 distinct, '2025-07' .. '2026-06'",
    ],
)
def test_schema_text_shows_keys_and_real_values(demo, line):
    assert line in schema_text(demo).splitlines()


def test_schema_text_describes_any_database(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE widgets (sku TEXT PRIMARY KEY, colour TEXT, weight REAL)")
        conn.executemany(
            "INSERT INTO widgets VALUES (?, ?, ?)",
            [("w1", "red", 1.5), ("w2", None, 2.25), ("w3", "blue", None)],
        )
    conn.close()

    assert schema_text(path) == (
        "SQLite database.\n\n"
        "TABLE widgets (3 rows)\n"
        "  sku TEXT PRIMARY KEY  -- values 'w1', 'w2', 'w3'\n"
        "  colour TEXT  -- values 'blue', 'red'; 1 NULL\n"
        "  weight REAL  -- values 1.5, 2.25; 1 NULL\n"
    )
