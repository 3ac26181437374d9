"""Find and stop everything a command started, even what left its process group.

`setsid`, a double fork or `setsid -f` move a process out of the command's group, so a
group kill misses it, and once its parent exits it used to reparent to init and outlive
the server. As a child subreaper the server inherits such orphans instead, so they stay
its descendants: a timeout stops the command's whole tree, shutdown stops every
descendant, and the server reaps the orphans that exit.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

_PR_SET_CHILD_SUBREAPER = 36
# A tree that keeps forking while it is being stopped gets this many sweeps.
_MAX_SWEEPS = 50


def become_subreaper() -> bool:
    """Make orphaned descendants reparent to this process (Linux); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        logger.warning("prctl(PR_SET_CHILD_SUBREAPER) failed: %s", os.strerror(ctypes.get_errno()))
        return False
    return True


def kill_tree(pid: int, *, include_root: bool = True) -> None:
    """SIGKILL `pid`'s process group and every descendant of `pid`, wherever its group.

    Everything found is stopped first (SIGSTOP), then the tree is searched again, so a
    process cannot escape by forking between the search and the kill.
    """
    stopped: set[int] = set()
    for _ in range(_MAX_SWEEPS):
        if include_root:
            _signal_group(pid, signal.SIGSTOP)
        found = _descendants(pid) - stopped
        if not found:
            break
        for child in found:
            _signal(child, signal.SIGSTOP)
        stopped |= found

    if include_root:
        _signal_group(pid, signal.SIGKILL)
        _signal(pid, signal.SIGKILL)
    for child in stopped:
        _signal(child, signal.SIGKILL)


def reap_orphans(own_children: set[int]) -> None:
    """Collect the exit status of exited orphans, leaving `own_children` to asyncio."""
    while True:
        try:
            # WNOWAIT: look without reaping, so asyncio's own children are left alone.
            found = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if found is None or found.si_pid in own_children:
            return
        try:
            os.waitpid(found.si_pid, os.WNOHANG)
        except ChildProcessError:
            return


def _descendants(root: int) -> set[int]:
    children_of: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children_of.setdefault(parent, []).append(pid)

    found: set[int] = set()
    pending = [root]
    while pending:
        for child in children_of.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process visible in /proc.

    Read from each /proc/<pid>/stat: /proc/<pid>/task/<tid>/children is absent on
    kernels built without CONFIG_PROC_CHILDREN, this one included.
    """
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses; fields resume after the last ")".
            fields = stat.read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    return parents


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass
