"""The same server over streamable HTTP, driven by the real mcp HTTP client."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, within_s: float = 30.0) -> None:
    """Bounded wait until the server accepts TCP connections (or dies)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early: {process.stderr.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"server did not listen on {port} within {within_s} s")


@pytest.fixture
def http_server(box):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_servers.workbench", "--root", str(box)]
        + ["--transport", "http", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_http_transport_serves_the_tools(http_server, box, text):
    (box / "hello.txt").write_text("over http\n")

    async with (
        streamable_http_client(http_server) as (read, write),
        ClientSession(read, write) as session,
    ):
        init = await session.initialize()
        listed = await session.call_tool("list_dir", {})
        ran = await session.call_tool("bash_exec", {"cmd": "cat hello.txt"})
        refused = await session.call_tool("read_file", {"path": "../outside.txt"})

    assert init.server_info.name == "workbench"
    assert listed.structured_content["entries"] == [
        {"name": "hello.txt", "type": "file", "size": 10}
    ]
    assert ran.structured_content["stdout"] == "over http\n"
    assert refused.is_error and "outside the workbench root" in text(refused)


def test_http_rejects_a_foreign_host_header(http_server):
    """DNS-rebinding protection: a page on another origin cannot drive the local server."""
    response = httpx2.post(
        http_server,
        headers={"Host": "evil.example", "Content-Type": "application/json"},
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
    )

    assert response.status_code in (400, 403, 421)
