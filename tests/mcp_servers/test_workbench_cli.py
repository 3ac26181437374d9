"""The command line: option errors exit 2 with one line; logs never touch stdout."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mcp_servers.workbench", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_root_directory_is_a_usage_error(tmp_path):
    finished = _run("--root", str(tmp_path / "nope"))

    assert finished.returncode == 2
    assert (
        finished.stderr
        == f"Error: --root {tmp_path / 'nope'} is not a directory; create it first.\n"
    )
    assert finished.stdout == ""


@pytest.mark.parametrize("value", ["0", "-5"])
def test_bash_timeout_must_be_positive(box, value):
    finished = _run("--root", str(box), "--bash-timeout", value)

    assert finished.returncode == 2
    assert "--bash-timeout must be a positive number" in finished.stderr


def test_root_is_required():
    finished = _run()

    assert finished.returncode == 2
    assert "--root" in finished.stderr


async def test_debug_logging_keeps_stdout_for_the_protocol(workbench, box):
    async with workbench(box, "--log-level", "DEBUG") as session:
        listed = await session.call_tool("list_dir", {})
        ran = await session.call_tool("bash_exec", {"cmd": "echo fine"})

    assert not listed.is_error
    assert ran.structured_content["stdout"] == "fine\n"


def test_stdin_eof_answers_pending_requests_then_exits_0(box):
    initialize = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }

    finished = subprocess.run(
        [sys.executable, "-m", "mcp_servers.workbench", "--root", str(box)],
        input=json.dumps(initialize) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 0
    (line,) = finished.stdout.splitlines()
    answer = json.loads(line)
    assert answer["id"] == 7
    assert answer["result"]["serverInfo"]["name"] == "workbench"
