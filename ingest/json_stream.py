"""One JSON document read piece by piece, so a large results file is never held whole.

A tau-bench file is one long list and a tau2-bench file an object whose
`simulations` list is nearly all of it. Walking those lists one element at a time
lets ingest model a simulation and drop its raw JSON before parsing the next,
instead of holding the file's text, its whole parsed tree and the model at once.
Each value is parsed by the standard library's decoder (`raw_decode`); this
module only steps over the brackets, commas and colons between values, and keeps
count of lines so an error still names its line and column in the file.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

CHUNK_CHARS = 1 << 18
_WHITESPACE = " \t\n\r"


class JsonSyntaxError(ValueError):
    """Bad or truncated JSON, with its place in the whole document (1-based)."""

    def __init__(self, message: str, *, line: int, column: int, truncated: bool) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.message = message
        self.line = line
        self.column = column
        self.truncated = truncated


class JsonLimitError(JsonSyntaxError):
    """Valid JSON that Python's parser refuses: nesting too deep, an integer too long."""

    def __init__(self, message: str, *, line: int, column: int) -> None:
        super().__init__(message, line=line, column=column, truncated=False)


class JsonStream:
    """A cursor over the JSON text in `text`, read in chunks as values are asked for."""

    def __init__(self, text: TextIO) -> None:
        self._text = text
        self._buffer = ""
        self._pos = 0
        self._at_eof = False
        self._decoder = json.JSONDecoder()
        # Where the buffer starts in the document: lines and columns already dropped.
        self._lines_dropped = 0
        self._column_dropped = 0

    def peek(self) -> str:
        """The next character that is not whitespace, without taking it; "" at the end."""
        while True:
            while self._pos < len(self._buffer) and self._buffer[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buffer) or self._at_eof:
                return self._buffer[self._pos : self._pos + 1]
            self._read_more()

    def value(self) -> Any:
        """The next complete value (object, list, string, number...), parsed."""
        self.peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as e:
                if self._at_eof:
                    raise self._error(e.msg, e.pos) from None
                self._read_more()
                continue
            except RecursionError:
                raise self._too_deep() from None
            except ValueError as e:
                raise self._too_long(e) from None
            # A number that ends with the buffer may go on in the next chunk.
            if end == len(self._buffer) and not self._at_eof:
                self._read_more()
                continue
            self._pos = end
            return value

    def items(self) -> Iterator[Any]:
        """The elements of the list that comes next, each parsed when it is reached."""
        self._take("[", "Expecting value")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            yield self.value()
            if not self._skip_separator("]"):
                return

    def keys(self) -> Iterator[str]:
        """The keys of the object that comes next.

        After each key the caller must take its value (`value()` or `items()`)
        before asking for the next key.
        """
        self._take("{", "Expecting value")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            if self.peek() != '"':
                raise self._error("Expecting property name enclosed in double quotes", self._pos)
            key = self.value()
            self._take(":", "Expecting ':' delimiter")
            yield key
            if not self._skip_separator("}"):
                return

    def end(self) -> None:
        """Check that nothing but whitespace follows the document."""
        if self.peek():
            raise self._error("Extra data", self._pos)

    def _skip_separator(self, closing: str) -> bool:
        # True when a comma says another element follows; False at the closing bracket.
        char = self.peek()
        self._pos += 1
        if char == ",":
            return True
        if char == closing:
            return False
        self._pos -= 1
        raise self._error("Expecting ',' delimiter", self._pos)

    def _take(self, char: str, problem: str) -> None:
        if self.peek() != char:
            raise self._error(problem, self._pos)
        self._pos += 1

    def _read_more(self) -> None:
        # Drop what has been parsed, then read at least as much as is still buffered so
        # a value longer than a chunk is re-parsed only a logarithmic number of times.
        done = self._buffer[: self._pos]
        newlines = done.count("\n")
        if newlines:
            self._lines_dropped += newlines
            self._column_dropped = len(done) - done.rfind("\n") - 1
        else:
            self._column_dropped += len(done)
        rest = self._buffer[self._pos :]

        chunk = self._text.read(max(CHUNK_CHARS, len(rest)))
        self._at_eof = not chunk
        self._buffer = rest + chunk
        self._pos = 0

    def _too_deep(self) -> JsonLimitError:
        # The C scanner recurses once per level and gives no position; point at the
        # value it was parsing.
        line, column = self._place(self._pos)
        return JsonLimitError(
            "the value starting here nests lists or objects more deeply than Python's JSON "
            f"parser can follow (about {sys.getrecursionlimit():,} levels)",
            line=line,
            column=column,
        )

    def _too_long(self, error: ValueError) -> JsonLimitError:
        # Python refuses int() of more than sys.get_int_max_str_digits() digits
        # (CVE-2020-10735); its message names the count, from which the literal is found.
        digits = re.search(r"value has (\d+) digits", str(error))
        limit = sys.get_int_max_str_digits()
        pos = self._pos
        if digits:
            literal = re.compile(rf"(?<![\d.])-?\d{{{digits[1]}}}(?![\d.eE])")
            found = literal.search(self._buffer, self._pos)
            pos = found.start() if found else pos
        line, column = self._place(pos)
        count = f"{int(digits[1]):,} digits" if digits else "too many digits"
        return JsonLimitError(
            f"an integer with {count}, more than Python reads ({limit:,}); "
            "fix or remove that number",
            line=line,
            column=column,
        )

    def _error(self, message: str, pos: int) -> JsonSyntaxError:
        line, column = self._place(pos)
        truncated = self._at_eof and pos >= len(self._buffer.rstrip())
        return JsonSyntaxError(message, line=line, column=column, truncated=truncated)

    def _place(self, pos: int) -> tuple[int, int]:
        # (line, column) in the whole document of the buffer's position `pos`.
        line_start = self._buffer.rfind("\n", 0, pos)
        if line_start < 0:
            column = self._column_dropped + pos + 1
        else:
            column = pos - line_start
        line = self._lines_dropped + self._buffer.count("\n", 0, pos) + 1
        return line, column
