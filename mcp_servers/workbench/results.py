"""Structured tool results (sent as structuredContent) and their text for a model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class BashResult(BaseModel):
    """What bash_exec returns."""

    exit_code: int | None = Field(description="bash's exit status; null when it timed out")
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool
    truncated: bool = Field(description="true when stdout or stderr was cut at the cap")
    stdout_bytes: int = Field(description="bytes the command wrote to stdout, kept or not")
    stderr_bytes: int
    note: str | None = None

    def to_text(self, cap_bytes: int) -> str:
        status = "timed out" if self.timed_out else f"exit code {self.exit_code}"
        parts = [f"[{status}, {self.duration_s:.3f} s]"]
        for name, text, total in (
            ("stdout", self.stdout, self.stdout_bytes),
            ("stderr", self.stderr, self.stderr_bytes),
        ):
            if total == 0:
                continue
            parts.append(f"--- {name} ---\n{text.rstrip(chr(10))}")
            if total > cap_bytes:
                parts.append(
                    f"[{name} truncated: showing the first {cap_bytes} of {total} bytes; "
                    "redirect to a file and read it in parts]"
                )
        if self.stdout_bytes == 0 and self.stderr_bytes == 0:
            parts.append("(no output)")
        if self.note:
            parts.append(f"[{self.note}]")
        return "\n".join(parts)


class FileContent(BaseModel):
    """What read_file returns."""

    path: str = Field(description="path relative to the root")
    content: str
    offset: int = Field(description="index of the first line returned (0-based)")
    lines: int = Field(description="number of lines returned")
    total_lines: int | None = Field(description="lines in the file; null if not read to the end")
    next_offset: int | None = Field(description="offset to pass to read the rest; null at EOF")
    truncated: bool = Field(description="true when the size cap stopped the read early")

    def to_text(self) -> str:
        if self.next_offset is None:
            return self.content
        why = "size cap reached" if self.truncated else "limit reached"
        return (
            f"{self.content}\n[{why}: returned lines {self.offset}-"
            f"{self.offset + self.lines - 1}; call read_file with offset={self.next_offset} "
            "for more]"
        )


class WriteReceipt(BaseModel):
    """What write_file returns."""

    path: str = Field(description="path relative to the root")
    bytes_written: int
    created: bool = Field(description="false when an existing file was replaced")

    def to_text(self) -> str:
        verb = "created" if self.created else "replaced"
        return f"{verb} {self.path} ({self.bytes_written} bytes)"


class DirEntry(BaseModel):
    name: str
    type: Literal["file", "dir", "symlink", "other"]
    size: int | None = Field(description="bytes, for files")


class DirListing(BaseModel):
    """What list_dir returns."""

    path: str = Field(description="path relative to the root")
    entries: list[DirEntry]
    truncated: bool = Field(description="true when the entry cap cut the listing")

    def to_text(self) -> str:
        if not self.entries:
            return f"{self.path}: empty directory"
        lines = [f"{self.path}:"]
        for entry in self.entries:
            if entry.type == "dir":
                lines.append(f"  {entry.name}/")
            elif entry.type == "file":
                lines.append(f"  {entry.name}  ({entry.size} bytes)")
            else:
                lines.append(f"  {entry.name}  [{entry.type}]")
        if self.truncated:
            lines.append(f"[listing truncated at {len(self.entries)} entries]")
        return "\n".join(lines)
