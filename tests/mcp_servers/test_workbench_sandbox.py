"""Every path rule of the sandbox, through read_file, write_file and list_dir alike."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REFUSAL = "outside the workbench root"


def _tree(path: Path) -> list[str]:
    """Everything under `path`, as sorted relative names, to prove nothing was created."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A sibling of the root whose name starts with the root's name: box_evil."""
    evil = tmp_path / "box_evil"
    evil.mkdir()
    (evil / "secret.txt").write_text("top secret\n")
    return evil


def _escapes(box: Path, outside: Path) -> dict[str, str]:
    """Named paths that must all be refused, after setting up the symlinks they need."""
    (box / "link_out").symlink_to(outside, target_is_directory=True)
    (box / "secret_link.txt").symlink_to(outside / "secret.txt")
    return {
        "dotdot": "../box_evil/secret.txt",
        "dotdot_deep": "sub/../../box_evil/secret.txt",
        "absolute": str(outside / "secret.txt"),
        "sibling_prefix": str(box) + "_evil/secret.txt",
        "symlinked_file": "secret_link.txt",
        "below_symlinked_dir": "link_out/secret.txt",
    }


ESCAPE_NAMES = [
    "dotdot",
    "dotdot_deep",
    "absolute",
    "sibling_prefix",
    "symlinked_file",
    "below_symlinked_dir",
]


@pytest.mark.parametrize("name", ESCAPE_NAMES)
async def test_read_file_refuses_escape(workbench, box, outside, text, name):
    path = _escapes(box, outside)[name]

    async with workbench(box) as session:
        result = await session.call_tool("read_file", {"path": path})

    assert result.is_error
    assert REFUSAL in text(result)
    assert "top secret" not in text(result)


@pytest.mark.parametrize("name", ESCAPE_NAMES)
async def test_write_file_refuses_escape(workbench, box, outside, text, name):
    path = _escapes(box, outside)[name]
    before = _tree(outside)

    async with workbench(box) as session:
        result = await session.call_tool("write_file", {"path": path, "content": "pwned\n"})

    assert result.is_error
    assert REFUSAL in text(result)
    assert _tree(outside) == before
    assert (outside / "secret.txt").read_text() == "top secret\n"


@pytest.mark.parametrize(
    "path",
    ["link_out/new_dir/new.txt", "link_out/new.txt", "dangling/new.txt", "dangling_file"],
)
async def test_write_file_refuses_new_file_below_symlink_out(workbench, box, outside, text, path):
    """Resolving a path that does not exist yet must still follow the symlinks on it."""
    (box / "link_out").symlink_to(outside, target_is_directory=True)
    (box / "dangling").symlink_to(outside / "not_yet", target_is_directory=True)
    (box / "dangling_file").symlink_to(outside / "not_yet.txt")
    before = _tree(outside)

    async with workbench(box) as session:
        result = await session.call_tool("write_file", {"path": path, "content": "pwned\n"})

    assert result.is_error
    assert REFUSAL in text(result)
    assert _tree(outside) == before == ["secret.txt"]


@pytest.mark.parametrize("path", ["..", "../box_evil", "link_out", "/"])
async def test_list_dir_refuses_escape(workbench, box, outside, text, path):
    _escapes(box, outside)

    async with workbench(box) as session:
        result = await session.call_tool("list_dir", {"path": path})

    assert result.is_error
    assert REFUSAL in text(result)
    assert "secret.txt" not in text(result)


async def test_symlink_inside_root_keeps_working(workbench, box, text):
    (box / "data").mkdir()
    (box / "data" / "notes.txt").write_text("inside\n")
    (box / "alias").symlink_to(box / "data", target_is_directory=True)
    (box / "notes_link.txt").symlink_to("data/notes.txt")

    async with workbench(box) as session:
        read_via_dir = await session.call_tool("read_file", {"path": "alias/notes.txt"})
        read_via_file = await session.call_tool("read_file", {"path": "notes_link.txt"})
        listed = await session.call_tool("list_dir", {"path": "alias"})
        written = await session.call_tool(
            "write_file", {"path": "alias/new.txt", "content": "via link\n"}
        )

    assert not read_via_dir.is_error and text(read_via_dir) == "inside\n"
    assert not read_via_file.is_error and text(read_via_file) == "inside\n"
    assert [e["name"] for e in listed.structured_content["entries"]] == ["notes.txt"]
    assert not written.is_error
    assert written.structured_content["path"] == "data/new.txt"
    assert (box / "data" / "new.txt").read_text() == "via link\n"


async def test_absolute_path_inside_root_is_allowed(workbench, box):
    (box / "a.txt").write_text("A\n")

    async with workbench(box) as session:
        result = await session.call_tool("read_file", {"path": str(box / "a.txt")})

    assert not result.is_error
    assert result.structured_content["content"] == "A\n"


async def test_root_given_through_a_symlink_is_resolved(workbench, tmp_path, text):
    real = tmp_path / "real_root"
    real.mkdir()
    (real / "f.txt").write_text("hello\n")
    alias = tmp_path / "alias_root"
    alias.symlink_to(real, target_is_directory=True)

    async with workbench(alias) as session:
        result = await session.call_tool("read_file", {"path": "f.txt"})
        escape = await session.call_tool("read_file", {"path": os.fspath(tmp_path)})

    assert text(result) == "hello\n"
    assert escape.is_error and REFUSAL in text(escape)
