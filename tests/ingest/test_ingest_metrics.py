"""pass^k / pass@k per task and per experiment, against hand-computed values."""

from __future__ import annotations

import pytest

from ingest.loading import load_run
from ingest.model import Simulation
from ingest.summary import compare_tasks, score_task, summarize


def _sims(rewards):
    return [
        Simulation(task_id="x", trial=i, reward=r, place=f"[{i}]") for i, r in enumerate(rewards)
    ]


@pytest.mark.parametrize(
    ("rewards", "pass_hat", "pass_at"),
    [
        # n = 4, c = 2: C(2,k)/C(4,k) and 1 - C(2,k)/C(4,k)
        ([1, 0, 1, 0], {1: 0.5, 2: 1 / 6, 3: 0.0, 4: 0.0}, {1: 0.5, 2: 5 / 6, 3: 1.0, 4: 1.0}),
        ([1, 1, 1], {1: 1.0, 2: 1.0, 3: 1.0}, {1: 1.0, 2: 1.0, 3: 1.0}),
        ([0, 0], {1: 0.0, 2: 0.0}, {1: 0.0, 2: 0.0}),
        # tau-bench's success rule: reward >= 1 - 1e-6; partial rewards are failures.
        ([0.9999999, 0.5, 0.99], {1: 1 / 3, 2: 0.0, 3: 0.0}, {1: 1 / 3, 2: 2 / 3, 3: 1.0}),
        # an unscored trial is left out: n = 3, c = 1
        ([0, 1, 0, None], {1: 1 / 3, 2: 0.0, 3: 0.0}, {1: 1 / 3, 2: 2 / 3, 3: 1.0}),
    ],
)
def test_score_task_pass_k(rewards, pass_hat, pass_at):
    score = score_task("x", _sims(rewards))

    assert score.pass_hat_k == pytest.approx(pass_hat)
    assert score.pass_at_k == pytest.approx(pass_at)


def test_score_task_without_any_reward_has_no_pass_k():
    score = score_task("x", _sims([None, None]))

    assert (score.n, score.c, score.pass_hat_k, score.mean_reward) == (0, 0, {}, None)


def test_summarize_tau2_fixture_hand_computed(fixtures):
    # t1: 1,0,1,0 (n4 c2); t2: 1,1,1,1; t3: 0,1,0 and one unscored (n3 c1).
    summary = summarize(load_run(fixtures / "handwritten_tau2_results.json"), "a")

    assert summary.avg_reward == pytest.approx((0.5 + 1 + 1 / 3) / 3)
    assert summary.pass_hat_k == pytest.approx(
        {1: (0.5 + 1 + 1 / 3) / 3, 2: (1 / 6 + 1 + 0) / 3, 3: (0 + 1 + 0) / 3, 4: (0 + 1) / 2}
    )
    assert summary.pass_at_k == pytest.approx(
        {1: (0.5 + 1 + 1 / 3) / 3, 2: (5 / 6 + 1 + 2 / 3) / 3, 3: 1.0, 4: 1.0}
    )
    assert summary.tasks_per_k == {1: 3, 2: 3, 3: 3, 4: 2}
    assert summary.tasks_without_reward == ["t3"]
    assert summary.simulations_without_reward == 1
    assert (summary.num_simulations, summary.num_trials, len(summary.tasks)) == (12, 4, 3)
    assert summary.mean_agent_cost == pytest.approx((0.01 * 11 + 0.02) / 12)
    assert summary.mean_duration == pytest.approx((30 * 11 + 12.5) / 12)
    assert summary.termination_reasons == {
        "user_stop": 9,
        "max_steps": 1,
        "too_many_errors": 1,
        "infrastructure_error": 1,
    }


def test_compare_tasks_orders_by_change(fixtures):
    a = summarize(load_run(fixtures / "handwritten_tau2_results.json"), "a")
    b = summarize(load_run(fixtures / "handwritten_tau2_results_b.json"), "b")

    regressed, improved = compare_tasks(a, b)

    assert [(c.task_id, c.before, c.after) for c in regressed] == [
        ("t1", 0.5, 0.0),
        ("t2", 1.0, 0.75),
    ]
    assert [(c.task_id, round(c.before, 4), c.after) for c in improved] == [("t3", 0.3333, 1.0)]
