"""The file tools' work: read text by lines, write atomically, list a directory."""

from __future__ import annotations

import codecs
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from mcp_servers.workbench.results import DirEntry, DirListing, FileContent, WriteReceipt
from mcp_servers.workbench.sandbox import display_path, resolve_inside

READ_CAP_BYTES = 256 * 1024
LIST_CAP_ENTRIES = 1000
# How far into a file read_file looks for a line; beyond it, bash_exec (tail, sed) is the
# tool. Counting newlines in 1 MiB chunks, 256 MiB takes 0.1-0.4 s here.
SCAN_CAP_BYTES = 256 * 1024 * 1024
_SNIFF_BYTES = 8192
_SKIP_CHUNK_BYTES = 1024 * 1024


class FileToolError(ValueError):
    """A file tool request that cannot be served, with a message the model can act on."""


def read_text(root: Path, path: str, offset: int = 0, limit: int | None = None) -> FileContent:
    """Lines [offset, offset + limit) of a UTF-8 text file, at most READ_CAP_BYTES of them."""
    if offset < 0 or (limit is not None and limit < 1):
        raise FileToolError("offset must be >= 0 and limit must be >= 1 (or omitted)")
    target = resolve_inside(root, path)
    shown = display_path(root, target)
    _require_file(target, shown)

    kept: list[str] = []
    size = 0
    stopped = False
    with target.open("rb") as handle:
        # Like git and grep: a NUL byte near the start means binary, whatever comes first.
        if b"\x00" in handle.read(_SNIFF_BYTES):
            raise FileToolError(_binary_message(shown, "near the start"))
        handle.seek(0)
        seen = _skip_lines(handle, offset, shown)
        for raw, was_cut in _lines(handle, shown):
            if (limit is not None and len(kept) >= limit) or size + len(raw) > READ_CAP_BYTES:
                stopped = True
                break
            kept.append(_decode(raw, was_cut, shown, seen))
            size += len(raw)
            seen += 1

    if not stopped and offset > seen:
        raise FileToolError(f"offset {offset} is past the end of {shown} ({seen} lines)")
    return FileContent(
        path=shown,
        content="".join(kept),
        offset=offset,
        lines=len(kept),
        total_lines=None if stopped else seen,
        next_offset=offset + len(kept) if stopped else None,
        truncated=stopped and (limit is None or len(kept) < limit),
    )


def write_text(root: Path, path: str, content: str) -> WriteReceipt:
    """Write `content` as UTF-8, creating parent directories inside the root.

    The file is written to a temporary name in the same directory and renamed over the
    target, so a reader never sees half a file.
    """
    target = resolve_inside(root, path)
    shown = display_path(root, target)
    if target == root or target.is_dir():
        raise FileToolError(f"{shown} is a directory; give a file path to write")

    data = content.encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    existed = target.exists()
    mode = stat.S_IMODE(target.stat().st_mode) if existed else 0o666 & ~_UMASK

    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return WriteReceipt(path=shown, bytes_written=len(data), created=not existed)


def list_entries(root: Path, path: str = ".") -> DirListing:
    """Entries of a directory inside the root, sorted by name, symlinks not followed."""
    target = resolve_inside(root, path)
    shown = display_path(root, target)
    if not target.exists():
        raise FileToolError(f"{shown} does not exist")
    if not target.is_dir():
        raise FileToolError(f"{shown} is not a directory; use read_file to read a file")

    with os.scandir(target) as scan:
        found = sorted(scan, key=lambda entry: entry.name)
    entries = [_describe(entry) for entry in found[:LIST_CAP_ENTRIES]]
    return DirListing(path=shown, entries=entries, truncated=len(found) > LIST_CAP_ENTRIES)


def _require_file(target: Path, shown: str) -> None:
    if not target.exists():
        raise FileToolError(f"{shown} does not exist; list_dir shows what is there")
    if target.is_dir():
        raise FileToolError(f"{shown} is a directory; use list_dir to see its entries")
    if not target.is_file():
        raise FileToolError(f"{shown} is not a regular file")


