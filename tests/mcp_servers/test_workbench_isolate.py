"""--isolate: commands under bubblewrap write only inside the root and have no network."""

from __future__ import annotations

import asyncio
import os
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


def _lines_of(result) -> dict[str, str]:
    """`name=value` lines of a command's stdout, as a dict."""
    pairs = (line.split("=", 1) for line in result.structured_content["stdout"].splitlines())
    return {name: value for name, value in pairs}


@needs_bwrap
async def test_isolate_drops_every_capability_even_as_root(workbench, tmp_path, box):
    """As root, bwrap keeps full capabilities unless told: remount / rw, then write the host."""
    probe = Path("/var/tmp") / f"workbench-escape-{uuid.uuid4().hex}"
    cmd = (
        "echo cap_eff=$(awk '/^CapEff/ {print $2}' /proc/self/status); "
        "mount -o remount,rw / 2>/dev/null; echo remount=$?; "
        f"echo x > {probe} 2>/dev/null; echo write_host=$?; "
        "mkdir -p m; mount --bind / m 2>/dev/null; echo bind=$?; "
        "mount -t tmpfs none m 2>/dev/null; echo tmpfs=$?; "
        "mknod blockdev b 7 0 2>/dev/null; echo mknod=$?; "
        "unshare -n true 2>/dev/null; echo unshare_net=$?; "
        "unshare -U true 2>/dev/null; echo unshare_user=$?"
    )

    async with workbench(box, "--isolate") as session:
        result = await session.call_tool("bash_exec", {"cmd": cmd})

    found = _lines_of(result)
    assert found["cap_eff"] == "0000000000000000"
    assert {name: found[name] != "0" for name in found if name != "cap_eff"} == {
        "remount": True,
        "write_host": True,
        "bind": True,
        "tmpfs": True,
        "mknod": True,
        "unshare_net": True,
        "unshare_user": True,
    }
    assert not probe.exists()
    assert not (box / "blockdev").exists()
    assert list((box / "m").iterdir()) == []


@needs_bwrap
@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="needs the sqlite3 shell")
async def test_isolate_still_lets_sqlite3_work_inside_the_root(workbench, box):
    """The agent's own use: `sqlite3 data.db < answer.sql` on a database in the root."""
    cmd = (
        "sqlite3 data.db 'CREATE TABLE t(x); INSERT INTO t VALUES (41), (1);' && "
        "echo 'SELECT sum(x) FROM t;' > answer.sql && sqlite3 data.db < answer.sql"
    )

    async with workbench(box, "--isolate") as session:
        result = await session.call_tool("bash_exec", {"cmd": cmd})

    assert result.structured_content["stdout"] == "42\n"
    assert result.structured_content["exit_code"] == 0


@needs_bwrap
async def test_isolate_hides_the_hosts_unix_sockets_under_run(workbench, box):
    """--unshare-net leaves filesystem sockets reachable; /run (docker.sock, D-Bus) is covered."""
    run_dir = Path("/run") / f"workbench-probe-{uuid.uuid4().hex}"
    run_dir.mkdir()
    sock_path = run_dir / "s.sock"
    try:
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(str(sock_path))
            server.listen()
            cmd = f"ls -A /run; test -e {sock_path}; echo exists=$?"
            async with workbench(box, "--isolate") as session:
                result = await session.call_tool("bash_exec", {"cmd": cmd})
    finally:
        sock_path.unlink(missing_ok=True)
        run_dir.rmdir()

    assert result.structured_content["stdout"] == "exists=1\n"


@needs_bwrap
async def test_isolate_proc_shows_only_the_sandbox(workbench, box):
    """The server's environ holds a key; inside, /proc shows bwrap's init and the command."""
    env = {"PATH": os.environ["PATH"], "SERVICE_API_KEY": "planted-key-5"}
    cmd = (
        "tr '\\0' '\\n' < /proc/1/environ; tr '\\0' '\\n' < /proc/$PPID/environ; "
        "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; "
        "echo pids=$(ls /proc | grep -c '^[0-9]')"
    )

    async with workbench(box, env=env) as session:
        open_proc = await session.call_tool("bash_exec", {"cmd": cmd})
    async with workbench(box, "--isolate", env=env) as session:
        isolated = await session.call_tool("bash_exec", {"cmd": cmd})

    assert "planted-key-5" in open_proc.structured_content["stdout"]
    assert "planted-key-5" not in isolated.structured_content["stdout"]
    # bwrap's init, bash, and the pipeline's processes: nothing from outside.
    assert int(_lines_of(isolated)["pids"]) <= 6


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
    assert finished.stderr == (
        "Error: --isolate needs bubblewrap, and bwrap is not on PATH; install it "
        "(Debian/Ubuntu: apt-get install bubblewrap) or run without --isolate\n"
    )
    assert finished.stdout == ""
