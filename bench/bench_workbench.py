"""Workbench MCP server vs the official Node filesystem server, over stdio, same client.

    uv run python bench/bench_workbench.py [--starts 10] [--calls 300]

Measures start-up (spawn to `initialize` answered), shutdown (stdin closed, or SIGINT as
Claude Code sends it, to process exit) and round-trip latency of `list_dir` /
`bash_exec("true")` against the official server's `list_directory`.
The Node server is installed on first use with npm into bench/out/node (git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

NODE_PACKAGE = "@modelcontextprotocol/server-filesystem"
NODE_PREFIX = Path(__file__).parent / "out" / "node"
NODE_ENTRY = NODE_PREFIX / "node_modules" / NODE_PACKAGE / "dist" / "index.js"


# The floor any MCPServer tool pays over stdio: the same SDK with a tool that does nothing.
_NOOP_SERVER = """
from mcp.server.mcpserver import MCPServer
server = MCPServer("noop", log_level="WARNING")
@server.tool()
async def noop() -> str:
    return "ok"
server.run("stdio")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--starts", type=int, default=10, help="cold starts per server")
    parser.add_argument("--calls", type=int, default=300, help="timed calls per tool")
    args = parser.parse_args()

    node_entry = _ensure_node_server()
    with tempfile.TemporaryDirectory(prefix="bench-workbench-") as tmp:
        root = Path(tmp).resolve()
        for i in range(20):
            (root / f"file_{i:02d}.txt").write_text("x" * (i * 100))
        (root / "sub").mkdir()
        rows = asyncio.run(_measure(root, node_entry, args.starts, args.calls))

    _print_table(rows)
    return 0


def _ensure_node_server() -> Path | None:
    if NODE_ENTRY.exists():
        return NODE_ENTRY
    if shutil.which("npm") is None or shutil.which("node") is None:
        print("node/npm not found: measuring the workbench server only", file=sys.stderr)
        return None
    print(f"installing {NODE_PACKAGE} into {NODE_PREFIX} ...", file=sys.stderr)
    subprocess.run(
        ["npm", "install", "--prefix", str(NODE_PREFIX), "--no-audit", "--no-fund", NODE_PACKAGE],
        check=True,
        stdout=sys.stderr,
    )
    return NODE_ENTRY


async def _measure(
    root: Path, node_entry: Path | None, starts: int, calls: int
) -> list[tuple[str, str, list[float]]]:
    workbench = StdioServerParameters(
        command=sys.executable, args=["-m", "mcp_servers.workbench", "--root", str(root)]
    )
    rows = [("workbench", "start-up", await _startups(workbench, starts))]
    workbench_argv = [workbench.command, *workbench.args]
    for how in ("stdin EOF", "SIGINT"):
        rows.append(("workbench", f"exit on {how}", _shutdowns(workbench_argv, how, starts)))
    async with _session(workbench) as session:
        rows.append(("workbench", "list_dir", await _latencies(session, "list_dir", {}, calls)))
        rows.append(
            (
                "workbench",
                "bash_exec true",
                await _latencies(session, "bash_exec", {"cmd": "true"}, calls),
            )
        )

    noop = StdioServerParameters(command=sys.executable, args=["-c", _NOOP_SERVER])
    async with _session(noop) as session:
        rows.append(("sdk no-op tool", "noop", await _latencies(session, "noop", {}, calls)))

    if node_entry is not None:
        official = StdioServerParameters(command="node", args=[str(node_entry), str(root)])
        rows.append(("official (node)", "start-up", await _startups(official, starts)))
        official_argv = [official.command, *official.args]
        for how in ("stdin EOF", "SIGINT"):
            rows.append(
                ("official (node)", f"exit on {how}", _shutdowns(official_argv, how, starts))
            )
        async with _session(official) as session:
            listing = await _latencies(session, "list_directory", {"path": str(root)}, calls)
            rows.append(("official (node)", "list_directory", listing))
    return rows


class _session:
    """An initialized ClientSession over a freshly spawned stdio server."""

    def __init__(self, params: StdioServerParameters) -> None:
        self._params = params

    async def __aenter__(self) -> ClientSession:
        self._transport = stdio_client(self._params, errlog=subprocess.DEVNULL)
        read, write = await self._transport.__aenter__()
        self._client = ClientSession(read, write)
        session = await self._client.__aenter__()
        await session.initialize()
        return session

    async def __aexit__(self, *exc: object) -> None:
        await self._client.__aexit__(*exc)
        await self._transport.__aexit__(*exc)


async def _startups(params: StdioServerParameters, starts: int) -> list[float]:
    timings = []
    for _ in range(starts):
        started = time.perf_counter()
        async with _session(params):
            timings.append(time.perf_counter() - started)
    return timings


def _shutdowns(argv: list[str], how: str, times: int) -> list[float]:
    """Seconds from closing stdin (or SIGINT) to exit, after one answered initialize."""
    initialize = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "1"},
        },
    }
    timings = []
    for _ in range(times):
        server = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        server.stdin.write(json.dumps(initialize).encode() + b"\n")
        server.stdin.flush()
        server.stdout.readline()
        started = time.perf_counter()
        if how == "SIGINT":
            server.send_signal(signal.SIGINT)
        else:
            server.stdin.close()
        server.wait(timeout=30)
        timings.append(time.perf_counter() - started)
        server.stdout.close()
        if server.stdin and not server.stdin.closed:
            server.stdin.close()
    return timings


async def _latencies(session: ClientSession, tool: str, arguments: dict, calls: int) -> list[float]:
    async def call() -> None:
        result = await session.call_tool(tool, arguments)
        if result.is_error:
            raise RuntimeError(f"{tool} failed: {result.content}")

    await _repeat(call, 20)  # warm-up: thread pools, JIT, first-call imports
    return await _repeat(call, calls)


async def _repeat(call: Callable[[], Awaitable[None]], times: int) -> list[float]:
    timings = []
    for _ in range(times):
        started = time.perf_counter()
        await call()
        timings.append(time.perf_counter() - started)
    return timings


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _print_table(rows: list[tuple[str, str, list[float]]]) -> None:
    print(f"{'server':<18}{'measure':<18}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}")
    for server, measure, values in rows:
        p50 = statistics.median(values) * 1000
        p95 = _percentile(values, 95) * 1000
        print(f"{server:<18}{measure:<18}{len(values):>5}{p50:>10.2f}{p95:>10.2f}")

    by_key = {(server, measure): values for server, measure, values in rows}
    ours = by_key.get(("workbench", "list_dir"))
    theirs = by_key.get(("official (node)", "list_directory"))
    if ours and theirs:
        ratio = statistics.median(ours) / statistics.median(theirs)
        print(f"\nlist_dir p50 / official list_directory p50 = {ratio:.2f}x (aim: <= 1.5x)")
    ours_start = by_key.get(("workbench", "start-up"))
    if ours_start:
        print(f"workbench start-up p50 = {statistics.median(ours_start):.2f} s (aim: < 1 s)")


if __name__ == "__main__":
    sys.exit(main())
