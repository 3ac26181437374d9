"""read_file, write_file and list_dir inside the root: values, windows, caps, clear errors."""

from __future__ import annotations

import asyncio
import os
import re

from mcp_servers.workbench.files import READ_CAP_BYTES, SCAN_CAP_BYTES


async def test_tools_are_listed_with_truthful_annotations(workbench, box):
    async with workbench(box) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}

    assert set(tools) == {"bash_exec", "read_file", "write_file", "list_dir"}
    assert tools["read_file"].annotations.read_only_hint is True
    assert tools["list_dir"].annotations.read_only_hint is True
    assert tools["write_file"].annotations.read_only_hint is False
    assert tools["write_file"].annotations.destructive_hint is True
    assert tools["bash_exec"].annotations.destructive_hint is True
    assert tools["bash_exec"].annotations.open_world_hint is True
    assert all(len(tool.description) > 40 for tool in tools.values())


async def test_server_reports_its_name(workbench, box):
    async with workbench(box) as session:
        result = await session.initialize()

    assert result.server_info.name == "workbench"


async def test_read_file_window_by_lines(workbench, box, text):
    (box / "n.txt").write_text("".join(f"line{i}\n" for i in range(10)))

    async with workbench(box) as session:
        window = await session.call_tool("read_file", {"path": "n.txt", "offset": 2, "limit": 3})
        tail = await session.call_tool("read_file", {"path": "n.txt", "offset": 8})
        past = await session.call_tool("read_file", {"path": "n.txt", "offset": 11})

    assert window.structured_content == {
        "path": "n.txt",
        "content": "line2\nline3\nline4\n",
        "offset": 2,
        "lines": 3,
        "total_lines": None,
        "next_offset": 5,
        "truncated": False,
    }
    assert "offset=5" in text(window)
    assert tail.structured_content["content"] == "line8\nline9\n"
    assert tail.structured_content["total_lines"] == 10
    assert tail.structured_content["next_offset"] is None
    assert past.is_error and "past the end" in text(past)


async def test_read_file_caps_huge_files(workbench, box):
    line = "x" * 1023 + "\n"
    (box / "big.txt").write_text(line * 1024)  # 1 MiB

    async with workbench(box) as session:
        first = await session.call_tool("read_file", {"path": "big.txt"})

    lines_per_call = READ_CAP_BYTES // len(line)
    assert first.structured_content["lines"] == lines_per_call
    assert first.structured_content["truncated"] is True
    assert first.structured_content["next_offset"] == lines_per_call
    assert len(first.structured_content["content"]) == READ_CAP_BYTES


