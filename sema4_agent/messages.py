"""Turning the Claude Agent SDK's message stream into an `AgentRun`'s steps, usage and errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from claude_agent_sdk import (
    AssistantMessage,
    ResultMessage,
    SystemMessage,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
)

from sema4_agent.run import AgentError, AgentRun, Step, Usage


class WorkbenchNotConnected(Exception):
    """The CLI started without the workbench server connected or without its tools."""


class MessageCollector:
    """Feeds each SDK message into the run it describes.

    A tool step opens when the model's tool_use arrives and closes when its tool_result
    comes back, so `duration_s` is the time the tool took as seen from the harness.
    """

    def __init__(
        self, run: AgentRun, *, server_name: str, on_progress: Callable[[str], None]
    ) -> None:
        self.run = run
        self.server_name = server_name
        self.tool_prefix = f"mcp__{server_name}__"
        self.progress = on_progress
        self._open_steps: dict[str, tuple[Step, float]] = {}
        self._last_text: str | None = None
        self._turns = 0
        self._last_message_id: str | None = None
        self._result: ResultMessage | None = None

    def add(self, message: Any) -> None:
        if isinstance(message, SystemMessage):
            self._add_system(message)
        elif isinstance(message, AssistantMessage):
            self._add_assistant(message)
        elif isinstance(message, UserMessage):
            self._add_user(message)
        elif isinstance(message, ResultMessage):
            self._result = message

    def finish(self) -> None:
        """Fill in usage, cost, the final answer and the run's error from the result."""
        run, result = self.run, self._result
        run.answer = (result.result if result and result.result else None) or self._last_text
        run.num_turns = result.num_turns if result else self._turns
        if result is not None and result.subtype == "error_max_turns":
            # The CLI then counts the turn it refused to start (max_turns=1 reports 2), so
            # the model turns seen here are the true count.
            run.num_turns = self._turns
        if result is None:
            if run.error is None:
                run.error = AgentError("model_error", "the agent ended without a result")
            return

        run.session_id = result.session_id
        run.cost_usd = result.total_cost_usd
        run.usage = _usage(result.usage or {})
        if run.error is None:
            run.error = _result_error(result, model_turns=self._turns)

    def _add_system(self, message: SystemMessage) -> None:
        if message.subtype == "init":
            self._check_init(message.data)
        elif message.subtype == "api_retry":
            data = message.data
            status = data.get("error_status") or data.get("error") or "error"
            delay_s = (data.get("retry_delay_ms") or 0) / 1000
            self.progress(
                f"API error {status}; retry {data.get('attempt')} of "
                f"{data.get('max_retries')} in {delay_s:.1f} s"
            )

    def _check_init(self, data: dict[str, Any]) -> None:
        self.run.session_id = data.get("session_id")
        # The model Claude Code resolved (an alias or no model at all becomes a full id).
        self.run.model = data.get("model") or self.run.model
        servers = {s.get("name"): s.get("status") for s in data.get("mcp_servers", [])}
        status = servers.get(self.server_name)
        if status != "connected":
            raise WorkbenchNotConnected(
                f"the {self.server_name} MCP server did not connect (status: "
                f"{status or 'not listed'}); check that `python -m mcp_servers.workbench` starts"
            )

        tools = [t for t in data.get("tools", []) if t.startswith(self.tool_prefix)]
        if not tools:
            raise WorkbenchNotConnected(
                f"the {self.server_name} MCP server connected but offered no tools"
            )
        self.progress(f"{self.server_name} connected with {len(tools)} tools")

    def _add_assistant(self, message: AssistantMessage) -> None:
        if message.parent_tool_use_id is not None or message.error is not None:
            return
        # Claude Code sends each content block of a response as its own message, all with
        # the response's id: a new id is a new model turn.
        if message.message_id is None or message.message_id != self._last_message_id:
            self._turns += 1
            self._last_message_id = message.message_id
            self.progress(f"model turn {self._turns}")
        for block in message.content:
            if isinstance(block, TextBlock) and block.text.strip():
                self._last_text = block.text
            elif isinstance(block, ToolUseBlock):
                step = Step(
                    tool=block.name.removeprefix(self.tool_prefix),
                    input=dict(block.input),
                    output="",
                    is_error=False,
                )
                self._open_steps[block.id] = (step, time.monotonic())
                self.run.steps.append(step)
                self.progress(f"calling {step.tool}")

    def _add_user(self, message: UserMessage) -> None:
        if not isinstance(message.content, list):
            return
        for block in message.content:
            if isinstance(block, ToolResultBlock) and block.tool_use_id in self._open_steps:
                step, started = self._open_steps.pop(block.tool_use_id)
                step.output = _result_text(block.content)
                step.is_error = bool(block.is_error)
                step.duration_s = time.monotonic() - started


def _result_text(content: str | list[dict[str, Any]] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(str(part.get("text", part)) for part in content)


def _usage(usage: dict[str, Any]) -> Usage:
    return Usage(
        input_tokens=usage.get("input_tokens") or 0,
        output_tokens=usage.get("output_tokens") or 0,
        cache_creation_input_tokens=usage.get("cache_creation_input_tokens") or 0,
        cache_read_input_tokens=usage.get("cache_read_input_tokens") or 0,
    )


def _result_error(result: ResultMessage, *, model_turns: int) -> AgentError | None:
    if result.subtype == "error_max_turns":
        turns = f"{model_turns} model turn{'' if model_turns == 1 else 's'}"
        return AgentError("max_turns", f"stopped at the turn limit after {turns}, unfinished")
    if not result.is_error:
        return None

    detail = result.result or "; ".join(result.errors or []) or result.subtype
    if result.api_error_status:
        detail = f"API error {result.api_error_status}: {detail}"
    return AgentError("model_error", detail)
