"""modal_app.py: it imports offline, and its app, functions, secret and image are as documented.

Modal keeps a function's settings and an image's build steps on the objects it will send
at deploy time; these tests read them there (Modal 1.6 internals, pinned by uv.lock), so a
drift between the README and what `modal deploy` would build fails here.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from modal._utils.async_utils import synchronizer
from modal_proto import api_pb2

import modal_app

REPO = Path(__file__).resolve().parents[1]

# What the README's Act 3 tells the reader.
DOCUMENTED_APP = "sema4-agent"
DOCUMENTED_SECRET = "sema4-demo-secrets"
DOCUMENTED_PACKAGES = {"sema4_agent", "mcp_servers", "evals", "ingest"}


def _nonlocals(obj) -> dict:
    """The values a Modal object's deferred loader closed over: what deploy would send."""
    return inspect.getclosurevars(synchronizer._translate_in(obj)._load).nonlocals


def _dockerfile(image) -> list[str]:
    """Every Dockerfile command of `image`, base layers first."""
    values = _nonlocals(image)
    base = list((values.get("base_images") or {}).values())
    if "base_image" in values:  # a layer of local files sits on its base unchanged
        base.append(values["base_image"])
    commands = [command for parent in base for command in _dockerfile(parent)]

    build = values.get("dockerfile_function")
    if build is not None:
        commands += build("2025.06").commands
    return commands


