"""One JSON document read piece by piece, so a large results file is never held whole.

A tau-bench file is one long list and a tau2-bench file an object whose
`simulations` list is nearly all of it. Walking those lists one element at a time
lets ingest model a simulation and drop its raw JSON before parsing the next,
instead of holding the file's text, its whole parsed tree and the model at once.
Each value is parsed by the standard library's decoder (`raw_decode`); this
module only steps over the brackets, commas and colons between values, and keeps
count of lines so an error still names its line and column in the file.

A value still being read stays in the buffer until it is complete, so long runs of
whitespace between its tokens are cut to one character as they arrive (inside
strings nothing is touched): a value padded with a gigabyte of spaces costs what
the value costs. The cut characters are remembered, so places stay exact.
"""

from __future__ import annotations

import json
import re
import sys
from array import array
from collections.abc import Iterator
from typing import Any, TextIO

CHUNK_CHARS = 1 << 18
# Runs of whitespace at least this long inside a value being read are cut to one char.
SQUEEZE_RUN = 256

_WHITESPACE = re.compile(r"[ \t\n\r]*")
# A string (closed, or open until the end of the buffer) or a long whitespace run:
# scanning with strings as whole tokens keeps runs inside strings out of reach.
_STRING_OR_RUN = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*(?:(?P<closed>")|\\?\Z)|[ \t\n\r]{' + str(SQUEEZE_RUN) + ",}",
    re.DOTALL,
)


class JsonSyntaxError(ValueError):
    """Bad or truncated JSON, with its place in the whole document (1-based)."""

    def __init__(
        self, message: str, *, line: int, column: int, truncated: bool, empty: bool = False
    ) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.message = message
        self.line = line
        self.column = column
        self.truncated = truncated
        self.empty = empty


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
        self._started = False  # anything but whitespace seen yet
        self._decoder = json.JSONDecoder()
        # Where the buffer starts in the document: lines and columns already dropped.
        self._lines_dropped = 0
        self._column_dropped = 0
        # Whitespace cut out of the buffer, as flat triples (index it was before, newlines,
        # tail), tail counting the characters after its last newline (all if none). An
        # array costs 24 bytes a cut run, a tenth of the shortest run cut.
        self._holes = array("q")
        # The buffer up to here has been scanned for runs to cut; it is outside strings.
        self._scanned = 0

    def peek(self) -> str:
        """The next character that is not whitespace, without taking it; "" at the end."""
        while True:
            self._pos = _WHITESPACE.match(self._buffer, self._pos).end()
            if self._pos < len(self._buffer) or self._at_eof:
                char = self._buffer[self._pos : self._pos + 1]
                self._started = self._started or bool(char)
                return char
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
                self._squeeze()
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
        line, column = self._place(self._pos)
        self._lines_dropped, self._column_dropped = line - 1, column - 1
        if self._pos:
            self._holes = _shift_holes(self._holes, self._pos)
        self._scanned = max(self._scanned - self._pos, 0)
        rest = self._buffer[self._pos :]

        chunk = self._text.read(max(CHUNK_CHARS, len(rest)))
        self._at_eof = not chunk
        self._buffer = rest + chunk
        self._pos = 0

    def _squeeze(self) -> None:
        # Cut long whitespace runs in the part of the unfinished value not scanned yet,
        # keeping each run's first character so that tokens stay apart.
        start = max(self._scanned, self._pos)
        scanned = len(self._buffer)
        pieces: list[str] = []
        kept_to = start
        removed = 0
        for match in _STRING_OR_RUN.finditer(self._buffer, start):
            if match[0][0] == '"':
                if match["closed"] is None:  # the buffer ends inside this string
                    scanned = match.start()
                    break
                continue
            pieces.append(self._buffer[kept_to : match.start() + 1])
            cut = match[0][1:]
            newlines = cut.count("\n")
            tail = len(cut) - cut.rfind("\n") - 1 if newlines else len(cut)
            self._holes.extend((match.start() + 1 - removed, newlines, tail))
            removed += len(cut)
            kept_to = match.end()

        self._scanned = scanned - removed
        if pieces:
            self._buffer = self._buffer[:start] + "".join(pieces) + self._buffer[kept_to:]

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
        # json reports an open string at its start; only the end of the text leaves it open.
        truncated = self._at_eof and (
            pos >= len(self._buffer.rstrip()) or message.startswith("Unterminated string")
        )
        empty = self._at_eof and not self._started
        return JsonSyntaxError(message, line=line, column=column, truncated=truncated, empty=empty)

    def _place(self, pos: int) -> tuple[int, int]:
        # (line, column) in the whole document of the buffer's position `pos`, counting
        # the whitespace cut out before it.
        line, column = self._lines_dropped + 1, self._column_dropped + 1
        cursor = 0
        for at in range(0, len(self._holes), 3):
            index, newlines, tail = self._holes[at : at + 3]
            if index > pos:
                break
            line, column = _advance(line, column, self._buffer, cursor, index)
            line, column = (line + newlines, tail + 1) if newlines else (line, column + tail)
            cursor = index
        return _advance(line, column, self._buffer, cursor, pos)


def _shift_holes(holes: array, dropped: int) -> array:
    """The holes after the first `dropped` characters, indexed from there."""
    kept = array("q")
    for at in range(0, len(holes), 3):
        if holes[at] > dropped:
            kept.extend((holes[at] - dropped, holes[at + 1], holes[at + 2]))
    return kept


def _advance(line: int, column: int, text: str, start: int, end: int) -> tuple[int, int]:
    """The place of `text[end]`, given that `text[start]` is at (line, column)."""
    newlines = text.count("\n", start, end)
    if not newlines:
        return line, column + end - start
    return line + newlines, end - text.rfind("\n", start, end)
