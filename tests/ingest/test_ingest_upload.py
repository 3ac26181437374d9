"""What reaches Braintrust, checked offline with the SDK's memory logger."""

from __future__ import annotations

import pytest

from ingest import upload as upload_module
from ingest.loading import load_run
from ingest.summary import summarize
from ingest.upload import upload


def _upload_fixture(fixtures, backend, name="run a"):
    run = load_run(fixtures / "handwritten_tau2_results.json")
    return upload([summarize(run, name)], project="proj", **backend)


def _experiment_rows(rows):
    return [row for row in rows if "experiment_id" in row]


def _dataset_rows(rows):
    return [row for row in rows if "dataset_id" in row]


def test_dataset_has_one_row_per_task_with_stable_ids(fixtures, memory_braintrust):
    bgl, backend = memory_braintrust
    _upload_fixture(fixtures, backend)

    rows = sorted(_dataset_rows(bgl.pop()), key=lambda row: row["id"])

    assert [row["id"] for row in rows] == [
        "tau2-bench/airline/task/t1",
        "tau2-bench/airline/task/t2",
        "tau2-bench/airline/task/t3",
    ]
    assert {row["dataset_id"] for row in rows} == {"dataset:tau2-bench airline tasks"}
    assert rows[0]["input"]["instructions"]["reason_for_call"] == "Fixture reason for t1."
    assert rows[0]["expected"]["nl_assertions"] == ["Agent cancels the reservation."]


def test_experiment_row_fields(fixtures, memory_braintrust):
    bgl, backend = memory_braintrust
    uploaded = _upload_fixture(fixtures, backend)

    rows = {row["id"]: row for row in _experiment_rows(bgl.pop())}
    root = rows["task/t1/trial/0"]

    assert uploaded[0].rows == 12
    assert uploaded[0].url == (
        "https://www.braintrust.dev/app/test-org-name/p/proj/experiments/run%20a"
    )
    assert root["experiment_id"] == "run a"
    assert root["span_attributes"]["type"] == "eval"
    assert root["scores"] == pytest.approx(
        {"reward": 1.0, "pass^1": 0.5, "pass^2": 1 / 6, "pass^3": 0.0, "pass^4": 0.0}
    )
    assert root["output"] == {
        "termination_reason": "user_stop",
        "last_agent_message": "Your reservation ABC123 is cancelled.",
    }
    assert root["input"]["instructions"]["known_info"] == "You are Fixture User."
    assert root["expected"]["actions"][0]["name"] == "cancel_reservation"
    assert root["origin"] == {
        "object_type": "dataset",
        "object_id": "dataset:tau2-bench airline tasks",
        "id": "tau2-bench/airline/task/t1",
    }
    metadata = root["metadata"]
    assert (metadata["domain"], metadata["task_id"], metadata["trial"]) == ("airline", "t1", 0)
    assert (metadata["agent_model"], metadata["user_model"]) == ("agent-model-a", "user-model-x")
    assert (metadata["termination_reason"], metadata["agent_cost"], metadata["user_cost"]) == (
        "user_stop",
        0.01,
        0.002,
    )
    assert root["metrics"]["duration"] == 30.0
    assert root["metrics"]["cost"] == 0.01
    # The row spans the simulation's own 30 s, taken from the file.
    assert root["metrics"]["end"] - root["metrics"]["start"] == pytest.approx(30.0)


def test_unscored_simulation_has_no_reward_score(fixtures, memory_braintrust):
    bgl, backend = memory_braintrust
    _upload_fixture(fixtures, backend)

    rows = {row["id"]: row for row in _experiment_rows(bgl.pop())}

    assert "reward" not in rows["task/t3/trial/3"]["scores"]
    assert rows["task/t3/trial/3"]["scores"]["pass^1"] == pytest.approx(1 / 3)
    assert rows["task/t3/trial/2"]["scores"]["reward"] == 0.0


