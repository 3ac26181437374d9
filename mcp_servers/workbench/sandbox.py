"""Keep file tool paths inside the workbench root."""

from __future__ import annotations

import errno
from pathlib import Path


class OutsideRootError(ValueError):
    """A path that resolves, symlinks followed, to somewhere outside the root."""


class SymlinkLoopError(ValueError):
    """A path whose symlinks point at each other, so it resolves nowhere."""


def resolve_inside(root: Path, path: str) -> Path:
    """Resolve `path` (relative to `root`, or absolute) and insist it stays inside `root`.

    `root` must already be resolved. Symlinks are followed all the way, and a path that
    does not exist yet is resolved through its deepest existing ancestor, so a new file
    below a symlinked directory is judged by where the directory really is. The check
    compares path components, so `/x/box_evil` is not inside `/x/box`.
    """
    if "\x00" in path:
        raise OutsideRootError("the path contains a NUL byte")

    candidate = Path(path).expanduser() if path.startswith("~") else Path(path)
    if not candidate.is_absolute():
        candidate = root / candidate

    # strict=False resolves every existing component (symlinks included) and keeps the
    # non-existent tail as written, collapsing `..` only after the real location is known.
    try:
        resolved = candidate.resolve(strict=False)
    except (RuntimeError, OSError) as exc:
        # Python 3.11's pathlib raises RuntimeError on a loop; later versions raise ELOOP.
        if isinstance(exc, OSError) and exc.errno != errno.ELOOP:
            raise
        raise SymlinkLoopError(
            f"symlink loop at {path!r}: its symlinks point at each other; "
            "fix or remove them (list_dir shows symlinks, bash_exec `ls -l` their targets)"
        ) from exc

    if not resolved.is_relative_to(root):
        raise OutsideRootError(
            f"{path!r} resolves to {str(resolved)!r}, outside the workbench root {str(root)!r}; "
            "use a path inside the root (relative paths start there)"
        )
    return resolved


def display_path(root: Path, resolved: Path) -> str:
    """The root-relative spelling of a resolved path, for messages and results."""
    relative = resolved.relative_to(root).as_posix()
    return relative or "."