def _context_files(image) -> dict[str, str]:
    values = _nonlocals(image)
    parents = [*(values.get("base_images") or {}).values()]
    if "base_image" in values:
        parents.append(values["base_image"])
    files = {k: v for parent in parents for k, v in _context_files(parent).items()}

    build = values.get("dockerfile_function")
    if build is not None:
        files.update(build("2025.06").context_files)
    return files


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with no Modal config and no usable network."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MODAL_")}
    clean.update(env)
    # Any connection attempt (gRPC to Modal, HTTP to Braintrust, DNS) raises.
    guard = (
        "import socket\n"
        "def _refuse(*a, **k): raise OSError('network used during import')\n"
        "socket.socket.connect = _refuse\n"
        "socket.socket.connect_ex = _refuse\n"
        "socket.getaddrinfo = _refuse\n"
        "socket.create_connection = _refuse\n"
    )
    return subprocess.run(
        [sys.executable, "-c", guard + code],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_needs_no_credentials_and_no_network(tmp_path):
    result = _run_python(
        "import modal_app, sys\n"
        "print(modal_app.app.name)\n"
        # The agent, Braintrust and Anthropic stay out until a function runs in a container.
        "print(sorted(m for m in ('braintrust', 'claude_agent_sdk', 'anthropic') "
        "if m in sys.modules))\n",
        HOME=str(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [DOCUMENTED_APP, "[]"]


def test_secret_name_is_configurable_at_deploy_time(tmp_path):
    result = _run_python(
        "import modal_app\n"
        "from modal._utils.async_utils import synchronizer\n"
        "for fn in (modal_app.playground, modal_app.run_trial):\n"
        "    print([s.name for s in synchronizer._translate_in(fn)._spec_.secrets])\n",
        HOME=str(tmp_path),
        SEMA4_MODAL_SECRET="acme-prod-keys",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["['acme-prod-keys']", "['acme-prod-keys']"]


def test_app_and_function_names_are_documented():
    assert modal_app.APP_NAME == DOCUMENTED_APP
    assert modal_app.app.name == DOCUMENTED_APP
    for fn in (modal_app.playground, modal_app.run_trial):
        assert synchronizer._translate_in(fn).app is synchronizer._translate_in(modal_app.app)
    assert _nonlocals(modal_app.playground)["tag"] == "playground"
    assert _nonlocals(modal_app.run_trial)["tag"] == "run_trial"
    assert modal_app.main.info.function_name == "main"
    assert modal_app.main.app is modal_app.app


@pytest.mark.parametrize("fn_name", ["playground", "run_trial"])
def test_functions_use_the_default_secret(fn_name, monkeypatch):
    monkeypatch.delenv("SEMA4_MODAL_SECRET", raising=False)
    module = importlib.reload(modal_app)

    spec = synchronizer._translate_in(getattr(module, fn_name))._spec_

    assert module.SECRET_NAME == DOCUMENTED_SECRET
    assert [secret.name for secret in spec.secrets] == [DOCUMENTED_SECRET]


def test_playground_is_a_concurrent_asgi_endpoint_with_a_long_timeout():
    settings = _nonlocals(modal_app.playground)

    assert settings["webhook_config"].type == api_pb2.WEBHOOK_TYPE_ASGI_APP
    assert settings["max_concurrent_inputs"] == modal_app.PLAYGROUND_MAX_INPUTS > 1
    assert settings["timeout"] == modal_app.PLAYGROUND_TIMEOUT_S >= 30 * 60
    assert (settings["cpu"], settings["memory"]) == (4.0, 4096)


def test_trial_function_outlasts_one_agent_run():
    settings = _nonlocals(modal_app.run_trial)

    assert settings["webhook_config"] is None
    assert settings["timeout"] == modal_app.TRIAL_TIMEOUT_S >= 10 * 60
    assert (settings["cpu"], settings["memory"]) == (1.0, 1024)


def test_image_installs_sqlite3_bubblewrap_and_syncs_the_lockfile():
    commands = _dockerfile(modal_app.image)
    files = _context_files(modal_app.image)

    assert "RUN apt-get install -y sqlite3 bubblewrap" in commands
    sync = [c for c in commands if "uv sync" in c]
    assert len(sync) == 1 and "--frozen" in sync[0]
    # No second dependency list: the only inputs are the project's own files.
    assert sorted(files.values()) == [str(REPO / "pyproject.toml"), str(REPO / "uv.lock")]


def test_image_adds_our_packages_as_source():
    image = synchronizer._translate_in(modal_app.image)

    assert set(image._added_python_source_set) == DOCUMENTED_PACKAGES
    assert set(modal_app.LOCAL_PACKAGES) == DOCUMENTED_PACKAGES


def test_image_lets_the_venv_import_our_source():
    # The workbench starts as `python -m mcp_servers.workbench` with PYTHONPATH scrubbed.
    commands = _dockerfile(modal_app.image)

    pth = [c for c in commands if ".pth" in c]
    assert len(pth) == 1 and pth[0].startswith("RUN echo /root > ")
    assert commands.index(pth[0]) > commands.index(next(c for c in commands if "uv sync" in c))


def test_image_source_includes_the_task_file_and_no_caches():
    mount = _nonlocals(modal_app.image)["mount"]
    uploaded = {
        str(remote) for entry in mount._entries for _, remote in entry.get_files_to_upload()
    }

    assert "/root/evals/sql_tasks.jsonl" in uploaded
    assert "/root/evals/eval_sql_gen.py" in uploaded
    assert "/root/mcp_servers/workbench/__main__.py" in uploaded
    assert not [path for path in uploaded if "__pycache__" in path or path.endswith(".pyc")]


def test_modal_run_offers_the_documented_flags(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODAL_")}
    env["HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "modal", "run", "modal_app.py", "--help"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    for flag in ("--trials", "--model", "--max-turns", "--limit", "--tasks", "--experiment"):
        assert f"{flag} " in result.stdout
    assert "--send-logs / --no-send-logs" in result.stdout


def test_fan_out_without_a_braintrust_key_says_what_to_do(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("BRAINTRUST_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)

    with pytest.raises(SystemExit) as exit_info:
        modal_app.main.info.raw_f(trials=1)

    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "Error: set BRAINTRUST_API_KEY (in the environment or ./.env) to log the experiment, "
        "or pass --no-send-logs to print the scores only.\n"
    )


# ## The endpoint's ASGI app, served on 127.0.0.1
#
# The real app `playground` returns, the real agent (Claude Code CLI + workbench MCP
# server) against the scripted fake Messages API. Only Braintrust's login is replaced:
# `cached_login` still logs in through the SDK with its offline test key, and the state it
# returns logs to memory instead of uploading.

PLAYGROUND_PARENT = {
    "object_type": "playground_logs",
    "object_id": "00000000-0000-4000-8000-000000000001",
}
MODEL = "claude-fake-for-tests"


@pytest.fixture(scope="module")
def demo_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("sema4-cache")


@pytest.fixture(scope="module")
def fake_model():
    from sema4_agent.testing.fake_anthropic import FakeAnthropic, gold_policy

    with FakeAnthropic(gold_policy()) as fake:
        yield fake


# Variables a developer's shell may hold that would change what these tests see.
AMBIENT_VARS = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_MAX_RETRIES",
    "BRAINTRUST_API_KEY",
    "BRAINTRUST_ORG_NAME",
    "BRAINTRUST_PROJECT",
    "OPENAI_API_KEY",
    "SEMA4_MODEL",
    "SEMA4_RUNS_DB",
    "SEMA4_EVAL_TASKS",
    "SEMA4_EVAL_LIMIT",
    "SEMA4_EVAL_TRIALS",
    "SEMA4_EVAL_MAX_TURNS",
    "SEMA4_EVAL_CONCURRENCY",
)


@pytest.fixture
def agent_env(monkeypatch, fake_model, demo_cache, tmp_path):
    """The agent pointed at the fake model; nothing from the user's own environment."""
    for name in AMBIENT_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEMA4_CACHE_DIR", str(demo_cache))
    for name, value in fake_model.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    fake_model.reset()
    return fake_model


@pytest.fixture
def memory_logs(monkeypatch):
    """Accept Braintrust's offline test key at the login boundary; keep logs in memory."""
    from braintrust.devserver import server
    from braintrust.logger import _MemoryBackgroundLogger
    from braintrust.util import LazyValue

    memory = _MemoryBackgroundLogger()
    real_login = server.cached_login

    async def login(api_key: str, app_url: str, org_name: str | None = None):
        state = await real_login(api_key=api_key, app_url=app_url, org_name=org_name)
        state._global_bg_logger = LazyValue(lambda: memory, use_mutex=False)
        return state

    monkeypatch.setattr(server, "cached_login", login)
    return memory


def _auth(org: str = "acme") -> dict[str, str]:
    from braintrust.logger import TEST_API_KEY

    return {"x-bt-auth-token": TEST_API_KEY, "x-bt-org-name": org}


@contextlib.contextmanager
def _serve(asgi_app) -> Iterator[str]:
    """Serve `asgi_app` with uvicorn on 127.0.0.1; yields its base URL."""
    import uvicorn

    # Bound and listening before uvicorn starts, so no request can race its start-up.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = uvicorn.Server(uvicorn.Config(asgi_app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture
def endpoint(agent_env, memory_logs) -> Iterator[str]:
    with _serve(modal_app.playground.local()) as url:
        yield url


def _sse_events(response) -> list[tuple[str, str]]:
    events, name, data = [], None, []
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data.append(line.removeprefix("data: "))
        elif line == "" and name is not None:
            events.append((name, "\n".join(data)))
            name, data = None, []
    return events


def test_index_answers_without_a_token(endpoint):
    response = requests.get(f"{endpoint}/", timeout=30)

    assert response.status_code == 200
    assert response.text == "Hello, world!"


@pytest.mark.parametrize(("method", "path"), [("GET", "/list"), ("POST", "/eval")])
def test_list_and_eval_refuse_requests_without_a_token(endpoint, method, path):
    response = requests.request(method, f"{endpoint}{path}", json={"name": "x"}, timeout=30)

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("https://www.braintrust.dev", True), ("https://evil.example", False)],
)
def test_cors_admits_only_braintrust_origins(endpoint, origin, allowed):
    response = requests.options(
        f"{endpoint}/eval",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        timeout=30,
    )

    assert response.headers.get("access-control-allow-origin") == (origin if allowed else None)


def test_org_restriction_from_the_secret_refuses_other_orgs(agent_env, memory_logs, monkeypatch):
    monkeypatch.setenv("BRAINTRUST_ORG_NAME", "acme")

    with _serve(modal_app.playground.local()) as url:
        other = requests.get(f"{url}/list", headers=_auth("someone-else"), timeout=30)
        ours = requests.get(f"{url}/list", headers=_auth("acme"), timeout=30)

    assert other.status_code == 403
    assert ours.status_code == 200


def _rows(cases) -> list[dict]:
    return [{"input": c.input, "expected": c.expected, "metadata": c.metadata} for c in cases]


def test_list_shows_the_sql_eval_with_its_parameters_and_scorers(endpoint):
    from evals.evaluator import default_model, project_name

    listing = requests.get(f"{endpoint}/list", headers=_auth(), timeout=30).json()

    # Listed under the name `braintrust eval --dev evals/` gives it: the project's.
    assert list(listing) == [project_name()]
    schema = listing[project_name()]["parameters"]["schema"]
    assert {name: spec["type"] for name, spec in schema.items()} == {
        "model": "model",
        "system_prompt": "prompt",
        "max_turns": "data",
        "trials": "data",
    }
    assert schema["model"]["default"] == default_model()
    assert (schema["max_turns"]["default"], schema["trials"]["default"]) == (20, 3)
    scorers = [score["name"] for score in listing[project_name()]["scores"]]
    assert scorers == ["execution_accuracy", "soft_f1", "valid_sql", "pass_hat_k"]


def test_eval_streams_two_tasks_and_ends_with_a_summary(endpoint, agent_env, memory_logs):
    from evals.evaluator import load_cases, project_name

    cases = load_cases()[:2]
    body = {
        "name": project_name(),
        "data": {"data": _rows(cases)},
        "parameters": {"model": MODEL, "trials": 1, "max_turns": 10},
        "parent": PLAYGROUND_PARENT,
        "stream": True,
    }

    with requests.post(
        f"{endpoint}/eval", json=body, headers=_auth(), stream=True, timeout=240
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _sse_events(response)

    assert [name for name, _ in events][-2:] == ["summary", "done"]
    progress = [json.loads(data) for name, data in events if name == "progress"]
    outputs = [json.loads(p["data"]) for p in progress if p["event"] == "json_delta"]
    trials = [trial for output in outputs for trial in output["trials"]]
    assert sorted(t["task_id"] for t in trials) == sorted(c.input["id"] for c in cases)
    assert [t["error"] for t in trials] == [None, None]

    summary = json.loads(events[-2][1])
    scores = {name: score["score"] for name, score in summary["scores"].items()}
    assert scores == {"execution_accuracy": 1.0, "soft_f1": 1.0, "valid_sql": 1.0, "pass^1": 1.0}

    # The Playground's model choice reached the agent's every model call.
    assert agent_env.requests and {request.model for request in agent_env.requests} == {MODEL}

    # Rows and scores went to the Playground's session, through the caller's login.
    logged = memory_logs.pop()
    scored = [row for row in logged if "execution_accuracy" in (row.get("scores") or {})]
    assert [row["scores"]["execution_accuracy"] for row in scored] == [1.0, 1.0]
    assert {row["prompt_session_id"] for row in logged} == {PLAYGROUND_PARENT["object_id"]}


def _ancestors(span: dict, by_id: dict[str, dict]) -> list[dict]:
    """`span`'s parents, nearest first, up to the root of its trace."""
    chain = []
    while span.get("span_parents"):
        span = by_id[span["span_parents"][0]]
        chain.append(span)
    return chain


def _name(span: dict) -> str:
    return span["span_attributes"]["name"]


def test_eval_nests_each_trial_and_its_agent_trace_under_the_playground_row(endpoint, memory_logs):
    from evals.evaluator import load_cases, project_name

    body = {
        "name": project_name(),
        "data": {"data": _rows(load_cases()[:1])},
        "parameters": {"model": MODEL, "trials": 2, "max_turns": 10},
        "parent": PLAYGROUND_PARENT,
        "stream": True,
    }

    with requests.post(
        f"{endpoint}/eval", json=body, headers=_auth(), stream=True, timeout=240
    ) as response:
        assert response.status_code == 200
        assert [name for name, _ in _sse_events(response)][-2:] == ["summary", "done"]

    spans = memory_logs.pop()
    by_id = {span["span_id"]: span for span in spans}
    (row,) = [s for s in spans if not s.get("span_parents")]
    assert _name(row) == "eval"
    # One trace, logged to the Playground's session through the caller's login.
    assert {s["root_span_id"] for s in spans} == {row["root_span_id"]}
    assert {s["prompt_session_id"] for s in spans} == {PLAYGROUND_PARENT["object_id"]}

    trials = sorted((s for s in spans if _name(s).startswith("trial ")), key=_name)
    assert [_name(s) for s in trials] == ["trial 0", "trial 1"]
    assert [[_name(p) for p in _ancestors(s, by_id)] for s in trials] == [["task", "eval"]] * 2

    for trial in trials:
        below = [s for s in spans if trial in _ancestors(s, by_id)]
        (agent_root,) = [s for s in below if _name(s) == "run_sql_gen_task"]
        assert _ancestors(agent_root, by_id)[0] is trial
        # Everything the agent did hangs off its own root: the SDK integration's task
        # span, one LLM span per model turn (the fake takes three), one span per tool call.
        under_root = [s for s in below if agent_root in _ancestors(s, by_id)]
        assert len(under_root) == len(below) - 1
        assert [_name(s) for s in under_root if s["span_attributes"]["type"] == "task"] == [
            "Claude Agent"
        ]
        assert sum(s["span_attributes"]["type"] == "llm" for s in under_root) == 3
        tools = sorted(under_root, key=lambda s: s["metrics"]["start"])
        assert [_name(s) for s in tools if s["span_attributes"]["type"] == "tool"] == [
            "write_file",
            "bash_exec",
        ]


# ## Scale-out: the per-call unit and the fan-out


def test_trial_unit_scores_what_the_eval_scores(agent_env):
    from evals import sql_eval
    from evals.evaluator import config_from, execution_accuracy, load_cases, soft_f1, task_from_row

    case = load_cases()[0]
    row = {"input": case.input, "expected": case.expected}
    config = config_from({"model": MODEL, "max_turns": 10, "trials": 1})

    unit = asyncio.run(modal_app.run_trial.local(row, 0, modal_app._config_dict(config)))
    in_process = asyncio.run(
        sql_eval.run_trial(
            task_from_row(case.input, case.expected),
            model=config.model,
            system_prompt=config.system_prompt,
            max_turns=config.max_turns,
        )
    )

    # JSON-safe, so it crosses the container boundary as it is.
    assert json.loads(json.dumps(unit)) == unit
    scored = ("task_id", "trial_index", "sql", "columns", "rows", "error", "reasons")
    scores = ("execution_accuracy", "soft_f1", "valid_sql")
    assert {k: unit[k] for k in scored + scores} == {
        k: getattr(in_process, k) for k in scored + scores
    }
    assert (unit["execution_accuracy"], unit["soft_f1"], unit["valid_sql"]) == (1.0, 1.0, 1.0)
    assert execution_accuracy({"trials": [unit]}).score == unit["execution_accuracy"]
    assert soft_f1({"trials": [unit]}).score == unit["soft_f1"]


def test_fanned_out_eval_scores_rows_like_the_eval(agent_env, monkeypatch):
    from evals.evaluator import load_cases
    from evals.sql_eval import TrialResult, aggregate_trials

    monkeypatch.setenv("SEMA4_EVAL_LIMIT", "1")
    monkeypatch.setenv("SEMA4_EVAL_TRIALS", "2")
    monkeypatch.setenv("SEMA4_MODEL", MODEL)
    units, results = [], []

    def local_starmap(arguments):
        # What `run_trial.starmap` does on Modal, one call at a time in this process.
        for args in arguments:
            units.append(args)
            results.append(asyncio.run(modal_app.run_trial.local(*args)))
            yield results[-1]

    outcome = modal_app.run_fanned_out_eval(local_starmap, experiment_name=None, send_logs=False)

    task_id = load_cases()[0].input["id"]
    assert [(row["input"]["id"], i, config["model"]) for row, i, config in units] == [
        (task_id, 0, MODEL),
        (task_id, 1, MODEL),
    ]
    [row] = outcome.results
    expected = aggregate_trials([TrialResult.from_dict(r) for r in results]).as_scores()
    assert row.scores == expected
    assert expected == {
        "execution_accuracy": 1.0,
        "soft_f1": 1.0,
        "valid_sql": 1.0,
        "pass^1": 1.0,
        "pass^2": 1.0,
    }
    assert [trial["trial_index"] for trial in row.output["trials"]] == [0, 1]
