"""bash_exec: output, environment allowlist, timeouts that kill children, caps, concurrency."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from mcp_servers.workbench.shell import OUTPUT_CAP_BYTES


def _is_gone(pid: int) -> bool:
    """True when the process no longer exists or is only a zombie awaiting its reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


async def _wait_until_gone(pid: int, within_s: float = 10.0) -> bool:
    """Bounded wait: a SIGKILLed process may take a moment to be torn down."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if _is_gone(pid):
            return True
        await asyncio.sleep(0.02)
    return _is_gone(pid)


async def test_bash_exec_returns_exit_code_and_streams(workbench, box, text):
    async with workbench(box) as session:
        result = await session.call_tool("bash_exec", {"cmd": "pwd; echo oops >&2; exit 3"})

    data = result.structured_content
    assert not result.is_error
    assert (data["exit_code"], data["stdout"], data["stderr"]) == (3, f"{box}\n", "oops\n")
    assert (data["timed_out"], data["truncated"]) == (False, False)
    assert "exit code 3" in text(result) and "oops" in text(result)


async def test_bash_exec_stdin_is_closed(workbench, box):
    async with workbench(box) as session:
        result = await session.call_tool("bash_exec", {"cmd": "cat; echo rc=$?"})

    assert result.structured_content["stdout"] == "rc=0\n"


async def test_bash_exec_environment_is_an_allowlist(workbench, box):
    planted = {
        "ANTHROPIC_API_KEY": "sk-ant-planted",
        "MY_SERVICE_TOKEN": "tok-planted",
        "BRAINTRUST_API_KEY": "bt-planted",
        "DB_PASSWORD": "pw-planted",
        "LC_SECRET_KEY": "lc-planted",
        "LC_AUTH": "auth-planted",
        "LC_X_TOKEN": "lc-token-planted",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "LC_TIME": "C",
    }

    async with workbench(box, env=planted) as session:
        result = await session.call_tool("bash_exec", {"cmd": "env"})

    output = result.structured_content["stdout"]
    names = {line.split("=", 1)[0] for line in output.splitlines() if "=" in line}
    assert "planted" not in output
    assert names.isdisjoint(
        {"ANTHROPIC_API_KEY", "MY_SERVICE_TOKEN", "BRAINTRUST_API_KEY", "DB_PASSWORD"}
    )
    assert {"PATH", "LANG", "PWD", "LC_ALL", "LC_TIME"} <= names
    assert {name for name in names if name.startswith("LC_")} == {"LC_ALL", "LC_TIME"}
    assert f"PWD={box}" in output.splitlines()


async def test_bash_exec_timeout_kills_the_whole_group(workbench, box, text):
    cmd = "sleep 1000 & echo $! > bg.pid; sleep 1000"

    async with workbench(box) as session:
        result = await session.call_tool("bash_exec", {"cmd": cmd, "timeout_s": 1})

    data = result.structured_content
    assert (data["timed_out"], data["exit_code"]) == (True, None)
    assert "timed out" in text(result)
    assert await _wait_until_gone(int((box / "bg.pid").read_text()))


async def test_bash_exec_timeout_kills_children_that_left_the_group(workbench, box):
    """setsid moves a child out of the process group: the group kill alone missed it."""
    cmd = "setsid sleep 1000 > /dev/null 2>&1 < /dev/null & echo $! > setsid.pid; sleep 1000"

    async with workbench(box) as session:
        result = await session.call_tool("bash_exec", {"cmd": cmd, "timeout_s": 1})
        gone_while_serving = await _wait_until_gone(int((box / "setsid.pid").read_text()))

    assert result.structured_content["timed_out"] is True
    assert gone_while_serving


async def test_server_exit_kills_detached_orphans(workbench, box):
    """`setsid -f` detaches and its parent exits: the orphan is the server's until it exits."""
    cmd = (
        "setsid -f sh -c 'echo $$ > detached.pid; exec sleep 1000' > /dev/null 2>&1 < /dev/null; "
        "until [ -s detached.pid ]; do sleep 0.02; done"
    )

    async with workbench(box) as session:
        result = await session.call_tool("bash_exec", {"cmd": cmd, "timeout_s": 30})
        detached = int((box / "detached.pid").read_text())
        alive_while_serving = not _is_gone(detached)
        (server_pid,) = _pids_matching(f"mcp_servers.workbench --root {box} ")
        adopted_by_server = _parent_of(detached) == server_pid

    assert result.structured_content["exit_code"] == 0
    assert alive_while_serving and adopted_by_server
    assert await _wait_until_gone(detached)


async def test_exited_orphans_are_reaped(workbench, box):
    """Orphans reparent to the server (a subreaper); it must not collect their zombies."""
    cmd = (
        "setsid -f sh -c 'echo $$ > quick.pid' > /dev/null 2>&1 < /dev/null; "
        "until [ -s quick.pid ]; do sleep 0.02; done"
    )
    # The second call returns once the orphan has exited (a zombie, or reaped already); it
    # reaps on its way out.
    until_zombie = (
        "stat=/proc/$(cat quick.pid)/stat; "
        "while [ -e $stat ] && [ \"$(awk '{print $3}' $stat)\" != Z ]; do :; done"
    )

    async with workbench(box) as session:
        await session.call_tool("bash_exec", {"cmd": cmd})
        quick = int((box / "quick.pid").read_text())
        await session.call_tool("bash_exec", {"cmd": until_zombie, "timeout_s": 30})
        reaped = await _wait_for(lambda: not Path(f"/proc/{quick}").exists())

    assert reaped


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


