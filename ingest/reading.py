"""Open a JSON file from disk, gzip or not, as a stream; bad bytes or JSON name the file."""

from __future__ import annotations

import errno
import gzip
import io
import stat
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ingest.errors import IngestError
from ingest.json_stream import JsonLimitError, JsonStream, JsonSyntaxError

GZIP_MAGIC = b"\x1f\x8b"
# gzip can shrink a gigabyte of padding to a megabyte: past this many decompressed bytes
# a file is refused rather than read on.
MAX_DECOMPRESSED_BYTES = 2 << 30

_NOT_REGULAR = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def file_mode(path: Path) -> int:
    """`path`'s type and mode bits (links followed), or an `IngestError` saying why not."""
    try:
        return path.stat().st_mode
    except FileNotFoundError as e:
        raise IngestError(str(path), "no such file or directory") from e
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise IngestError(
                str(path), "is a symlink loop: its links lead back round, never to a file"
            ) from e
        raise IngestError(str(path), f"cannot read the file ({e.strerror})") from e


def check_regular_file(path: Path) -> None:
    """Refuse what is not a plain file before opening it: opening a FIFO blocks forever."""
    mode = file_mode(path)
    if stat.S_ISDIR(mode):
        raise IngestError(str(path), "is a directory where a results file was expected")
    if not stat.S_ISREG(mode):
        kind = _NOT_REGULAR.get(stat.S_IFMT(mode), "not a regular file")
        raise IngestError(str(path), f"is {kind}, not a regular file; give a results file")


@contextmanager
def open_json(path: Path) -> Iterator[JsonStream]:
    """A `JsonStream` over `path`; gzip is recognised from the bytes, not the file name.

    Reading happens while the caller walks the stream, so unreadable bytes, broken
    gzip data and bad JSON surface inside the `with` block; they leave it as an
    `IngestError` naming the file (and the line and column for JSON).
    """
    check_regular_file(path)
    try:
        raw = path.open("rb")
    except OSError as e:
        raise IngestError(str(path), f"cannot read the file ({e.strerror})") from e

    with raw:
        is_gzip = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        binary = _capped(gzip.GzipFile(fileobj=raw)) if is_gzip else raw
        # utf-8-sig: a byte-order mark is dropped, as json.loads does for bytes.
        text = io.TextIOWrapper(binary, encoding="utf-8-sig")
        try:
            yield JsonStream(text)
        except _TooLarge as e:
            limit = _size(MAX_DECOMPRESSED_BYTES)
            raise IngestError(
                str(path),
                f"gzip data decompresses to more than {limit}, the limit "
                "(ingest.reading.MAX_DECOMPRESSED_BYTES); decompress and check it first",
            ) from e
        except UnicodeDecodeError as e:
            raise IngestError(str(path), "not UTF-8 text, so not a JSON results file") from e
        except JsonSyntaxError as e:
            raise IngestError(str(path), _describe_json_error(e)) from e
        except (EOFError, OSError, zlib.error) as e:
            if not is_gzip:
                raise IngestError(str(path), f"cannot read the file ({e})") from e
            raise IngestError(str(path), f"broken or truncated gzip data ({e})") from e


class _TooLarge(Exception):
    """More decompressed bytes than MAX_DECOMPRESSED_BYTES."""


class _CountingReader(io.RawIOBase):
    """Reads from `inner`, raising `_TooLarge` once more than `limit` bytes came out."""

    def __init__(self, inner: io.BufferedIOBase, limit: int) -> None:
        self._inner = inner
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._inner.readinto(buffer)
        self._left -= count
        if self._left < 0:
            raise _TooLarge
        return count


def _capped(binary: io.BufferedIOBase) -> io.BufferedReader:
    return io.BufferedReader(_CountingReader(binary, MAX_DECOMPRESSED_BYTES))


def read_json(path: Path) -> Any:
    """The whole document in `path`, parsed (for the small files of a tau2 directory)."""
    with open_json(path) as stream:
        doc = stream.value()
        stream.end()
    return doc


def _size(count: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"


def _describe_json_error(error: JsonSyntaxError) -> str:
    if error.empty:
        return "the file is empty: there is no JSON in it"
    where = f"line {error.line}, column {error.column}"
    if isinstance(error, JsonLimitError):
        return f"{where}: {error.message}"

    # json's messages end "... at" or "... starting at", before the place it appends.
    message = error.message.removesuffix(" starting at").removesuffix(" at")
    if message == "Unterminated string":
        message = "a string starts here and never ends"
    # An error at the very end of the text means the document stopped early.
    if error.truncated:
        return f"{where}: truncated JSON ({message}); the file ends before the document does"
    return f"{where}: malformed JSON ({message})"
