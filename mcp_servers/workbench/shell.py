"""Run one bash command for a tool call: clean environment, capped output, group kill."""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mcp_servers.workbench import processes

logger = logging.getLogger(__name__)

OUTPUT_CAP_BYTES = 64 * 1024
_CHUNK_BYTES = 64 * 1024

# After bash itself exits, how long background processes may keep our pipes open
# before they are stopped; waiting for the full timeout would stall the model.
_PIPE_GRACE_S = 1.0

_ALLOWED_ENV = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM"}
    # The locale categories of POSIX and glibc by name: `LC_*` would also let LC_AUTH through.
    | {
        "LC_ALL", "LC_CTYPE", "LC_COLLATE", "LC_MESSAGES", "LC_MONETARY", "LC_NUMERIC",
        "LC_TIME", "LC_ADDRESS", "LC_IDENTIFICATION", "LC_MEASUREMENT", "LC_NAME",
        "LC_PAPER", "LC_TELEPHONE",
    }
)  # fmt: skip
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"

# Defence in depth: even a name the allowlist lets through is dropped if it looks secret.
_DENIED_ENV_PATTERNS = (
    "*_API_KEY",
    "*_TOKEN",
    "*_SECRET",
    "*_SECRET_*",
    "*PASSWORD*",
    "*CREDENTIAL*",
    "ANTHROPIC_*",
    "BRAINTRUST_*",
    "OPENAI_*",
    "MODAL_*",
    "AWS_*",
)


# Commands (bash, or bwrap) started and not yet reaped by asyncio: a server that is told to
# stop stops their trees, and orphan reaping leaves their exit status to asyncio.
_running: set[asyncio.subprocess.Process] = set()


@dataclass
class CommandResult:
    """What a finished (or killed) bash command produced."""

    exit_code: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool
    truncated: bool
    stdout_bytes: int
    stderr_bytes: int
    note: str | None = None


def child_environment(parent: Mapping[str, str], root: Path) -> dict[str, str]:
    """The environment a command sees: an allowlist of the server's, minus anything secret."""
    env = {
        name: value
        for name, value in parent.items()
        if name in _ALLOWED_ENV and not is_secret_name(name)
    }
    env.setdefault("PATH", _DEFAULT_PATH)
    env["PWD"] = str(root)
    return env


def is_secret_name(name: str) -> bool:
    """True for variable names that commonly carry credentials."""
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, pattern) for pattern in _DENIED_ENV_PATTERNS)


async def run_command(
    cmd: str,
    *,
    root: Path,
    timeout_s: float,
    env: Mapping[str, str],
    prefix: list[str] | None = None,
) -> CommandResult:
    """Run `cmd` with bash in `root`, in its own process group, stdin closed.

    On timeout, or when background processes still hold the output pipes after bash
    exits, the process group and every descendant are killed. Each stream keeps its first
    OUTPUT_CAP_BYTES; the rest is counted and dropped, so memory stays bounded.
    """
    started = time.monotonic()
    _reap_orphans()
    process = await asyncio.create_subprocess_exec(
        *(prefix or []),
        "bash",
        "-c",
        cmd,
        cwd=root,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    _running.add(process)
    stdout, stderr = _CappedOutput(), _CappedOutput()
    readers = {
        asyncio.ensure_future(stdout.read_from(process.stdout)),
        asyncio.ensure_future(stderr.read_from(process.stderr)),
    }

    try:
        timed_out, note = await _wait(process, readers, timeout_s)
    finally:
        # A cancelled tool call must not leave the command running.
        if process.returncode is None:
            processes.kill_tree(process.pid)
        for reader in readers:
            reader.cancel()
        _reap_orphans()

    return CommandResult(
        exit_code=None if timed_out else process.returncode,
        stdout=stdout.text(),
        stderr=stderr.text(),
        duration_s=round(time.monotonic() - started, 4),
        timed_out=timed_out,
        truncated=stdout.truncated or stderr.truncated,
        stdout_bytes=stdout.total,
        stderr_bytes=stderr.total,
        note=note,
    )


async def _wait(
    process: asyncio.subprocess.Process, readers: set[asyncio.Future], timeout_s: float
) -> tuple[bool, str | None]:
    """Wait for bash and its output pipes; kill the group when either takes too long."""
    # Usually the pipes close as bash exits. Process.wait() alone would not do: on
    # Python 3.11+ it also waits for the pipes, which a background job can hold open.
    deadline = time.monotonic() + timeout_s
    pipes_closed = asyncio.ensure_future(asyncio.wait(readers))
    exited = asyncio.ensure_future(_returncode_set(process))
    try:
        done, _ = await asyncio.wait(
            {pipes_closed, exited}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        exited.cancel()
        pipes_closed.cancel()

    if pipes_closed in done:
        # bash may have closed its own stdout and stderr and still be running.
        try:
            await asyncio.wait_for(process.wait(), max(deadline - time.monotonic(), 0))
        except TimeoutError:
            done = set()

    if not done:
        processes.kill_tree(process.pid)
        await _drain(readers)
        return True, f"timed out after {timeout_s:g} s; the command and its children were killed"
    if pipes_closed in done:
        return False, None

    _, pending = await asyncio.wait(readers, timeout=_PIPE_GRACE_S)
    if pending:
        processes.kill_tree(process.pid)
        await _drain(readers)
        return False, (
            "background processes kept stdout/stderr open and were stopped; "
            "redirect their output (cmd > log 2>&1 &) to keep them running"
        )
    return False, None


async def _returncode_set(process: asyncio.subprocess.Process) -> None:
    """Returns once bash has exited, whether or not its pipes are still open."""
    while process.returncode is None:
        await asyncio.sleep(0.02)


async def _drain(readers: set[asyncio.Future]) -> None:
    """Let readers see EOF after a kill; a process that left the group may hold a pipe."""
    await asyncio.wait(readers, timeout=_PIPE_GRACE_S)


def stop_all() -> None:
    """Kill every command still running and all they left behind; called at shutdown."""
    for process in list(_running):
        processes.kill_tree(process.pid)
    # Detached orphans (setsid -f, double forks) are the server's own children by now.
    processes.kill_tree(os.getpid(), include_root=False)


def _reap_orphans() -> None:
    _running.difference_update({process for process in _running if process.returncode is not None})
    processes.reap_orphans({process.pid for process in _running})


class _CappedOutput:
    """One output stream: the first OUTPUT_CAP_BYTES kept, the rest only counted."""

    def __init__(self) -> None:
        self.kept = bytearray()
        self.total = 0

    @property
    def truncated(self) -> bool:
        return self.total > len(self.kept)

    def text(self) -> str:
        return self.kept.decode("utf-8", errors="replace")

    async def read_from(self, stream: asyncio.StreamReader | None) -> None:
        while stream is not None:
            chunk = await stream.read(_CHUNK_BYTES)
            if not chunk:
                return
            self.total += len(chunk)
            room = OUTPUT_CAP_BYTES - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]