def _binary_message(shown: str, where: str) -> str:
    return (
        f"{shown} is a binary file (NUL byte {where}); "
        "inspect it with bash_exec, e.g. `file` or `xxd | head`"
    )


def _skip_lines(handle: BinaryIO, count: int, shown: str) -> int:
    """Move past `count` lines, counting newlines in chunks; the number of lines skipped.

    Fewer than `count` means the file ended first (a last line without a newline counts).
    """
    skipped = 0
    in_line = False  # bytes seen after the last newline: a line not yet ended
    while skipped < count:
        if handle.tell() >= SCAN_CAP_BYTES:
            raise FileToolError(_too_deep_message(shown, count))
        chunk = handle.read(_SKIP_CHUNK_BYTES)
        if not chunk:
            return skipped + in_line
        newlines = chunk.count(b"\n")
        if skipped + newlines < count:
            skipped += newlines
            in_line = not chunk.endswith(b"\n")
            continue
        end = -1
        for _ in range(count - skipped):
            end = chunk.index(b"\n", end + 1)
        handle.seek(end + 1 - len(chunk), os.SEEK_CUR)
        skipped = count
    return skipped


def _lines(handle: BinaryIO, shown: str) -> Iterator[tuple[bytes, bool]]:
    """Each line as bytes, cut to READ_CAP_BYTES (flagged) so one huge line stays bounded."""
    while raw := handle.readline(READ_CAP_BYTES):
        was_cut = len(raw) == READ_CAP_BYTES and not raw.endswith(b"\n")
        if was_cut:
            # Skip the rest of the over-long line without holding it in memory.
            while (rest := handle.readline(READ_CAP_BYTES)) and not rest.endswith(b"\n"):
                if handle.tell() >= SCAN_CAP_BYTES:
                    raise FileToolError(
                        f"{shown} has a line longer than {SCAN_CAP_BYTES // 2**20} MiB; "
                        "inspect it with bash_exec, e.g. `head -c 2000`"
                    )
        yield raw, was_cut


def _too_deep_message(shown: str, offset: int) -> str:
    return (
        f"offset {offset} lies beyond the first {SCAN_CAP_BYTES // 2**20} MiB of {shown}, "
        "as far as read_file looks; use bash_exec for deep offsets, e.g. "
        f"`tail -n +{offset + 1} {shown} | head -n 200`"
    )


def _decode(raw: bytes, was_cut: bool, shown: str, line_index: int) -> str:
    where = f"line {line_index + 1}"
    if b"\x00" in raw:
        raise FileToolError(_binary_message(shown, f"at {where}"))
    try:
        # final=False on a cut line drops a character split by the cut instead of failing.
        text = codecs.getincrementaldecoder("utf-8")().decode(raw, final=not was_cut)
    except UnicodeDecodeError as exc:
        raise FileToolError(
            f"{shown} is not UTF-8 text (invalid byte at {where}); "
            "inspect it with bash_exec, e.g. `file` or `iconv -f latin1 -t utf-8`"
        ) from exc
    return f"{text}\n[line cut at {READ_CAP_BYTES} bytes]\n" if was_cut else text


def _describe(entry: os.DirEntry) -> DirEntry:
    if entry.is_symlink():
        return DirEntry(name=entry.name, type="symlink", size=None)
    if entry.is_dir(follow_symlinks=False):
        return DirEntry(name=entry.name, type="dir", size=None)
    if entry.is_file(follow_symlinks=False):
        return DirEntry(
            name=entry.name, type="file", size=entry.stat(follow_symlinks=False).st_size
        )
    return DirEntry(name=entry.name, type="other", size=None)


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any threads.
    current = os.umask(0)
    os.umask(current)
    return current


_UMASK = _read_umask()
