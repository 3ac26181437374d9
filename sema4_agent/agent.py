"""`run_question`: one business question in, one `AgentRun` out.

The Claude Agent SDK spawns the bundled Claude Code CLI with no built-in tools and one MCP
server, the workbench, rooted at a fresh per-run workspace that holds a copy of the
database. The model saves its final query as answer.sql; the harness runs that file
read-only against the source database and fills the run's columns and rows itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sema4_agent import isolation
from sema4_agent.config import NO_CREDENTIALS_MESSAGE, cli_env, default_model, has_model_access
from sema4_agent.messages import MessageCollector, WorkbenchNotConnected
from sema4_agent.run import AgentError, AgentRun
from sema4_agent.tracing import trace_run
from sema4_agent.workspace import (
    ANSWER_FILENAME,
    DB_FILENAME,
    UnreadableAnswer,
    check_database,
    copy_database,
    read_answer_sql,
)

logger = logging.getLogger(__name__)

# Never "workspace": Claude Code silently drops an MCP server registered under that name.
SERVER_NAME = "workbench"
WORKBENCH_TOOLS = ("bash_exec", "read_file", "write_file", "list_dir")
ALLOWED_TOOLS = [f"mcp__{SERVER_NAME}__{tool}" for tool in WORKBENCH_TOOLS]

ProgressCallback = Callable[[str], None]


def workbench_command(workspace: Path) -> list[str]:
    """The command line that starts the workbench MCP server rooted at `workspace`.

    Isolated under bubblewrap whenever it works here; see `sema4_agent.isolation`.
    """
    return isolation.workbench_command(workspace)


async def run_question(
    question: str,
    *,
    model: str | None = None,
    db: str | Path | None = None,
    max_turns: int = 20,
    system_prompt: str | None = None,
    max_retries: int | None = None,
    keep_workspace: bool = False,
    on_progress: ProgressCallback | None = None,
) -> AgentRun:
    """Answer `question` with the SQL agent and return everything the run produced.

    Agent failures (no credentials, model errors, no or failing answer.sql, ...) never
    raise: they come back as `AgentRun.error`. `db` defaults to the demo database; the
    source file is only ever read. `max_retries` caps the CLI's retries on API errors
    (CLAUDE_CODE_MAX_RETRIES). Safe to call concurrently.

    Raises:
        sema4_agent.InvalidDatabase: `db` is missing, a directory, not SQLite, damaged,
            or has no tables. That is the caller's mistake, not an agent failure, so it is
            checked before anything starts.
        sema4_agent.isolation.IsolationUnavailable: SEMA4_ISOLATE=1 but bubblewrap cannot
            isolate commands here, or SEMA4_ISOLATE is not 0 or 1.
    """
    started = time.monotonic()
    progress = on_progress or (lambda _message: None)
    db_path = _resolve_db(db)
    run = AgentRun(
        question=question,
        model=model or default_model(),
        db=str(db_path),
        run_id=uuid.uuid4().hex[:12],
    )

    if not has_model_access():
        run.error = AgentError("no_credentials", NO_CREDENTIALS_MESSAGE)
        run.duration_s = time.monotonic() - started
        return run

    isolation.should_isolate()  # SEMA4_ISOLATE=1 without bubblewrap: raise before starting
    run_dir = Path(tempfile.mkdtemp(prefix="sema4-run-"))
    workspace = run_dir / "workspace"
    try:
        progress("preparing the workspace")
        workspace.mkdir()
        copy_database(db_path, workspace / DB_FILENAME)
        prompt = system_prompt or _default_system_prompt(db_path)

        with trace_run(question) as trace:
            await _drive_agent(run, workspace, run_dir, prompt, max_turns, max_retries, progress)
            _collect_answer(run, workspace, db_path, progress)
            trace.log_run(run)
    finally:
        if keep_workspace:
            run.workspace = str(workspace)
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
        run.duration_s = time.monotonic() - started

    return run


def run_question_sync(question: str, **kwargs: Any) -> AgentRun:
    """`run_question` for callers without an event loop (same keyword arguments)."""
    return asyncio.run(run_question(question, **kwargs))


def _resolve_db(db: str | Path | None) -> Path:
    if db is None:
        from sema4_agent.demo_db import demo_db_path

        return demo_db_path().resolve()
    path = Path(db).expanduser().resolve()
    check_database(path)
    return path


def _default_system_prompt(db_path: Path) -> str:
    from sema4_agent.prompt import system_prompt_for

    return system_prompt_for(db_path)


async def _drive_agent(
    run: AgentRun,
    workspace: Path,
    run_dir: Path,
    system_prompt: str,
    max_turns: int,
    max_retries: int | None,
    progress: ProgressCallback,
) -> None:
    """Run the SDK's message loop, recording steps, usage and errors on `run`."""
    import claude_agent_sdk

    config_dir = run_dir / "claude-config"
    config_dir.mkdir()
    cli_stderr: deque[str] = deque(maxlen=20)
    command = workbench_command(workspace)
    env = cli_env(os.environ, config_dir=str(config_dir), max_retries=max_retries)
    options = claude_agent_sdk.ClaudeAgentOptions(
        system_prompt=system_prompt,
        model=run.model,
        cwd=str(workspace),
        tools=[],
        mcp_servers={
            SERVER_NAME: {
                "type": "stdio",
                "command": command[0],
                "args": command[1:],
                "env": isolation.workbench_env(env),
            }
        },
        strict_mcp_config=True,
        allowed_tools=ALLOWED_TOOLS,
        setting_sources=[],
        max_turns=max_turns,
        env=env,
        stderr=cli_stderr.append,
    )
    collector = MessageCollector(run, server_name=SERVER_NAME, on_progress=progress)

    progress("starting Claude Code")
    failure: AgentError | None = None
    try:
        # The client, not query(): leaving query()'s stream early leaves the CLI running
        # until garbage collection, while the client's exit always closes it. Looked up at
        # call time because Braintrust's integration replaces the class.
        async with claude_agent_sdk.ClaudeSDKClient(options=options) as client:
            await client.query(run.question)
            async for message in client.receive_response():
                collector.add(message)
    except WorkbenchNotConnected as exc:
        failure = AgentError("mcp_not_connected", str(exc))
    except Exception as exc:  # the CLI died or the SDK gave up: a model-side failure
        logger.debug("agent run failed", exc_info=True)
        detail = f"{exc}".strip() or type(exc).__name__
        if cli_stderr:
            detail += f" (CLI stderr: {cli_stderr[-1].strip()})"
        failure = AgentError("model_error", detail)

    # An error result (e.g. retries exhausted) explains a failure better than the SDK's
    # exception about the CLI's exit code, so the collector speaks first.
    run.error = failure if failure and failure.code == "mcp_not_connected" else None
    collector.finish()
    run.error = run.error or failure


def _collect_answer(
    run: AgentRun, workspace: Path, db_path: Path, progress: ProgressCallback
) -> None:
    """Read answer.sql back and execute it read-only against the source database."""
    from sema4_agent.sql_exec import SqlExecError, execute_readonly

    try:
        run.sql = read_answer_sql(workspace)
    except UnreadableAnswer as exc:
        run.error = run.error or AgentError("sql_error", str(exc))
        return
    if run.error is not None:
        return
    if run.sql is None:
        run.error = AgentError(
            "no_answer_sql", f"the model did not save a query as {ANSWER_FILENAME}"
        )
        return

    progress(f"running {ANSWER_FILENAME}")
    try:
        run.columns, run.rows = execute_readonly(db_path, run.sql)
    except SqlExecError as exc:
        run.error = AgentError("sql_error", f"{ANSWER_FILENAME} failed: {exc}")
