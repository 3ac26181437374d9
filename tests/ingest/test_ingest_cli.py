"""The command: exit codes, messages, --json shape, dry run, upload, all-or-nothing."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest import reading
from ingest.cli import main

JSON_KEYS = {
    "name",
    "model",
    "user_model",
    "domain",
    "num_tasks",
    "num_simulations",
    "num_trials",
    "avg_reward",
    "pass_hat_k",
    "pass_at_k",
    "tasks_without_reward",
}


@pytest.fixture
def no_key(monkeypatch):
    monkeypatch.delenv("BRAINTRUST_API_KEY", raising=False)
    monkeypatch.delenv("BRAINTRUST_PROJECT", raising=False)


@pytest.fixture
def with_key(monkeypatch):
    monkeypatch.setenv("BRAINTRUST_API_KEY", "test-key-not-real")
    monkeypatch.delenv("BRAINTRUST_PROJECT", raising=False)


def test_json_shape_and_values(fixtures, no_key, capsys):
    code = main([str(fixtures / "handwritten_tau2_results.json"), "--json"])

    out = capsys.readouterr().out
    report = json.loads(out)
    (experiment,) = report["experiments"]
    assert code == 0
    assert set(report) == {"experiments"}
    assert set(experiment) == JSON_KEYS
    assert experiment["name"] == "agent-model-a · tau2-bench airline · user user-model-x"
    assert (experiment["model"], experiment["user_model"], experiment["domain"]) == (
        "agent-model-a",
        "user-model-x",
        "airline",
    )
    assert (experiment["num_tasks"], experiment["num_simulations"], experiment["num_trials"]) == (
        3,
        12,
        4,
    )
    assert experiment["avg_reward"] == pytest.approx(11 / 18)
    assert experiment["pass_hat_k"] == pytest.approx(
        {"1": 11 / 18, "2": 7 / 18, "3": 1 / 3, "4": 0.5}
    )
    assert experiment["pass_at_k"] == pytest.approx({"1": 11 / 18, "2": 5 / 6, "3": 1.0, "4": 1.0})
    assert experiment["tasks_without_reward"] == ["t3"]


def test_without_key_is_a_dry_run_said_once(fixtures, no_key, capsys):
    code = main([str(fixtures / "handwritten_tau_bench.json")])

    captured = capsys.readouterr()
    assert code == 0
    assert captured.err.count("BRAINTRUST_API_KEY is not set: dry run, nothing is uploaded.") == 1
    assert "Would upload to project 'sema4-demo': 2 tasks to dataset" in captured.err
    assert "pass^k" in captured.out
    assert "mean reward      0.750" in captured.out


def test_dry_run_flag_with_key_uploads_nothing(fixtures, with_key, memory_braintrust, capsys):
    bgl, backend = memory_braintrust

    code = main([str(fixtures / "handwritten_tau_bench.json"), "--dry-run"], **backend)

    assert code == 0
    assert bgl.pop() == []
    assert "BRAINTRUST_API_KEY is not set" not in capsys.readouterr().err


def test_upload_ends_with_links(fixtures, with_key, memory_braintrust, capsys):
    bgl, backend = memory_braintrust

    code = main(
        [
            str(fixtures / "handwritten_tau_bench.json"),
            "--project",
            "p1",
            "--name",
            f"baseline={fixtures / 'handwritten_tau_bench.json'}",
        ],
        **backend,
    )

    out = capsys.readouterr().out
    assert code == 0
    assert out.rstrip().splitlines()[-1] == (
        "baseline: 4 rows → https://www.braintrust.dev/app/test-org-name/p/p1/experiments/baseline"
    )
    ids = {row["id"] for row in bgl.pop() if row.get("experiment_id") == "baseline"}
    assert {"task/0/trial/0", "task/0/trial/1", "task/1/trial/0", "task/1/trial/1"} <= ids


def test_one_bad_file_means_nothing_is_uploaded(
    fixtures, with_key, memory_braintrust, tmp_path, capsys
):
    bgl, backend = memory_braintrust
    bad = tmp_path / "bad.json"
    bad.write_text('[{"task_id": 1, "reward": "high"}]')

    code = main([str(fixtures / "handwritten_tau2_results.json"), str(bad)], **backend)

    captured = capsys.readouterr()
    assert code == 1
    assert captured.err == f"Error: {bad}: [0].reward: expected a number, got 'high'\n"
    assert captured.out == ""
    assert bgl.pop() == []


def test_upload_failure_is_one_line_exit_1(fixtures, with_key, capsys):
    def refuse(project, name):
        raise RuntimeError("401 Unauthorized")

    code = main(
        [str(fixtures / "handwritten_tau_bench.json")], open_dataset=refuse, login=lambda: None
    )

    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines()[-1] == "Error: upload to Braintrust failed (401 Unauthorized)"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_braintrust_is_one_line_before_any_upload(fixtures, tmp_path):
    # The real SDK and the real command, against a local port nobody listens on.
    port = _closed_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "BRAINTRUST_API_KEY": "not-a-real-key",
        "BRAINTRUST_APP_URL": f"http://127.0.0.1:{port}",
    }

    result = subprocess.run(
        [sys.executable, "-m", "ingest", str(fixtures / "handwritten_tau_bench.json")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )

    assert result.returncode == 1
    assert result.stderr == (
        f"Error: could not reach Braintrust at http://127.0.0.1:{port}: Connection refused; "
        "check the network connection and BRAINTRUST_APP_URL\n"
    )


class _RefuseLogin(BaseHTTPRequestHandler):
    def do_POST(self):
        body = b'{"error": "invalid api key"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def refusing_app_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RefuseLogin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_refused_key_says_check_the_key(fixtures, with_key, refusing_app_url, monkeypatch, capsys):
    monkeypatch.setenv("BRAINTRUST_APP_URL", refusing_app_url)

    def never(*args):
        raise AssertionError("nothing may be opened before the login succeeds")

    code = main(
        [str(fixtures / "handwritten_tau_bench.json")], open_dataset=never, open_experiment=never
    )

    assert code == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"Error: Braintrust at {refusing_app_url} refused the API key (HTTP 401); "
        "check BRAINTRUST_API_KEY"
    )


def test_two_experiments_side_by_side_with_changes(fixtures, no_key, capsys):
    code = main(
        [
            str(fixtures / "handwritten_tau2_results.json"),
            str(fixtures / "handwritten_tau2_results_b.json"),
        ]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert "Side by side: tau2-bench airline" in out
    regressed = out.index("Regressed")
    improved = out.index("Improved")
    assert "2 tasks" in out[regressed:improved]
    assert out.index("task     t1  0.50 → 0.00  (-0.50)") < out.index(
        "task     t2  1.00 → 0.75  (-0.25)"
    )
    assert "task     t3  0.33 → 1.00  (+0.67)" in out[improved:]
    # Run A's t3 has 3 scored trials, so its pass^4 and pass@4 average 2 of its 3 tasks.
    rows = {line.split("│")[0].strip(): line for line in out.splitlines() if "│" in line}
    assert [cell.strip() for cell in rows["pass^4"].split("│")[1:]] == [
        "0.500 (2 of 3 tasks)",
        "0.333",
    ]
    assert rows["pass@4"].split("│")[1].strip() == "1.000 (2 of 3 tasks)"
    assert "tasks)" not in rows["pass^3"]


@pytest.mark.parametrize(
    ("unscored", "message"),
    [
        (["t3"], "1 simulation carries no reward (task t3); it is reported, not scored"),
        (
            ["t2", "t3"],
            "2 simulations carry no reward (tasks t2, t3); they are reported, not scored",
        ),
    ],
)
def test_unscored_warning_counts_in_words(tau2_doc, write_json, no_key, caplog, unscored, message):
    for simulation in tau2_doc["simulations"]:
        if simulation["task_id"] in unscored and simulation["trial"] in (3, "3"):
            simulation.pop("reward_info", None)
    path = write_json(tau2_doc)

    code = main([str(path)])

    assert code == 0
    assert caplog.messages[0] == f"{path}: {message}"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--name", "no-equals-sign"], "--name takes NAME=PATH, got 'no-equals-sign'"),
        (["--name", "x=elsewhere.json"], "elsewhere.json is not one of the inputs"),
    ],
)
def test_bad_name_option_is_a_usage_error(fixtures, no_key, capsys, extra, message):
    code = main([str(fixtures / "handwritten_tau_bench.json"), *extra])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("usage: sema4-ingest")
    assert message in err


def test_same_default_name_twice_is_a_usage_error(fixtures, no_key, capsys):
    path = str(fixtures / "handwritten_tau_bench.json")

    code = main([path, path])

    assert code == 2
    assert "give one of them --name NAME=PATH" in capsys.readouterr().err


def test_no_arguments_exits_2():
    with pytest.raises(SystemExit) as raised:
        main([])

    assert raised.value.code == 2


def test_module_entry_point_exit_codes(fixtures, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    bad = tmp_path / "bad.json"
    bad.write_text("{")

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "ingest", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    ok = run(str(fixtures / "handwritten_tau2_results.json"), "--json")
    broken = run(str(bad))
    usage = run()

    assert ok.returncode == 0
    assert json.loads(ok.stdout)["experiments"][0]["num_simulations"] == 12
    assert broken.returncode == 1
    assert (
        broken.stderr == f"Error: {bad}: line 1, column 2: truncated JSON "
        "(Expecting property name enclosed in double quotes); "
        "the file ends before the document does\n"
    )
    assert usage.returncode == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "[" * 100_000,
            "line 1, column 2: the value starting here nests lists or objects more deeply than "
            "Python's JSON parser can follow (about {limit:,} levels)",
        ),
        (
            '[{"task_id": 0, "reward": 1' + "0" * 5000 + "}]",
            "line 1, column 27: an integer with 5,001 digits, more than Python reads (4,300); "
            "fix or remove that number",
        ),
    ],
    ids=["deep-nesting", "huge-integer"],
)
def test_json_python_cannot_parse_is_one_line_with_place(
    no_key, tmp_path, capsys, content, message
):
    path = tmp_path / "odd.json"
    path.write_text(content)

    code = main([str(path)])

    captured = capsys.readouterr()
    assert code == 1
    limit = sys.getrecursionlimit()
    assert captured.err == f"Error: {path}: {message.format(limit=limit)}\n"
    assert captured.out == ""


@pytest.mark.timeout(20)
def test_fifo_input_is_refused_without_opening_it(no_key, tmp_path, capsys):
    # Opening a FIFO blocks until a writer comes; the check must happen first.
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)

    code = main([str(fifo)])

    assert code == 1
    assert capsys.readouterr().err == (
        f"Error: {fifo}: is a named pipe (FIFO), not a regular file; give a results file\n"
    )


@pytest.mark.timeout(20)
def test_fifo_or_directory_among_tau2_simulations_is_refused(no_key, tau2_dir, capsys):
    fifo = tau2_dir / "simulations" / "a.json"
    os.mkfifo(fifo)
    folder = tau2_dir / "simulations" / "z.json"
    folder.mkdir()

    code = main([str(tau2_dir)])
    fifo.unlink()
    code_without_fifo = main([str(tau2_dir)])

    err = capsys.readouterr().err.splitlines()
    assert (code, code_without_fifo) == (1, 1)
    assert err == [
        f"Error: {fifo}: is a named pipe (FIFO), not a regular file; give a results file",
        f"Error: {folder}: is a directory where a results file was expected",
    ]


def test_gzip_over_the_decompressed_limit_is_refused(
    fixtures, no_key, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(reading, "MAX_DECOMPRESSED_BYTES", 1 << 20)
    text = (fixtures / "handwritten_tau2_results.json").read_bytes()
    path = tmp_path / "padded.json.gz"
    path.write_bytes(gzip.compress(text[:-2] + b" " * (1 << 20) + text[-2:]))

    code = main([str(path)])

    assert code == 1
    assert capsys.readouterr().err == (
        f"Error: {path}: gzip data decompresses to more than 1 MiB, the limit "
        "(ingest.reading.MAX_DECOMPRESSED_BYTES); decompress and check it first\n"
    )


def test_symlink_loop_is_named_as_such(no_key, tmp_path, capsys):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.symlink_to(second)
    second.symlink_to(first)

    code = main([str(first)])

    assert code == 1
    assert capsys.readouterr().err == (
        f"Error: {first}: is a symlink loop: its links lead back round, never to a file\n"
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            [{"task_id": 0, "reward": 1, "trial": -5}],
            "[0].trial: must be a whole number from 0 to 999,999, got -5",
        ),
        (
            {"info": {}, "tasks": [{"id": "12"}, {"id": 12}], "simulations": []},
            "tasks[1].id: duplicate task id '12' (also at tasks[0])",
        ),
    ],
    ids=["negative-trial", "duplicate-task"],
)
def test_bad_trial_or_task_id_is_one_line_exit_1(no_key, write_json, capsys, doc, message):
    path = write_json(doc)

    code = main([str(path)])

    assert code == 1
    assert capsys.readouterr().err == f"Error: {path}: {message}\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty: there is no JSON in it"),
        (" \n\t\n", "the file is empty: there is no JSON in it"),
        (
            '[{"task_id": 1,\n  "traj": "cut mid-str',
            "line 2, column 11: truncated JSON (a string starts here and never ends); "
            "the file ends before the document does",
        ),
        (
            '[{"task_id": "a\tb"}]',
            "line 1, column 16: malformed JSON (Invalid control character)",
        ),
    ],
    ids=["empty", "whitespace", "cut-in-string", "control-character"],
)
def test_json_error_wording(no_key, tmp_path, capsys, content, message):
    path = tmp_path / "run.json"
    path.write_text(content)

    code = main([str(path)])

    assert code == 1
    assert capsys.readouterr().err == f"Error: {path}: {message}\n"
