"""Format detection, messy-but-readable input, and every class of bad input with its message."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from ingest.errors import IngestError
from ingest.loading import detect_format, load_run, load_runs


def test_load_tau2_file(fixtures):
    run = load_run(fixtures / "handwritten_tau2_results.json")

    assert (run.benchmark, run.domain, run.agent_model, run.user_model) == (
        "tau2-bench",
        "airline",
        "agent-model-a",
        "user-model-x",
    )
    assert sorted(run.tasks) == ["t1", "t2", "t3"]
    assert len(run.simulations) == 12
    assert run.default_name == "agent-model-a · tau2-bench airline · user user-model-x"


def test_load_tau2_reads_numbers_given_as_strings(fixtures):
    run = load_run(fixtures / "handwritten_tau2_results.json")
    simulation = run.simulations[2]

    assert (simulation.trial, simulation.reward, simulation.duration, simulation.agent_cost) == (
        2,
        1.0,
        12.5,
        0.02,
    )
    assert run.simulations[5].reward == 1.0


def test_load_tau2_simulation_without_reward_info_is_unscored_not_zero(fixtures):
    run = load_run(fixtures / "handwritten_tau2_results.json")

    assert run.simulations[11].reward is None


def test_load_tau2_flattens_grouped_tool_results(fixtures):
    run = load_run(fixtures / "handwritten_tau2_results.json")
    roles = [(m.role, m.tool_call_id) for m in run.simulations[1].messages]

    assert roles == [
        ("user", None),
        ("assistant", None),
        ("tool", "a"),
        ("tool", "b"),
        ("assistant", None),
    ]


def test_load_tau2_directory(tau2_dir):
    run = load_run(tau2_dir)

    assert (run.benchmark, run.domain, len(run.tasks), len(run.simulations)) == (
        "tau2-bench",
        "airline",
        2,
        3,
    )
    assert sorted((s.task_id, s.trial, s.reward) for s in run.simulations) == [
        ("t1", 0, 1.0),
        ("t1", 1, 0.0),
        ("t2", 0, 1.0),
    ]


def test_load_tau2_directory_given_its_results_json(tau2_dir):
    assert len(load_run(tau2_dir / "results.json").simulations) == 3


def test_load_tau_bench_v1(fixtures):
    run = load_run(fixtures / "handwritten_tau_bench.json")

    assert (run.benchmark, run.domain, run.agent_model) == ("tau-bench", "retail", "unknown")
    assert [(s.task_id, s.trial, s.reward) for s in run.simulations] == [
        ("0", 0, 1.0),
        ("0", 1, 0.0),
        ("1", 0, 1.0),
        ("1", 1, 1.0),
    ]
    call = run.simulations[0].messages[2].tool_calls[0]
    assert (call.id, call.name, call.arguments) == (
        "call_x",
        "get_order_details",
        {"order_id": "#W100"},
    )
    assert run.tasks["0"].scenario == {
        "instruction": "Fixture instruction 0.",
        "user_id": "fixture_user_1",
    }


def test_detection_uses_content_not_file_name(fixtures, tmp_path):
    # A tau2 document compressed and named like a v1 file is still tau2.
    path = tmp_path / "gpt-4o-retail.json.gz"
    path.write_bytes(gzip.compress((fixtures / "handwritten_tau2_results.json").read_bytes()))
    # A v1 list with no .json suffix at all.
    other = tmp_path / "results.txt"
    shutil.copy(fixtures / "handwritten_tau_bench.json", other)

    assert load_run(path).benchmark == "tau2-bench"
    assert load_run(other).benchmark == "tau-bench"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ([{"task_id": 1, "reward": 1.0, "traj": []}], "tau-bench"),
        ({"info": {}, "tasks": [], "simulations": [{}]}, "tau2-bench"),
        ({"info": {}, "tasks": []}, None),
        ({"simulations": []}, None),
        ([1, 2, 3], None),
        ("text", None),
    ],
)
def test_detect_format(doc, expected):
    assert detect_format(doc) == expected


def test_v1_trials_missing_are_numbered_in_order(write_json):
    doc = [{"task_id": 3, "reward": 1}, {"task_id": 3, "reward": 0}, {"task_id": 4, "reward": 1}]

    run = load_run(write_json(doc, "v1.json"))

    assert [(s.task_id, s.trial) for s in run.simulations] == [("3", 0), ("3", 1), ("4", 0)]


def test_model_names_from_tau_bench_checkpoint_file_name(fixtures, tmp_path):
    name = "tool-calling-gpt-4o-0.0_range_0--1_user-gpt-4o-llm_0105093012.json"
    shutil.copy(fixtures / "handwritten_tau_bench.json", tmp_path / name)

    run = load_run(tmp_path / name)

    assert (run.agent_model, run.user_model) == ("gpt-4o", "gpt-4o")


def _set(doc, path, value):
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


DELETE = object()

BAD_TAU2 = [
    (
        ("simulations", 3, "reward_info", "reward"),
        DELETE,
        "simulations[3].reward_info.reward: missing",
    ),
    (
        ("simulations", 3, "reward_info", "reward"),
        "lots",
        "simulations[3].reward_info.reward: expected a number, got 'lots'",
    ),
    (
        ("simulations", 3, "reward_info", "reward"),
        1.5,
        "simulations[3].reward_info.reward: must be between 0 and 1, got 1.5",
    ),
    (("simulations", 3, "reward_info"), [1], "simulations[3].reward_info: expected an object"),
    (("simulations", 2, "trial"), "second", "simulations[2].trial: expected a number"),
    (
        ("simulations", 2, "trial"),
        1.5,
        "simulations[2].trial: must be a whole number from 0 to 999,999, got 1.5",
    ),
    (
        ("simulations", 4, "trial"),
        -5,
        "simulations[4].trial: must be a whole number from 0 to 999,999, got -5",
    ),
    (
        ("simulations", 4, "trial"),
        10**30,
        "simulations[4].trial: must be a whole number from 0 to 999,999, "
        "got 1000000000000000000000000000000",
    ),
    (("tasks", 2, "id"), "t1", "tasks[2].id: duplicate task id 't1' (also at tasks[0])"),
    (
        ("simulations", 2, "trial"),
        0,
        "simulations[2]: task t1 trial 0 appears twice (also at simulations[0])",
    ),
    (("simulations", 4, "task_id"), DELETE, "simulations[4].task_id: missing"),
    (
        ("simulations", 4, "task_id"),
        "t9",
        "simulations[4].task_id: task 't9' is not among the file's tasks",
    ),
    (("simulations", 4, "duration"), "slow", "simulations[4].duration: expected a number"),
    (("simulations", 4, "messages"), "hello", "simulations[4].messages: expected a list"),
    (("simulations", 0, "messages", 2, "role"), DELETE, "simulations[0].messages[2].role: missing"),
    (
        ("simulations", 0, "messages", 2, "tool_calls", 0, "name"),
        DELETE,
        "simulations[0].messages[2].tool_calls[0].name: missing",
    ),
    (("simulations", 6), "sim", "simulations[6]: expected an object, got 'sim'"),
    (("tasks", 1, "id"), DELETE, "tasks[1].id: missing"),
    (("info",), "none", "info: expected an object"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_TAU2)
def test_bad_tau2_field_names_file_and_place(tau2_doc, write_json, path, value, message):
    _set(tau2_doc, path, value)
    target = write_json(tau2_doc, "bad.json")

    with pytest.raises(IngestError) as raised:
        load_run(target)

    assert str(raised.value).startswith(f"{target}: {message}")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([{"task_id": 0, "trial": 0}], "[0].reward: missing"),
        ([{"task_id": 0, "reward": "x"}], "[0].reward: expected a number, got 'x'"),
        (
            [{"task_id": 0, "reward": 1}, {"task_id": [0], "reward": 1}],
            "[1].task_id: expected an id",
        ),
        ([{"task_id": 0, "reward": 1, "traj": [{"content": "hi"}]}], "[0].traj[0].role: missing"),
    ],
)
def test_bad_tau_bench_entry_names_place(write_json, doc, message):
    target = write_json(doc, "v1.json")

    with pytest.raises(IngestError) as raised:
        load_run(target)

    assert str(raised.value).startswith(f"{target}: {message}")


def test_v1_null_reward_is_reported_not_an_error(write_json):
    run = load_run(write_json([{"task_id": 0, "reward": None}, {"task_id": 0, "reward": 1}]))

    assert [s.reward for s in run.simulations] == [None, 1.0]


def test_truncated_json_gives_line_and_column(fixtures, tmp_path):
    text = (fixtures / "handwritten_tau2_results.json").read_text()
    path = tmp_path / "cut.json"
    path.write_text(text[:2000])
    line = text[:2000].count("\n") + 1

    with pytest.raises(IngestError) as raised:
        load_run(path)

    assert f"{path}: line {line}, column " in str(raised.value)
    assert "truncated JSON" in str(raised.value)


def test_malformed_json_gives_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "info": {},\n  "tasks": [1 2]\n}\n')

    with pytest.raises(IngestError) as raised:
        load_run(path)

    assert str(raised.value) == (
        f"{path}: line 3, column 15: malformed JSON (Expecting ',' delimiter)"
    )


def test_truncated_gzip(fixtures, tmp_path):
    data = gzip.compress((fixtures / "handwritten_tau2_results.json").read_bytes())
    path = tmp_path / "cut.json.gz"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(IngestError, match="broken or truncated gzip data"):
        load_run(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "an empty list, so no simulations to ingest"),
        ('{"rows": []}', "not a tau-bench or tau2-bench results file"),
        ('{"info": {}, "tasks": [], "simulations": []}', "holds no simulations to ingest"),
    ],
)
def test_not_a_results_file(tmp_path, content, message):
    path = tmp_path / "other.json"
    path.write_text(content)

    with pytest.raises(IngestError) as raised:
        load_run(path)

    assert str(raised.value).startswith(f"{path}: {message}")


def test_missing_path_and_directory_without_results(tmp_path):
    with pytest.raises(IngestError, match="no such file or directory"):
        load_run(tmp_path / "nope.json")
    with pytest.raises(IngestError, match="holding results.json and simulations"):
        load_run(tmp_path)


def test_bad_simulation_file_in_directory_is_named(tau2_dir):
    sim_path = tau2_dir / "simulations" / "sim-01.json"
    sim = json.loads(sim_path.read_text())
    del sim["reward_info"]["reward"]
    sim_path.write_text(json.dumps(sim))

    with pytest.raises(IngestError) as raised:
        load_run(tau2_dir)

    assert str(raised.value) == f"{sim_path}: reward_info.reward: missing"


def test_load_runs_reports_first_error_and_counts_the_rest(fixtures, tmp_path):
    bad_a = tmp_path / "a.json"
    bad_b = tmp_path / "b.json"
    bad_a.write_text("[")
    bad_b.write_text("{}")

    with pytest.raises(IngestError) as raised:
        load_runs([fixtures / "handwritten_tau_bench.json", bad_a, bad_b])

    assert str(raised.value).startswith(f"{bad_a}: line 1, column 2: truncated JSON")
    assert str(raised.value).endswith("(1 more input also bad)")
