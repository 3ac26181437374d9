import pytest

from evals import scorers
from evals.scorers import (
    answer_quality,
    efficiency_metrics,
    execution_accuracy,
    gold_result,
    score_run,
    soft_f1,
    valid_sql,
)
from evals.tasks import load_tasks
from sema4_agent.demo_db import build_demo_db
from sema4_agent.run import AgentError, AgentRun, Step, Usage
from sema4_agent.sql_exec import execute_readonly

TASKS = {task.id: task for task in load_tasks()}
COLUMNS_DIFFER = "column values differ: some gold column has no candidate column with its values"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_demo_db(tmp_path_factory.mktemp("scorers") / "demo.db")


def ex(candidate, gold, **kwargs):
    score = execution_accuracy(candidate, gold, **kwargs)
    return score.score, score.metadata["reason"]


@pytest.mark.parametrize("task_id", list(TASKS))
def test_gold_sql_as_the_candidate_scores_one(task_id, db):
    task = TASKS[task_id]
    _, gold = gold_result(task, db)
    _, candidate = execute_readonly(db, task.gold_sql)

    assert execution_accuracy(candidate, gold, ordered=task.ordered).score == 1
    assert soft_f1(candidate, gold, ordered=task.ordered).score == 1


# Plausible wrong answers a model writes, each with the reason EX must give.
WRONG_CANDIDATES = [
    (
        "exceeded_data_limit_last_month",  # missing filter: every month, not last month
        "SELECT c.id, c.name, u.data_gb FROM data_usage u JOIN customers c ON c.id = u.customer_id"
        " JOIN plans p ON p.id = c.plan_id WHERE u.data_gb > p.data_limit_gb",
        "candidate returned 280 rows; gold has 27 rows",
    ),
    (
        "charges_by_plan_last_month",  # wrong join: plan id matched against customer id
        "SELECT p.name, sum(t.amount) AS total FROM transactions t JOIN plans p"
        " ON p.id = t.customer_id WHERE t.type = 'charge' AND t.txn_date BETWEEN '2026-06-01'"
        " AND '2026-06-30' GROUP BY p.id ORDER BY total DESC",
        "candidate returned 8 rows; gold has 7 rows",
    ),
    (
        "avg_usage_by_region_last_month",  # wrong join: usage joined on the plan id
        "SELECT c.region, round(avg(u.data_gb), 2) FROM data_usage u JOIN customers c"
        " ON c.plan_id = u.customer_id WHERE u.month = '2026-06' GROUP BY c.region",
        COLUMNS_DIFFER,
    ),
    (
        "tickets_past_30_days",  # off by one: 31 days
        "SELECT count(*) FROM support_tickets WHERE opened_on >= '2026-05-31'",
        COLUMNS_DIFFER,
    ),
    (
        "overage_fees_last_month",  # off by one: the month's last day excluded
        "SELECT round(sum(amount), 2) FROM transactions WHERE type = 'charge'"
        " AND description LIKE 'Data overage%' AND txn_date >= '2026-06-01'"
        " AND txn_date < '2026-06-30'",
        COLUMNS_DIFFER,
    ),
    (
        "most_tickets_all_ties",  # ties dropped by LIMIT 1
        "SELECT c.id, c.name, count(*) AS n FROM support_tickets s JOIN customers c"
        " ON c.id = s.customer_id GROUP BY c.id ORDER BY n DESC LIMIT 1",
        "candidate returned 1 row; gold has 9 rows",
    ),
    (
        "top5_payers_with_ties",  # ties dropped by LIMIT 5
        "SELECT c.id, c.name, sum(t.amount) AS total FROM transactions t JOIN customers c"
        " ON c.id = t.customer_id WHERE t.type = 'payment' GROUP BY c.id"
        " ORDER BY total DESC, c.id LIMIT 5",
        "candidate returned 5 rows; gold has 17 rows",
    ),
    (
        "churn_rate_by_plan",  # right rows, asked order reversed
        "SELECT p.name, round(100.0 * sum(c.status = 'cancelled') / count(*), 1) AS pct"
        " FROM plans p JOIN customers c ON c.plan_id = p.id GROUP BY p.id ORDER BY pct, p.name",
        "right rows in the wrong order",
    ),
    (
        "unlimited_plans",  # NULL compared with = finds nothing
        "SELECT name FROM plans WHERE data_limit_gb = NULL",
        "candidate returned no rows; gold has 1 row",
    ),
]


