"""Read a JSON document from disk, gzip or not, with line and column on bad JSON."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import Any

from ingest.errors import IngestError

GZIP_MAGIC = b"\x1f\x8b"


def read_json(path: Path) -> Any:
    """Parse `path` as JSON; gzip is recognised from the bytes, not the file name."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise IngestError(str(path), f"cannot read the file ({e.strerror})") from e

    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as e:
            raise IngestError(str(path), f"broken or truncated gzip data ({e})") from e

    try:
        return json.loads(data)
    except UnicodeDecodeError as e:
        raise IngestError(str(path), "not UTF-8 text, so not a JSON results file") from e
    except json.JSONDecodeError as e:
        raise IngestError(str(path), _describe_json_error(e)) from e


def _describe_json_error(error: json.JSONDecodeError) -> str:
    where = f"line {error.lineno}, column {error.colno}"
    # An error at the very end of the text means the document stopped early.
    if error.pos >= len(error.doc.rstrip()):
        return f"{where}: truncated JSON ({error.msg}); the file ends before the document does"
    return f"{where}: malformed JSON ({error.msg})"
