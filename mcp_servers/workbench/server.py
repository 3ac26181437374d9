"""The workbench MCP server: four tools over one root directory."""

from __future__ import annotations

import inspect
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from mcp_servers.workbench import files, shell
from mcp_servers.workbench.results import BashResult
from mcp_servers.workbench.sandbox import OutsideRootError, SymlinkLoopError

logger = logging.getLogger(__name__)

SERVER_NAME = "workbench"

_INSTRUCTIONS = (
    "A working directory (the root) with a bash shell and file tools. Relative paths start "
    "at the root; paths that resolve outside it are refused."
)


@dataclass
class WorkbenchConfig:
    """Everything the tools need to know, fixed at start-up."""

    root: Path
    bash_timeout_s: float = 30.0
    isolate_prefix: list[str] | None = None
    child_env: dict[str, str] = field(default_factory=dict)


def build_server(config: WorkbenchConfig) -> MCPServer:
    """An MCPServer named `workbench` with bash_exec, read_file, write_file and list_dir."""
    server = MCPServer(SERVER_NAME, instructions=_INSTRUCTIONS, log_level="WARNING")
    root = config.root

    @_tool(
        server,
        ToolAnnotations(
            title="Run a bash command",
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=False,
            open_world_hint=config.isolate_prefix is None,
        ),
    )
    async def bash_exec(cmd: str, timeout_s: float | None = None) -> CallToolResult:
        """Run a command with bash in the workbench root and return its exit code and output.

        The command runs non-interactively (stdin is closed) with a minimal environment.
        stdout and stderr are each capped at 64 KiB; redirect big output to a file and
        read it with read_file. `timeout_s` defaults to the server's limit; on timeout the
        command and everything it started are killed.
        """
        limit = config.bash_timeout_s if timeout_s is None else timeout_s
        if limit <= 0:
            raise ToolError("timeout_s must be a positive number of seconds")

        outcome = await shell.run_command(
            cmd,
            root=root,
            timeout_s=limit,
            env=config.child_env,
            prefix=config.isolate_prefix,
        )
        result = BashResult(**vars(outcome))
        return _structured(result, result.to_text(shell.OUTPUT_CAP_BYTES))

    @_tool(server, ToolAnnotations(title="Read a text file", read_only_hint=True))
    async def read_file(path: str, offset: int = 0, limit: int | None = None) -> CallToolResult:
        """Read a UTF-8 text file inside the root, optionally a window of its lines.

        `offset` is the 0-based index of the first line to return and `limit` the number
        of lines (all by default). At most 256 KiB is returned per call; when more remains
        the result says which offset to ask for next. Binary and non-UTF-8 files are
        refused with an error; use bash_exec for those.
        """
        result = await _file_tool(files.read_text, root, path, offset, limit)
        return _structured(result, result.to_text())

    @_tool(
        server,
        ToolAnnotations(
            title="Write a text file",
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=True,
            open_world_hint=False,
        ),
    )
    async def write_file(path: str, content: str) -> CallToolResult:
        """Create or replace a text file inside the root with `content` (UTF-8).

        Missing parent directories are created. An existing file is replaced whole.
        """
        result = await _file_tool(files.write_text, root, path, content)
        return _structured(result, result.to_text())

    @_tool(server, ToolAnnotations(title="List a directory", read_only_hint=True))
    async def list_dir(path: str = ".") -> CallToolResult:
        """List a directory inside the root: each entry's name, type and size in bytes.

        `path` defaults to the root itself. Symlinks are shown as such, not followed.
        """
        result = await _file_tool(files.list_entries, root, path)
        return _structured(result, result.to_text())

    return server


def _tool(server: MCPServer, annotations: ToolAnnotations):
    """Register a tool whose docstring, dedented, is the description a model reads."""

    def register(fn):
        server.add_tool(fn, description=inspect.cleandoc(fn.__doc__), annotations=annotations)
        return fn

    return register


async def _file_tool(action, *args):
    """Run a file action in a worker thread, turning expected failures into tool errors.

    In a thread so a slow disk or a big file never holds up other calls or bash timeouts;
    abandoned on cancellation so a server whose client has gone can exit at once.
    """
    try:
        return await anyio.to_thread.run_sync(action, *args, abandon_on_cancel=True)
    except (OutsideRootError, SymlinkLoopError, files.FileToolError) as exc:
        raise ToolError(str(exc)) from exc
    except OSError as exc:
        raise ToolError(f"{exc.strerror or exc} ({_relative(exc.filename)})") from exc


def _relative(filename: object) -> str:
    return os.path.basename(str(filename)) if filename else "no path"


def _structured(result, text: str) -> CallToolResult:
    """Readable text for the model plus the same facts as structuredContent for programs.

    No outputSchema is declared: the Python client validates structuredContent against
    one with jsonschema on every call, which costs more than list_dir itself (about 1.7
    ms of 3 ms for a 21-entry listing, measured with bench/bench_workbench.py).
    """
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=result.model_dump(mode="json"),
    )