async def test_read_file_cuts_a_single_huge_line(workbench, box):
    (box / "one_line.txt").write_text("é" * READ_CAP_BYTES + "\nsecond\n")

    async with workbench(box) as session:
        first = await session.call_tool("read_file", {"path": "one_line.txt"})
        second = await session.call_tool("read_file", {"path": "one_line.txt", "offset": 1})

    content = first.structured_content["content"]
    assert content.startswith("é" * (READ_CAP_BYTES // 2))
    assert "line cut at" in content
    assert first.structured_content["next_offset"] == 1
    assert second.structured_content["content"] == "second\n"


async def test_read_file_clear_errors(workbench, box, text):
    (box / "blob.bin").write_bytes(b"\x89PNG\r\n\x00\x00\x00binary")
    (box / "latin1.txt").write_bytes("café\n".encode("latin-1"))
    (box / "sub").mkdir()

    async with workbench(box) as session:
        binary = await session.call_tool("read_file", {"path": "blob.bin"})
        latin1 = await session.call_tool("read_file", {"path": "latin1.txt"})
        directory = await session.call_tool("read_file", {"path": "sub"})
        missing = await session.call_tool("read_file", {"path": "nope.txt"})
        bad_limit = await session.call_tool("read_file", {"path": "latin1.txt", "limit": 0})

    assert binary.is_error and "binary" in text(binary)
    assert latin1.is_error and "not UTF-8" in text(latin1)
    assert directory.is_error and "is a directory" in text(directory)
    assert missing.is_error and "nope.txt does not exist" in text(missing)
    assert bad_limit.is_error and "limit must be >= 1" in text(bad_limit)


async def test_write_file_creates_parents_and_replaces(workbench, box, text):
    async with workbench(box) as session:
        created = await session.call_tool(
            "write_file", {"path": "out/deep/answer.sql", "content": "SELECT 1;\n"}
        )
        replaced = await session.call_tool(
            "write_file", {"path": "out/deep/answer.sql", "content": "SELECT 2;\n"}
        )
        onto_dir = await session.call_tool("write_file", {"path": "out", "content": "x"})

    assert created.structured_content == {
        "path": "out/deep/answer.sql",
        "bytes_written": 10,
        "created": True,
    }
    assert replaced.structured_content["created"] is False
    assert (box / "out" / "deep" / "answer.sql").read_text() == "SELECT 2;\n"
    assert onto_dir.is_error and "is a directory" in text(onto_dir)
    # The atomic write leaves no temporary files behind.
    assert sorted(p.name for p in (box / "out" / "deep").iterdir()) == ["answer.sql"]


async def test_write_file_keeps_unicode(workbench, box):
    async with workbench(box) as session:
        await session.call_tool("write_file", {"path": "u.txt", "content": "naïve — ✓\n"})
        back = await session.call_tool("read_file", {"path": "u.txt"})

    assert (box / "u.txt").read_bytes() == "naïve — ✓\n".encode()
    assert back.structured_content["content"] == "naïve — ✓\n"


async def test_list_dir_entries_with_type_and_size(workbench, box, text):
    (box / "b.txt").write_text("12345")
    (box / "a_dir").mkdir()
    (box / "c_link").symlink_to("b.txt")

    async with workbench(box) as session:
        listed = await session.call_tool("list_dir", {})
        not_dir = await session.call_tool("list_dir", {"path": "b.txt"})

    assert listed.structured_content == {
        "path": ".",
        "entries": [
            {"name": "a_dir", "type": "dir", "size": None},
            {"name": "b.txt", "type": "file", "size": 5},
            {"name": "c_link", "type": "symlink", "size": None},
        ],
        "truncated": False,
    }
    assert "b.txt  (5 bytes)" in text(listed)
    assert not_dir.is_error and "not a directory" in text(not_dir)


def _error(result) -> str:
    """The tool's own message, without the SDK's "Error executing tool NAME: " prefix."""
    (block,) = result.content
    return re.sub(r"^Error executing tool \w+: ", "", block.text)


def _lines_file(path, count: int) -> list[bytes]:
    """`count` lines of varied lengths (1 to 97 bytes), so chunk edges fall mid-line."""
    lines = [b"%d:" % i + b"y" * (i * 7 % 90) + b"\n" for i in range(count)]
    path.write_bytes(b"".join(lines))
    return lines


async def test_read_file_deep_offsets_count_lines_exactly(workbench, box, text):
    lines = _lines_file(box / "many.txt", 60_000)  # about 2.9 MB: several skip chunks
    (box / "no_newline.txt").write_bytes(b"a\nb\nlast")

    async with workbench(box) as session:
        windows = {
            offset: await session.call_tool(
                "read_file", {"path": "many.txt", "offset": offset, "limit": 3}
            )
            for offset in (21_640, 43_281, 59_998)
        }
        past = await session.call_tool("read_file", {"path": "many.txt", "offset": 10**12})
        last = await session.call_tool("read_file", {"path": "no_newline.txt", "offset": 2})
        at_end = await session.call_tool("read_file", {"path": "no_newline.txt", "offset": 3})

    for offset, window in windows.items():
        assert window.structured_content["content"] == b"".join(lines[offset : offset + 3]).decode()
    assert windows[59_998].structured_content["total_lines"] == 60_000
    assert past.is_error
    assert _error(past) == f"offset {10**12} is past the end of many.txt (60000 lines)"
    assert (text(last), last.structured_content["total_lines"]) == ("last", 3)
    assert (at_end.structured_content["content"], at_end.structured_content["lines"]) == ("", 0)


async def test_read_file_a_short_line_file_of_50_mb_answers_at_once(workbench, box, text):
    """41 s before lines were skipped in chunks (the tester's 100 MB took 41 s)."""
    (box / "short.txt").write_bytes(b"ab\n" * (50 * 2**20 // 3))

    async with workbench(box) as session:
        past = await session.call_tool("read_file", {"path": "short.txt", "offset": 10**12})
        tail = await session.call_tool(
            "read_file", {"path": "short.txt", "offset": 50 * 2**20 // 3 - 1}
        )

    assert _error(past) == f"offset {10**12} is past the end of short.txt ({50 * 2**20 // 3} lines)"
    assert tail.structured_content["content"] == "ab\n"


async def test_read_file_stops_scanning_at_the_cap_and_others_answer_meanwhile(
    workbench, box, text
):
    """A deep offset in a huge (sparse) file: a clear answer, and no stalled server."""
    huge = box / "huge.log"
    huge.write_bytes(b"header\n" * 2000)
    os.truncate(huge, SCAN_CAP_BYTES + 2**30)  # sparse: no disk used

    async with workbench(box) as session:
        deep = asyncio.create_task(
            session.call_tool("read_file", {"path": "huge.log", "offset": 10**12})
        )
        quick = await session.call_tool("bash_exec", {"cmd": "echo quick"})
        answered_first = not deep.done()
        deep_result = await deep

    assert quick.structured_content["stdout"] == "quick\n"
    assert answered_first
    assert deep_result.is_error
    assert _error(deep_result) == (
        f"offset {10**12} lies beyond the first 256 MiB of huge.log, as far as read_file "
        f"looks; use bash_exec for deep offsets, e.g. `tail -n +{10**12 + 1} huge.log | head "
        "-n 200`"
    )


async def test_a_symlink_loop_is_named_as_such(workbench, box, text):
    (box / "a").symlink_to("b")
    (box / "b").symlink_to("a")

    async with workbench(box) as session:
        results = [
            await session.call_tool("read_file", {"path": "a"}),
            await session.call_tool("read_file", {"path": "a/inside.txt"}),
            await session.call_tool("write_file", {"path": "b/new.txt", "content": "x"}),
            await session.call_tool("list_dir", {"path": "a"}),
        ]

    assert [result.is_error for result in results] == [True] * 4
    assert [_error(result).split(":")[0] for result in results] == [
        "symlink loop at 'a'",
        "symlink loop at 'a/inside.txt'",
        "symlink loop at 'b/new.txt'",
        "symlink loop at 'a'",
    ]
