"""modal_app.py: it imports offline, and its app, functions, secret and image are as documented.

Modal keeps a function's settings and an image's build steps on the objects it will send
at deploy time; these tests read them there (Modal 1.6 internals, pinned by uv.lock), so a
drift between the README and what `modal deploy` would build fails here.
"""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
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


def test_trial_function_outlasts_one_agent_run():
    settings = _nonlocals(modal_app.run_trial)

    assert settings["webhook_config"] is None
    assert settings["timeout"] == modal_app.TRIAL_TIMEOUT_S >= 10 * 60


def test_image_installs_sqlite3_and_syncs_the_lockfile():
    commands = _dockerfile(modal_app.image)
    files = _context_files(modal_app.image)

    assert "RUN apt-get install -y sqlite3" in commands
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
