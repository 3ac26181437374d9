"""The bubblewrap sandbox behind --isolate: the bwrap command line and a check that it runs.

The agent imports this too, to decide before spawning the server whether isolation is
usable here, with exactly the flags the server will use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


class IsolationUnavailable(RuntimeError):
    """--isolate was asked for but bubblewrap is missing or cannot run here."""

    def __init__(self, reason: str, advice: str) -> None:
        super().__init__(f"{reason}; {advice}")
        self.reason = reason


def isolation_prefix(root: Path) -> list[str]:
    """The bwrap command line that confines a command to writing inside `root`, offline.

    Raises IsolationUnavailable when bwrap is not installed or cannot create its
    namespaces here (some container runtimes forbid it).
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise IsolationUnavailable(
            "--isolate needs bubblewrap, and bwrap is not on PATH",
            "install it (Debian/Ubuntu: apt-get install bubblewrap) or run without --isolate",
        )

    # A bwrap older than 0.8 has no --disable-userns and rejects the strict form; the
    # fallback still drops every capability, which is what keeps root from remounting.
    failures = []
    for namespaces in (_STRICT_NAMESPACES, _PORTABLE_NAMESPACES):
        prefix = _command_line(bwrap, root, namespaces)
        probe = subprocess.run(
            [*prefix, "true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0:
            return prefix
        failures.append(probe.stderr.strip())
    raise IsolationUnavailable(
        f"bwrap is installed but cannot isolate commands here ({failures[-1]})",
        "run without --isolate or allow user namespaces",
    )


# Namespaces beyond mount and pid. A fresh user namespace lets --disable-userns stop the
# command from creating one of its own (where it would hold every capability again).
_STRICT_NAMESPACES = (
    "--unshare-user",
    "--disable-userns",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
)
_PORTABLE_NAMESPACES = ("--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try")


def _command_line(bwrap: str, root: Path, namespaces: tuple[str, ...]) -> list[str]:
    # Run as root, bwrap otherwise keeps the caller's full capability set inside the
    # sandbox, and CAP_SYS_ADMIN alone undoes it: `mount -o remount,rw /` writes to the host.
    return [
        bwrap,
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        # /run holds the host's Unix sockets (docker.sock, D-Bus, ssh-agent, postgres):
        # --unshare-net does not cover sockets on the filesystem.
        "--tmpfs", "/run",
        *_var_run_cover(),
        # After the tmpfs mounts, so a root that lives under /tmp stays visible and writable.
        "--bind", str(root), str(root),
        "--unshare-net",
        "--unshare-pid",
        *namespaces,
        "--cap-drop", "ALL",
        "--die-with-parent",
        "--new-session",
        "--chdir", str(root),
        "--",
    ]  # fmt: skip


def _var_run_cover() -> list[str]:
    """A tmpfs over /var/run too, unless it is the usual symlink to /run (covered already)."""
    if os.path.islink("/var/run") or not os.path.isdir("/var/run"):
        return []
    return ["--tmpfs", "/var/run"]