@pytest.mark.parametrize(("task_id", "sql", "reason"), WRONG_CANDIDATES)
def test_wrong_candidates_score_zero_with_a_reason(task_id, sql, reason, db):
    task = TASKS[task_id]
    _, gold = gold_result(task, db)
    _, candidate = execute_readonly(db, sql)

    assert ex(candidate, gold, ordered=task.ordered) == (0, reason)


@pytest.mark.parametrize(
    ("candidate", "gold", "ordered", "expected"),
    [
        ([[None]], [[None]], False, (1, "rows match (1 row)")),
        (
            [[None]],
            [[0]],
            False,
            (0, COLUMNS_DIFFER),
        ),
        ([[0.1 + 0.2]], [[0.3]], False, (1, "rows match (1 row)")),
        ([[2]], [[2.0]], False, (1, "rows match (1 row)")),
        ([[1.0000001]], [[1]], False, (1, "rows match (1 row)")),
        (
            [[1.00001]],
            [[1]],
            False,
            (0, COLUMNS_DIFFER),
        ),
        (
            [["1"]],
            [[1]],
            False,
            (0, COLUMNS_DIFFER),
        ),
        ([[1], [1]], [[1]], False, (0, "candidate returned 2 rows; gold has 1 row")),
        (
            [[1], [1], [2]],
            [[1], [2], [2]],
            False,
            (0, COLUMNS_DIFFER),
        ),
        ([[1], [1], [2]], [[2], [1], [1]], False, (1, "rows match (3 rows)")),
        ([["a", 1], ["b", 2]], [[1, "a"], [2, "b"]], False, (1, "rows match (2 rows)")),
        (
            [[2, 1], [3, 4]],
            [[1, 2], [3, 4]],
            False,
            (0, COLUMNS_DIFFER),
        ),
        (
            [[1, 4], [3, 2]],
            [[1, 2], [3, 4]],
            False,
            (0, "rows differ, e.g. gold row [1, 2] not returned"),
        ),
        ([], [], False, (1, "rows match (0 rows)")),
        ([], [[1]], False, (0, "candidate returned no rows; gold has 1 row")),
        ([[1]], [], False, (0, "candidate returned 1 row; gold returned none")),
        ([[1, "a", 5]], [[1, "a"]], False, (0, "candidate has 3 columns; gold has 2")),
        ([[2], [1]], [[1], [2]], False, (1, "rows match (2 rows)")),
        ([[2], [1]], [[1], [2]], True, (0, "right rows in the wrong order")),
        ([[1], [2]], [[1], [2]], True, (1, "rows match (2 rows)")),
        ([["x", 1], ["y", 1]], [[1, "x"], [1, "y"]], True, (1, "rows match (2 rows)")),
    ],
)
def test_execution_accuracy_edge_cases(candidate, gold, ordered, expected):
    assert ex(candidate, gold, ordered=ordered) == expected


def test_execution_accuracy_scores_a_failed_candidate_zero():
    failure = AgentError("sql_error", "no such column: foo")

    assert ex([[1]], [[1]], candidate_error=failure) == (
        0,
        "candidate failed: sql_error: no such column: foo",
    )


