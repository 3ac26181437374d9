import json
from collections import Counter

import pytest

from evals.tasks import TASKS_PATH, SqlTask, TaskFileError, load_tasks
from sema4_agent.demo_db import build_demo_db
from sema4_agent.sql_exec import execute_readonly

TASKS = load_tasks()


@pytest.fixture(scope="module")
def dbs(tmp_path_factory):
    """Two independent builds, so a gold answer that differs between builds shows up."""
    root = tmp_path_factory.mktemp("tasks")
    return build_demo_db(root / "a.db"), build_demo_db(root / "b.db")


def test_tasks_file_has_enough_tasks_of_every_difficulty():
    difficulties = Counter(task.difficulty for task in TASKS)

    assert len(TASKS) >= 24
    assert all(difficulties[level] >= 6 for level in ("simple", "moderate", "challenging"))


def test_tasks_file_asks_the_data_limit_question():
    questions = [task.question for task in TASKS]

    assert any(
        q.startswith("Which customers exceeded their plan's data limit last month?")
        for q in questions
    )


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.id)
def test_gold_query_returns_its_rows_deterministically(task, dbs):
    first, second = (execute_readonly(db, task.gold_sql) for db in dbs)

    assert first == second
    assert execute_readonly(dbs[0], task.gold_sql) == first
    columns, rows = first
    assert (rows == []) is task.expect_empty
    assert "now" not in task.gold_sql.lower()


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.id)
def test_ordered_tasks_say_so_and_sort(task):
    asks_for_order = "ordered by" in task.question
    sorts = "ORDER BY" in task.gold_sql.upper()

    assert task.ordered is asks_for_order
    assert not task.ordered or sorts


def test_load_tasks_reads_every_field(tmp_path):
    path = tmp_path / "t.jsonl"
    line = {
        "id": "x",
        "question": "How many?",
        "gold_sql": "SELECT 1",
        "difficulty": "simple",
        "evidence": "",
        "ordered": True,
    }
    path.write_text("\n" + json.dumps(line) + "\n")

    assert load_tasks(path) == [
        SqlTask(
            id="x",
            question="How many?",
            gold_sql="SELECT 1",
            difficulty="simple",
            evidence="",
            ordered=True,
        )
    ]


GOOD = '{"id": "a", "question": "Q?", "gold_sql": "SELECT 1", "difficulty": "simple", '
GOOD += '"evidence": ""}'


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", ":2: not valid JSON"),
        ("[1, 2]", ":2: expected a JSON object"),
        ('{"id": "b", "question": "Q?"}', ":2: missing field(s): gold_sql, difficulty, evidence"),
        (GOOD.replace('"a"', '"b"').replace('"simple"', '"easy"'), ":2: difficulty must be one"),
        (GOOD.replace('"a"', '"b"').replace('"Q?"', '""'), ":2: question must be a non-empty"),
        (GOOD.replace('"evidence": ""', '"hint": ""'), ":2: missing field(s): evidence"),
        (GOOD.replace("}", ', "sorted": true}'), ":2: unknown field(s): sorted"),
        (GOOD.replace("}", ', "ordered": "yes"}'), ":2: ordered must be true or false"),
        (GOOD, ":2: duplicate task id 'a'"),
    ],
)
def test_load_tasks_names_the_bad_line(tmp_path, bad_line, message):
    path = tmp_path / "t.jsonl"
    path.write_text(GOOD + "\n" + bad_line + "\n")

    with pytest.raises(TaskFileError) as excinfo:
        load_tasks(path)

    assert str(excinfo.value).startswith(f"{path}{message}")


def test_load_tasks_defaults_to_the_bundled_file():
    assert TASKS_PATH.name == "sql_tasks.jsonl"
    assert load_tasks(TASKS_PATH) == TASKS
