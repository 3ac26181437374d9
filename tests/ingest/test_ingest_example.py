"""The real tau-bench file we ship in example-traces/, ingested as README's Act 1 does."""

from __future__ import annotations

import json

import pytest

from ingest.cli import main
from ingest.loading import load_run
from ingest.summary import summarize


def test_example_file_known_figures(example_file):
    run = load_run(example_file)
    summary = summarize(run, run.default_name)

    assert (run.benchmark, run.domain, run.agent_model) == ("tau-bench", "airline", "gpt-4o")
    assert (len(summary.tasks), summary.num_simulations, summary.num_trials) == (50, 200, 4)
    assert summary.trial_counts == {4: 50}
    assert summary.tasks_without_reward == []
    # Computed from the file's 200 rewards: 84 successes; 10 tasks solved on all 4 trials, 14 never.
    assert summary.pass_hat_k[1] == pytest.approx(0.42)
    assert summary.pass_hat_k[4] == pytest.approx(0.20)
    assert summary.pass_at_k[4] == pytest.approx(0.72)


def test_example_file_json_dry_run(example_file, monkeypatch, capsys):
    monkeypatch.delenv("BRAINTRUST_API_KEY", raising=False)

    code = main([str(example_file), "--json"])

    experiment = json.loads(capsys.readouterr().out)["experiments"][0]
    assert code == 0
    assert experiment["name"] == "gpt-4o · tau-bench airline"
    assert (experiment["num_tasks"], experiment["num_simulations"]) == (50, 200)
    assert experiment["pass_hat_k"]["1"] == pytest.approx(0.42)


def test_example_file_keeps_one_copy_of_the_policy(example_file):
    # Each of the 200 trajectories repeats the airline policy as its system message.
    run = load_run(example_file)
    system = [m.content for s in run.simulations for m in s.messages if m.role == "system"]

    assert len(system) == 200
    assert len({id(text) for text in system}) == 1
