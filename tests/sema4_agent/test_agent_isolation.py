"""Isolation by default, and what a model's command can read of the processes around it.

The model's command reads /proc/<pid>/environ of the processes it can see; the planted
values must reach none of them under isolation, nor the workbench server's even without.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from sema4_agent import isolation, run_question
from sema4_agent.testing.fake_anthropic import bash_exec, scripted, sql_turns

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")

PLANTED = {
    "ANTHROPIC_API_KEY": "sk-ant-planted-1",
    "OPENAI_API_KEY": "sk-openai-planted-2",
    "GITHUB_TOKEN": "ghp-planted-3",
    "DATABASE_URL": "postgres://u:planted-4@h/db",
}

# Every environ block this command can read, then its parent's (the server, or bwrap).
READ_ENVIRONS = (
    "for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f 2>/dev/null; done; "
    "echo ppid_cmdline=$(tr '\\0' ' ' < /proc/$PPID/cmdline)"
)


@pytest.fixture
def planted(monkeypatch):
    for name, value in PLANTED.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def fresh_probe():
    """Forget the cached bubblewrap check, before and after, so PATH changes count."""
    isolation.bubblewrap_problem.cache_clear()
    isolation._warn_not_isolated.cache_clear()
    yield
    isolation.bubblewrap_problem.cache_clear()
    isolation._warn_not_isolated.cache_clear()


def _stdout_of_first_step(run) -> str:
    return json.loads(run.steps[0].output)["stdout"]


def _leaked(stdout: str) -> set[str]:
    return {name for name, value in PLANTED.items() if value in stdout}


@needs_bwrap
async def test_commands_are_isolated_by_default_and_read_no_secret(fake_model, planted):
    fake_model.reset(scripted([bash_exec(READ_ENVIRONS), *sql_turns("SELECT 1 AS one")]))

    run = await run_question("q", max_retries=0)

    stdout = _stdout_of_first_step(run)
    assert run.error is None and run.rows == [[1]]
    assert "bwrap --ro-bind / /" in stdout  # the command ran inside the sandbox
    assert _leaked(stdout) == set()


async def test_without_isolation_the_server_environ_holds_no_secret(
    fake_model, planted, monkeypatch
):
    """The workbench server's own environment: the CLI's with every secret blanked."""
    monkeypatch.setenv("SEMA4_ISOLATE", "0")
    read_parent = "tr '\\0' '\\n' < /proc/$PPID/environ; echo; tr '\\0' ' ' < /proc/$PPID/cmdline"
    fake_model.reset(scripted([bash_exec(read_parent), *sql_turns("SELECT 1 AS one")]))

    run = await run_question("q", max_retries=0)

    stdout = _stdout_of_first_step(run)
    server_env = dict(line.split("=", 1) for line in stdout.splitlines()[:-1] if "=" in line)
    assert "mcp_servers.workbench --root" in stdout.splitlines()[-1]
    assert "--isolate" not in stdout.splitlines()[-1]
    assert _leaked(stdout) == set()
    assert {name: server_env.get(name, "") for name in PLANTED} == dict.fromkeys(PLANTED, "")
    assert server_env["PATH"]
    # Claude Code adds a token for its own messaging socket; the server config blanks it.
    assert server_env.get("CLAUDE_CODE_MESSAGING_TOKEN", "") == ""


async def test_without_isolation_the_cli_environ_is_readable(fake_model, planted, monkeypatch):
    """The documented limit of SEMA4_ISOLATE=0: the CLI needs the key, and it is visible."""
    monkeypatch.setenv("SEMA4_ISOLATE", "0")
    fake_model.reset(scripted([bash_exec(READ_ENVIRONS), *sql_turns("SELECT 1 AS one")]))

    run = await run_question("q", max_retries=0)

    assert "ANTHROPIC_API_KEY" in _leaked(_stdout_of_first_step(run))


@needs_bwrap
def test_workbench_command_isolates_unless_turned_off(tmp_path, monkeypatch, fresh_probe):
    monkeypatch.delenv("SEMA4_ISOLATE", raising=False)
    default = isolation.workbench_command(tmp_path)
    monkeypatch.setenv("SEMA4_ISOLATE", "0")
    turned_off = isolation.workbench_command(tmp_path)

    assert default[-3:] == ["--root", str(tmp_path), "--isolate"]
    assert turned_off[-2:] == ["--root", str(tmp_path)]


def _path_without_bwrap(tmp_path: Path) -> str:
    empty = tmp_path / "no_bwrap_bin"
    empty.mkdir()
    return str(empty)


def test_required_isolation_without_bwrap_raises(tmp_path, monkeypatch, fresh_probe):
    monkeypatch.setenv("PATH", _path_without_bwrap(tmp_path))
    monkeypatch.setenv("SEMA4_ISOLATE", "1")

    with pytest.raises(isolation.IsolationUnavailable) as raised:
        isolation.workbench_command(tmp_path)

    assert str(raised.value) == (
        "SEMA4_ISOLATE=1 but bwrap is not on PATH; install bubblewrap (Debian/Ubuntu: apt-get "
        "install bubblewrap) or set SEMA4_ISOLATE=0"
    )


async def test_required_isolation_without_bwrap_stops_run_question(
    fake_model, tmp_path, monkeypatch, fresh_probe
):
    monkeypatch.setenv("PATH", _path_without_bwrap(tmp_path))
    monkeypatch.setenv("SEMA4_ISOLATE", "1")

    with pytest.raises(isolation.IsolationUnavailable, match="SEMA4_ISOLATE=1 but"):
        await run_question("q", max_retries=0)

    assert fake_model.requests == []


def test_unusable_bwrap_warns_once_and_runs_unisolated(tmp_path, monkeypatch, caplog, fresh_probe):
    monkeypatch.setenv("PATH", _path_without_bwrap(tmp_path))
    monkeypatch.delenv("SEMA4_ISOLATE", raising=False)

    with caplog.at_level(logging.WARNING, logger="sema4_agent.isolation"):
        commands = [isolation.workbench_command(tmp_path) for _ in range(3)]

    assert all("--isolate" not in command for command in commands)
    (record,) = caplog.records
    assert "can read this process's environment" in record.getMessage()
    assert "README" in record.getMessage()


@pytest.mark.parametrize("value", ["yes", "true", "2"])
def test_isolate_setting_must_be_0_or_1(tmp_path, monkeypatch, value):
    monkeypatch.setenv("SEMA4_ISOLATE", value)

    with pytest.raises(isolation.IsolationUnavailable, match="must be 1 .*, 0 .* or unset"):
        isolation.workbench_command(tmp_path)


def test_workbench_env_blanks_everything_the_server_does_not_need():
    cli_environment = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LC_ALL": "C.UTF-8",
        "ANTHROPIC_API_KEY": "sk",
        "CLAUDE_CONFIG_DIR": "/c",
        "AWS_SECRET_ACCESS_KEY": "aws",
        "BRAINTRUST_API_KEY": "",
    }

    assert isolation.workbench_env(cli_environment) == {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LC_ALL": "C.UTF-8",
        "ANTHROPIC_API_KEY": "",
        "CLAUDE_CONFIG_DIR": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "BRAINTRUST_API_KEY": "",
        "CLAUDE_CODE_MESSAGING_TOKEN": "",
        "CLAUDE_CODE_MESSAGING_SOCKET": "",
    }