def test_span_tree_of_one_simulation(fixtures, memory_braintrust):
    bgl, backend = memory_braintrust
    _upload_fixture(fixtures, backend)

    rows = _experiment_rows(bgl.pop())
    root = next(row for row in rows if row["id"] == "task/t1/trial/0")
    children = sorted(
        (row for row in rows if row["id"].startswith("task/t1/trial/0/turn/")),
        key=lambda row: int(row["id"].rsplit("/", 1)[1]),
    )

    assert [(c["span_attributes"]["type"], c["span_attributes"]["name"]) for c in children] == [
        ("task", "user"),
        ("llm", "assistant"),
        ("tool", "get_reservation_details"),
        ("llm", "assistant"),
        ("task", "user"),
        ("tool", "check_status_bar"),
        ("llm", "assistant"),
        ("task", "user"),
    ]
    assert all(c["span_parents"] == [root["span_id"]] for c in children)
    assert all(c["root_span_id"] == root["root_span_id"] for c in children)
    # Turns follow each other inside the row's 30 s, in conversation order.
    starts = [c["metrics"]["start"] for c in children]
    assert starts == sorted(starts)
    assert root["metrics"]["start"] <= starts[0]
    assert children[-1]["metrics"]["end"] == pytest.approx(root["metrics"]["end"])

    first_llm, tool = children[1], children[2]
    assert first_llm["input"] == [
        {"role": "system", "content": "# Airline Agent Policy\nFixture policy text."},
        {"role": "user", "content": "Hi, I want to cancel reservation ABC123."},
    ]
    assert first_llm["output"]["tool_calls"] == [
        {
            "id": "call_1",
            "name": "get_reservation_details",
            "arguments": {"reservation_id": "ABC123"},
        }
    ]
    assert first_llm["metadata"] == {"model": "agent-model-a"}
    assert first_llm["metrics"]["prompt_tokens"] == 120
    assert first_llm["metrics"]["estimated_cost"] == 0.002
    assert tool["input"] == {"reservation_id": "ABC123"}
    assert tool["output"] == '{"reservation_id": "ABC123", "status": "booked"}'
    assert tool["metadata"] == {"requestor": "assistant", "tool_call_id": "call_1"}
    assert children[0]["output"] == "Hi, I want to cancel reservation ABC123."
    assert children[5]["output"] == "Airplane mode: off"
    assert children[5]["metadata"]["requestor"] == "user"


def test_reingest_writes_the_same_rows_again(fixtures, memory_braintrust):
    # Braintrust upserts by (object, id): the same ids twice leave one copy of each.
    bgl, backend = memory_braintrust
    _upload_fixture(fixtures, backend)
    first = bgl.pop()
    _upload_fixture(fixtures, backend)
    second = bgl.pop()

    def keys(rows):
        return sorted(
            (row.get("experiment_id") or row.get("dataset_id"), row["id"]) for row in rows
        )

    assert keys(first) == keys(second)
    assert len(keys(first)) == len(set(keys(first)))
    assert len(_experiment_rows(second)) == 12 + sum(len(s) for s in _turn_counts(fixtures))


def _turn_counts(fixtures):
    from ingest.conversation import conversation_spans

    run = load_run(fixtures / "handwritten_tau2_results.json")
    return [
        conversation_spans(s.messages, agent_model="a", user_model="u") for s in run.simulations
    ]


def test_open_experiment_reopens_by_name(monkeypatch):
    calls = []

    def fake_init(**kwargs):
        calls.append(kwargs)
        return "experiment"

    class Dataset:
        id = "ds-1"

    monkeypatch.setattr("braintrust.init", fake_init)

    assert upload_module.open_experiment("proj", "gpt-4o · airline", Dataset()) == "experiment"
    assert calls == [
        {
            "project": "proj",
            "experiment": "gpt-4o · airline",
            "update": True,
            "dataset": {"id": "ds-1"},
            "set_current": False,
        }
    ]