@pytest.mark.parametrize(
    ("candidate", "gold", "ordered", "expected"),
    [
        ([[1, "a"], [2, "b"]], [[1, "a"], [2, "b"]], False, 1.0),
        ([], [], False, 1.0),
        ([], [[1], [2]], False, 0.0),
        ([[9]], [[1]], False, 0.0),
        # (1, a) exact; (2, x) pairs with (2, b): tp 1.5, fp 0.5, fn 0.5 -> P = R = 0.75
        ([[1, "a"], [2, "x"]], [[1, "a"], [2, "b"]], False, 0.75),
        # half the gold rows: P = 1, R = 0.5
        ([[1], [2]], [[1], [2], [3], [4]], False, 2 / 3),
        # one extra row: tp 2, fp 1 -> P = 2/3, R = 1
        ([[1], [2], [3]], [[1], [2]], False, 0.8),
        # an extra column: tp 1, fp 0.5 -> P = 2/3, R = 1
        ([[1, "a", 9]], [[1, "a"]], False, 0.8),
        # a duplicate row: tp 1, fp 1 -> P = 0.5, R = 1
        ([[1], [1]], [[1]], False, 2 / 3),
        ([[2], [1]], [[1], [2]], False, 1.0),
        ([[2], [1]], [[1], [2]], True, 0.0),
        # ordered, second row half right: tp 1.5, fp 0.5, fn 0.5
        ([[1, "a"], [2, "x"]], [[1, "a"], [2, "b"]], True, 0.75),
    ],
)
def test_soft_f1_hand_computed(candidate, gold, ordered, expected):
    assert soft_f1(candidate, gold, ordered=ordered).score == pytest.approx(expected)


def test_soft_f1_scores_a_failed_candidate_zero():
    assert soft_f1([[1]], [[1]], candidate_error="sql_error: boom").score == 0


@pytest.mark.parametrize(
    ("sql", "error", "expected"),
    [
        ("SELECT 1", None, 1),
        (None, None, 0),
        ("  ", None, 0),
        ("SELECT nope", AgentError("sql_error", "no such column: nope"), 0),
        ("SELECT 1", AgentError("max_turns", "ran out of turns"), 1),
        ("SELECT nope", "sql_error: no such column: nope", 0),
        (None, AgentError("no_answer_sql", "answer.sql was never written"), 0),
    ],
)
def test_valid_sql(sql, error, expected):
    assert valid_sql(sql, error).score == expected


def make_run(**fields):
    return AgentRun(
        question="How many customers are currently active?",
        sql="SELECT count(*) FROM customers WHERE status = 'active'",
        columns=["count(*)"],
        rows=[[422]],
        num_turns=4,
        steps=[Step("write_file", {}, "ok", False), Step("bash_exec", {}, "422", False)],
        usage=Usage(input_tokens=100, output_tokens=50, cache_read_input_tokens=1000),
        cost_usd=0.012,
        duration_s=7.5,
        **fields,
    )


def test_score_run_scores_the_rows_the_harness_executed(db):
    _, gold = gold_result(TASKS["active_customers"], db)

    scores = score_run(make_run(), gold)

    assert [(s.name, s.score) for s in scores] == [
        ("execution_accuracy", 1),
        ("soft_f1", 1.0),
        ("valid_sql", 1),
    ]


def test_score_run_gives_zero_when_the_sql_failed():
    run = make_run(error=AgentError("sql_error", "no such table: customer"))

    scores = score_run(run, [[422]])

    assert [(s.name, s.score) for s in scores] == [
        ("execution_accuracy", 0),
        ("soft_f1", 0),
        ("valid_sql", 0),
    ]
    assert scores[0].metadata["reason"] == (
        "candidate failed: SQL did not execute: sql_error: no such table: customer"
    )


def test_efficiency_metrics():
    assert efficiency_metrics(make_run()) == {
        "turns": 4.0,
        "tool_calls": 2.0,
        "prompt_tokens": 1100.0,
        "completion_tokens": 50.0,
        "tokens": 1150.0,
        "duration_s": 7.5,
        "cost_usd": 0.012,
    }


def test_answer_quality_is_absent_without_an_openai_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    assert answer_quality("How many?", "422", ["count(*)"], [[422]]) is None


def test_gold_result_is_cached_per_query_and_database(db):
    task = TASKS["active_customers"]

    first = gold_result(task, db)
    hits = scorers._gold_result.cache_info().hits
    second = gold_result(task, db)

    assert first == second == (["count(*)"], [[422]])
    assert (first.columns, first.rows) == (["count(*)"], [[422]])
    assert scorers._gold_result.cache_info().hits == hits + 1
