"""How the workbench server is started: isolated when bubblewrap works, with a bare env.

Without isolation a model's shell command runs as the user, so it can read
/proc/<pid>/environ of the CLI and of this Python process, API keys included. Under
bubblewrap it sees only its own PID namespace. So isolation is on whenever it works here;
SEMA4_ISOLATE=0 turns it off, SEMA4_ISOLATE=1 makes it a requirement.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

ISOLATE_VAR = "SEMA4_ISOLATE"

# What the workbench server itself needs; it passes an even smaller set on to commands.
_SERVER_NAMES = frozenset({"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR"})
_SERVER_LOCALE = frozenset(
    {
        "LC_ALL", "LC_CTYPE", "LC_COLLATE", "LC_MESSAGES", "LC_MONETARY", "LC_NUMERIC",
        "LC_TIME", "LC_ADDRESS", "LC_IDENTIFICATION", "LC_MEASUREMENT", "LC_NAME",
        "LC_PAPER", "LC_TELEPHONE",
    }
)  # fmt: skip
# Claude Code (2.1.332) adds these to its MCP servers' environment: a token for its own
# messaging socket. The server config's `env` is applied after them, so it can blank them.
_CLI_ADDED_SECRETS = ("CLAUDE_CODE_MESSAGING_TOKEN", "CLAUDE_CODE_MESSAGING_SOCKET")


class IsolationUnavailable(RuntimeError):
    """SEMA4_ISOLATE asks for something this machine cannot do, or is not 0 or 1."""


def workbench_command(workspace: Path, environ: Mapping[str, str] = os.environ) -> list[str]:
    """The command line that starts the workbench MCP server rooted at `workspace`.

    Adds --isolate when bubblewrap is usable here (checked once per process), unless
    SEMA4_ISOLATE=0. Raises IsolationUnavailable when SEMA4_ISOLATE=1 and it is not.
    """
    command = [sys.executable, "-m", "mcp_servers.workbench", "--root", str(workspace)]
    if should_isolate(environ):
        command.append("--isolate")
    return command


def should_isolate(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether to run the model's commands under bubblewrap (see the module docstring)."""
    setting = environ.get(ISOLATE_VAR, "").strip()
    if setting not in ("", "0", "1"):
        raise IsolationUnavailable(
            f"{ISOLATE_VAR} must be 1 (require isolation), 0 (turn it off) or unset "
            f"(isolate when bubblewrap works), not {setting!r}"
        )
    if setting == "0":
        return False

    problem = bubblewrap_problem()
    if problem and setting == "1":
        raise IsolationUnavailable(
            f"{ISOLATE_VAR}=1 but {problem}; install bubblewrap (Debian/Ubuntu: apt-get "
            f"install bubblewrap) or set {ISOLATE_VAR}=0"
        )
    if problem:
        _warn_not_isolated(problem)
    return problem is None


@functools.cache
def bubblewrap_problem() -> str | None:
    """Why bubblewrap cannot isolate commands here, or None when it can.

    Runs the server's own check (a trivial sandbox with the server's exact flags) once.
    """
    from mcp_servers.workbench.isolation import IsolationUnavailable as ServerUnavailable
    from mcp_servers.workbench.isolation import isolation_prefix

    with tempfile.TemporaryDirectory(prefix="sema4-isolation-probe-") as probe_root:
        try:
            isolation_prefix(Path(probe_root))
        except ServerUnavailable as exc:
            return exc.reason.replace("--isolate needs bubblewrap, and ", "")
    return None


@functools.cache
def _warn_not_isolated(problem: str) -> None:
    logger.warning(
        "the model's shell commands run without isolation, so they can read this process's "
        "environment (API keys) through /proc (%s; see README, 'What reaches the model's "
        "tools'); set %s=0 to silence this",
        problem,
        ISOLATE_VAR,
    )


def workbench_env(cli_environment: Mapping[str, str]) -> dict[str, str]:
    """The `env` of the workbench's stdio server config: the CLI's, secrets blanked.

    Claude Code starts the server with its own environment with this one laid over it
    (checked by a test reading the server's /proc/<pid>/environ), so every name the CLI
    holds and the server does not need is set to "" rather than left out. The server's
    environ then holds no key a command could read.
    """
    env = {
        name: value if name in _SERVER_NAMES or name in _SERVER_LOCALE else ""
        for name, value in cli_environment.items()
    }
    return {**env, **dict.fromkeys(_CLI_ADDED_SECRETS, "")}
