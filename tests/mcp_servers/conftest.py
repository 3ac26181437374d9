"""Spawn the real workbench server and talk to it with the real mcp client over stdio."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import CallToolResult


@asynccontextmanager
async def open_workbench(
    root: Path, *options: str, env: dict[str, str] | None = None
) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_servers.workbench", "--root", str(root), *options],
        env=env,
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@pytest.fixture
def workbench():
    """`async with workbench(root, *options, env=...) as session:` opens a live server."""
    return open_workbench


@pytest.fixture
def box(tmp_path: Path) -> Path:
    """The server's root; siblings under tmp_path count as outside it."""
    root = tmp_path / "box"
    root.mkdir()
    return root


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


@pytest.fixture
def text():
    return text_of
