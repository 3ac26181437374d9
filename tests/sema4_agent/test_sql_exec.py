import sqlite3

import pytest

from sema4_agent.sql_exec import SqlExecError, execute_readonly


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
        conn.executemany(
            "INSERT INTO t VALUES (?, ?, ?)", [(1, "a", 1.5), (2, "b", None), (3, "c", 2.0)]
        )
    conn.close()
    return path


def test_execute_readonly_returns_columns_and_rows(db):
    columns, rows = execute_readonly(db, "SELECT name, score FROM t ORDER BY id;  -- done\n")

    assert columns == ["name", "score"]
    assert rows == [["a", 1.5], ["b", None], ["c", 2.0]]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM t", "not authorized: only queries that read are allowed"),
        ("PRAGMA user_version = 3", "not authorized: only queries that read are allowed"),
        (
            "SELECT load_extension('x')",
            "not authorized to use function: load_extension: only queries that read are allowed",
        ),
        ("SELECT nope FROM t", "no such column: nope"),
        ("SELECT 1; SELECT 2", "You can only execute one statement at a time."),
        ("-- just a comment", "the SQL holds no query that returns rows"),
        ("", "the SQL holds no query that returns rows"),
    ],
)
def test_execute_readonly_refuses(db, sql, message):
    with pytest.raises(SqlExecError) as excinfo:
        execute_readonly(db, sql)

    assert str(excinfo.value) == message


def test_execute_readonly_leaves_the_file_untouched(db):
    with pytest.raises(SqlExecError):
        execute_readonly(db, "DROP TABLE t")

    assert execute_readonly(db, "SELECT count(*) FROM t") == (["count(*)"], [[3]])


def test_execute_readonly_caps_rows(db):
    assert len(execute_readonly(db, "SELECT * FROM t", max_rows=3)[1]) == 3

    with pytest.raises(SqlExecError, match="more than 2 rows"):
        execute_readonly(db, "SELECT * FROM t", max_rows=2)


def test_execute_readonly_stops_a_runaway_query(db):
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"

    with pytest.raises(SqlExecError, match="longer than 0.05 s"):
        execute_readonly(db, endless, timeout_s=0.05)


def test_execute_readonly_names_a_missing_file(tmp_path):
    with pytest.raises(SqlExecError, match="database not found"):
        execute_readonly(tmp_path / "absent.db", "SELECT 1")


@pytest.mark.parametrize(
    "sql",
    [
        "VACUUM INTO '{outside}'",
        "ATTACH DATABASE '{outside}' AS other",
        "ATTACH DATABASE 'file:{outside}?mode=rwc' AS other",
    ],
)
def test_execute_readonly_creates_no_file_elsewhere(db, tmp_path, sql):
    outside = tmp_path / "elsewhere" / "copy.db"
    outside.parent.mkdir()

    with pytest.raises(SqlExecError, match="only queries that read are allowed"):
        execute_readonly(db, sql.format(outside=outside))

    assert list(outside.parent.iterdir()) == []


def test_execute_readonly_caps_the_bytes_it_holds(db):
    with pytest.raises(SqlExecError, match="more than 1 MiB of text and blobs"):
        execute_readonly(db, "SELECT zeroblob(400000) FROM t", max_bytes=1024 * 1024)

    with pytest.raises(SqlExecError, match="string or blob too big"):
        execute_readonly(db, "SELECT zeroblob(2000000)", max_bytes=1024 * 1024)

    assert (
        len(execute_readonly(db, "SELECT zeroblob(300000) FROM t", max_bytes=1024 * 1024)[1]) == 3
    )
