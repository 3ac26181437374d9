"""--isolate: commands under bubblewrap write only inside the root and have no network."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="bubblewrap not installed (.ci/run installs it)"
)


@pytest.fixture
def listener():
    """A TCP port on 127.0.0.1 that accepts connections, to probe for network access."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def _connect_cmd(port: int) -> str:
    return f"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"


@needs_bwrap
async def test_isolate_confines_writes_to_the_root(workbench, tmp_path, box, text):
    outside = tmp_path / "outside"
    outside.mkdir()
    system_probe = Path("/var/tmp") / f"workbench-probe-{uuid.uuid4().hex}"
    cmd = (
        f"echo in > inside.txt; "
        f"echo out > {outside}/escape.txt; echo rc_outside=$?; "
        f"echo sys > {system_probe}; echo rc_system=$?"
    )

    async with workbench(box, "--isolate") as session:
        result = await session.call_tool("bash_exec", {"cmd": cmd})

    data = result.structured_content
    assert "rc_outside=1" in data["stdout"] and "rc_system=1" in data["stdout"]
    assert (box / "inside.txt").read_text() == "in\n"
    assert list(outside.iterdir()) == []
    assert not system_probe.exists()


@needs_bwrap
async def test_isolate_has_no_network(workbench, box, listener):
    async with workbench(box) as session:
        open_net = await session.call_tool("bash_exec", {"cmd": _connect_cmd(listener)})
    async with workbench(box, "--isolate") as session:
        isolated = await session.call_tool("bash_exec", {"cmd": _connect_cmd(listener)})

    assert open_net.structured_content["stdout"] == "connected\n"
    assert isolated.structured_content["stdout"] == ""
    assert isolated.structured_content["exit_code"] != 0


@needs_bwrap
async def test_isolate_timeout_still_kills_children(workbench, box):
    async with workbench(box, "--isolate") as session:
        result = await session.call_tool(
            "bash_exec", {"cmd": f"sleep {_MARKER} & sleep {_MARKER}", "timeout_s": 1}
        )
        after = await session.call_tool("bash_exec", {"cmd": "echo still serving"})

    assert result.structured_content["timed_out"] is True
    assert after.structured_content["stdout"] == "still serving\n"
    assert await _no_process_matches(f"sleep {_MARKER}")


# An unusual duration, so the /proc scan finds only this test's sleeps (their pids live in
# bwrap's pid namespace, so a pid file would not name them).
_MARKER = 987654


async def _no_process_matches(pattern: str, within_s: float = 10.0) -> bool:
    """Bounded wait: a SIGKILLed process may take a moment to be torn down."""
    deadline = time.monotonic() + within_s
    while _command_lines_matching(pattern):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def _command_lines_matching(pattern: str) -> list[str]:
    """Command lines of live processes containing `pattern` (zombies have none)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if pattern in line:
            found.append(line)
    return found


def test_isolate_without_bwrap_fails_at_start(tmp_path, box):
    empty_path = tmp_path / "no_bin"
    empty_path.mkdir()

    finished = subprocess.run(
        [sys.executable, "-m", "mcp_servers.workbench", "--root", str(box), "--isolate"],
        env={"PATH": str(empty_path)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 2
    assert "--isolate needs bubblewrap" in finished.stderr
    assert finished.stdout == ""
