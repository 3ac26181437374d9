import hashlib
import sqlite3
from pathlib import Path

import pytest

from sema4_agent import demo_db
from sema4_agent.demo_db import REFERENCE_DATE, build_demo_db, demo_db_path

TABLES = ["meta", "plans", "customers", "data_usage", "transactions", "support_tickets"]

EXCEEDED_LAST_MONTH = """
    SELECT c.id
    FROM data_usage u
    JOIN customers c ON c.id = u.customer_id
    JOIN plans p ON p.id = c.plan_id
    WHERE u.month = '2026-06' AND u.data_gb > p.data_limit_gb
"""


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return build_demo_db(tmp_path_factory.mktemp("demo") / "demo.db")


def rows_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(path) as conn:
        for table in TABLES:
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
                digest.update(repr((table, row)).encode())
    return digest.hexdigest()


def test_demo_db_builds_identically_twice(db, tmp_path):
    again = build_demo_db(tmp_path / "again.db")

    assert rows_checksum(again) == rows_checksum(db)


def test_demo_db_foreign_keys_hold(db):
    with sqlite3.connect(db) as conn:
        declared = conn.execute("SELECT * FROM pragma_foreign_key_list('customers')").fetchall()
        violations = conn.execute("PRAGMA foreign_key_check").fetchall()

    assert violations == []
    assert [(row[2], row[3], row[4]) for row in declared] == [("plans", "plan_id", "id")]


@pytest.mark.parametrize(
    ("table", "minimum"),
    [("customers", 400), ("data_usage", 4000), ("transactions", 8000), ("support_tickets", 500)],
)
def test_demo_db_has_hundreds_of_customers_and_thousands_of_rows(db, table, minimum):
    with sqlite3.connect(db) as conn:
        (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()

    assert count >= minimum


def test_demo_db_some_customers_exceeded_their_limit_last_month(db):
    with sqlite3.connect(db) as conn:
        exceeded = conn.execute(EXCEEDED_LAST_MONTH).fetchall()
        (active_in_june,) = conn.execute(
            "SELECT count(*) FROM data_usage WHERE month = '2026-06'"
        ).fetchone()

    assert 0.03 <= len(exceeded) / active_in_june <= 0.15


def test_demo_db_stores_the_reference_date(db):
    with sqlite3.connect(db) as conn:
        (value,) = conn.execute("SELECT value FROM meta WHERE key = 'reference_date'").fetchone()
        (latest,) = conn.execute("SELECT max(txn_date) FROM transactions").fetchone()

    assert value == REFERENCE_DATE.isoformat() == "2026-07-01"
    assert latest < value


def test_demo_db_has_nulls_worth_handling(db):
    with sqlite3.connect(db) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM customers WHERE email IS NULL),"
            " (SELECT count(*) FROM support_tickets WHERE closed_on IS NULL),"
            " (SELECT count(*) FROM plans WHERE data_limit_gb IS NULL)"
        ).fetchone()

    assert all(count > 0 for count in counts)


def test_demo_db_path_builds_once_into_the_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMA4_CACHE_DIR", str(tmp_path))

    first = demo_db_path()
    inode = first.stat().st_ino
    second = demo_db_path()

    assert first == second == tmp_path / f"demo-telecom-v{demo_db.GENERATOR_VERSION}.db"
    assert second.stat().st_ino == inode
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


def test_demo_db_cli_prints_where_it_wrote(db, tmp_path, capsys):
    out = tmp_path / "sub" / "cli.db"

    assert demo_db.main(["--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out.resolve())
    assert rows_checksum(out) == rows_checksum(db)


def test_demo_db_cli_names_an_unwritable_place(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")

    assert demo_db.main(["--out", str(blocker / "demo.db")]) == 1
    assert capsys.readouterr().err.startswith("Error: could not write the demo database: ")