async def test_bash_exec_stops_background_jobs_holding_the_pipes(workbench, box, text):
    cmd = "sleep 1000 & echo $! > bg.pid; echo started"

    async with workbench(box, "--bash-timeout", "120") as session:
        result = await session.call_tool("bash_exec", {"cmd": cmd})

    data = result.structured_content
    assert (data["exit_code"], data["stdout"], data["timed_out"]) == (0, "started\n", False)
    assert "redirect their output" in text(result)
    assert await _wait_until_gone(int((box / "bg.pid").read_text()))


async def test_bash_exec_truncates_huge_output(workbench, box, text):
    cmd = "head -c 300000 /dev/zero | tr '\\0' a; head -c 70000 /dev/zero | tr '\\0' b >&2"

    async with workbench(box) as session:
        result = await session.call_tool("bash_exec", {"cmd": cmd})

    data = result.structured_content
    assert data["truncated"] is True
    assert data["stdout"] == "a" * OUTPUT_CAP_BYTES
    assert data["stderr"] == "b" * OUTPUT_CAP_BYTES
    assert (data["stdout_bytes"], data["stderr_bytes"]) == (300000, 70000)
    assert f"showing the first {OUTPUT_CAP_BYTES} of 300000 bytes" in text(result)


async def test_bash_exec_invalid_utf8_output_is_replaced(workbench, box):
    async with workbench(box) as session:
        result = await session.call_tool("bash_exec", {"cmd": "printf 'ok\\xff\\n'"})

    assert result.structured_content["stdout"] == "ok\ufffd\n"


async def test_bash_exec_rejects_non_positive_timeout(workbench, box, text):
    async with workbench(box) as session:
        result = await session.call_tool("bash_exec", {"cmd": "true", "timeout_s": 0})

    assert result.is_error and "timeout_s must be a positive" in text(result)


async def test_slow_bash_exec_does_not_block_other_tools(workbench, box):
    """A command waits for a file only a later tool call creates: it needs concurrency."""
    cmd = "until [ -e go ]; do sleep 0.02; done; echo released"

    async with workbench(box) as session:
        slow = asyncio.create_task(session.call_tool("bash_exec", {"cmd": cmd, "timeout_s": 60}))
        listed = await session.call_tool("list_dir", {})
        still_running = not slow.done()
        await session.call_tool("write_file", {"path": "go", "content": ""})
        released = await asyncio.wait_for(slow, 60)

    assert not listed.is_error
    assert still_running
    assert released.structured_content["stdout"] == "released\n"
    assert released.structured_content["timed_out"] is False


async def test_server_exit_leaves_no_command_behind(workbench, box):
    """Closing the session while a command runs must not orphan it."""
    cmd = "echo $$ > bash.pid; sleep 1000 > /dev/null 2>&1"

    async with workbench(box) as session:
        slow = asyncio.create_task(session.call_tool("bash_exec", {"cmd": cmd, "timeout_s": 600}))
        while not (box / "bash.pid").exists() or not (box / "bash.pid").read_text():
            await asyncio.sleep(0.02)
        slow.cancel()

    assert await _wait_until_gone(int((box / "bash.pid").read_text()))
    assert os.path.exists(box / "bash.pid")


async def test_timeout_applies_after_bash_closes_its_own_output(workbench, box):
    cmd = "echo $$ > bash.pid; exec > /dev/null 2>&1; sleep 1000"

    async with workbench(box) as session:
        result = await session.call_tool("bash_exec", {"cmd": cmd, "timeout_s": 1})

    assert result.structured_content["timed_out"] is True
    assert await _wait_until_gone(int((box / "bash.pid").read_text()))


def _pids_matching(pattern: str) -> list[int]:
    """Live processes whose command line contains `pattern` (zombies have none)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if pattern in line:
            pids.append(int(cmdline.parent.name))
    return pids


async def _wait_for(condition, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


# Claude Code stops a stdio server with SIGINT, then SIGTERM; either must stop it at once.
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
async def test_stop_signal_stops_running_commands_and_the_server(workbench, box, stop_signal):
    marker = "sleep 987653"

    async with workbench(box) as session:
        slow = asyncio.create_task(
            session.call_tool("bash_exec", {"cmd": f"{marker} > /dev/null", "timeout_s": 600})
        )
        assert await _wait_for(lambda: _pids_matching(marker))
        (server_pid,) = _pids_matching(f"mcp_servers.workbench --root {box} ")
        os.kill(server_pid, stop_signal)

        assert await _wait_for(lambda: not _pids_matching(marker))
        assert await _wait_for(lambda: _is_gone(server_pid))
        slow.cancel()
