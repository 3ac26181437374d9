"""A simulated conversation as the spans of its trace, in the order things happened.

Assistant turns become `llm` spans whose input is what the agent saw since its
previous turn (the first one includes the system policy); each tool call becomes
a `tool` span holding the arguments and the result that answered it; user turns
become `task` spans named "user" so the simulated customer is visible too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ingest.model import Message, ToolCall

SpanType = Literal["llm", "tool", "task"]


@dataclass
class TurnSpan:
    """One span to log under a simulation's row."""

    name: str
    type: SpanType
    input: Any = None
    output: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


def conversation_spans(
    messages: list[Message], *, agent_model: str, user_model: str
) -> list[TurnSpan]:
    """The spans for `messages`; tool calls left unanswered get a span with no result."""
    spans: list[TurnSpan] = []
    seen_by_agent: list[dict[str, Any]] = []
    open_calls: list[tuple[ToolCall, str]] = []

    for message in messages:
        if message.role == "assistant":
            spans.append(_assistant_span(message, seen_by_agent, agent_model))
            seen_by_agent = []
            open_calls.extend((call, "assistant") for call in message.tool_calls)
            continue

        seen_by_agent.append(_chat_message(message))
        if message.role == "user":
            spans.append(_user_span(message, user_model))
            open_calls.extend((call, "user") for call in message.tool_calls)
        elif message.role == "tool":
            spans.append(_tool_span(message, _take_call(open_calls, message)))

    spans.extend(_tool_span(None, (call, requestor)) for call, requestor in open_calls)
    return spans


def _assistant_span(message: Message, seen: list[dict[str, Any]], model: str) -> TurnSpan:
    metrics = {}
    if message.cost is not None:
        metrics["estimated_cost"] = message.cost
    usage = message.usage or {}
    for ours, theirs in (
        ("prompt_tokens", "prompt_tokens"),
        ("completion_tokens", "completion_tokens"),
    ):
        if isinstance(usage.get(theirs), int | float):
            metrics[ours] = usage[theirs]

    return TurnSpan(
        name="assistant",
        type="llm",
        input=seen,
        output=_chat_message(message),
        metadata={"model": model},
        metrics=metrics,
    )


def _user_span(message: Message, model: str) -> TurnSpan:
    output: Any = message.content
    if message.tool_calls:
        output = _chat_message(message)
    return TurnSpan(name="user", type="task", output=output, metadata={"model": model})


def _tool_span(result: Message | None, call: tuple[ToolCall, str] | None) -> TurnSpan:
    tool_call, requestor = call if call else (None, None)
    name = (tool_call.name if tool_call else None) or (result.name if result else None) or "tool"
    metadata: dict[str, Any] = {"requestor": (result and result.requestor) or requestor}
    if tool_call and tool_call.id:
        metadata["tool_call_id"] = tool_call.id
    if result is None:
        metadata["result"] = "missing: the conversation ended before the tool answered"
    elif result.error:
        metadata["error"] = True

    return TurnSpan(
        name=name,
        type="tool",
        input=tool_call.arguments if tool_call else None,
        output=result.content if result else None,
        metadata=metadata,
    )


def _take_call(open_calls: list[tuple[ToolCall, str]], result: Message):
    # Match by call id, but fall back to call order: real files reuse ids across turns.
    for index, (call, _) in enumerate(open_calls):
        if result.tool_call_id and call.id == result.tool_call_id:
            return open_calls.pop(index)
    return open_calls.pop(0) if open_calls else None


def _chat_message(message: Message) -> dict[str, Any]:
    chat: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        chat["tool_calls"] = [
            {"id": call.id, "name": call.name, "arguments": call.arguments}
            for call in message.tool_calls
        ]
    if message.role == "tool" and message.tool_call_id:
        chat["tool_call_id"] = message.tool_call_id
    return chat
