"""Conversation messages in either tau-bench dialect, read into `Message`s.

tau-bench (v1) stores OpenAI chat messages: tool calls carry `function.name` and
`function.arguments` as a JSON string, and tool results name the call in
`tool_call_id`. tau2-bench stores its own models: tool calls carry `name` and an
`arguments` object, results name the call in `id`, and several results may be
grouped into one `{"role": "tool", "tool_messages": [...]}`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ingest.errors import BadField
from ingest.fields import as_list, as_object, child, describe, optional_number, require
from ingest.model import Message, ToolCall


def read_messages(value: Any, place: str) -> list[Message]:
    """Every message in a conversation list; grouped tool results are flattened."""
    if value is None:
        return []

    messages: list[Message] = []
    for index, item in enumerate(as_list(value, place)):
        messages.extend(_read_message(item, child(place, index)))
    return messages


def _read_message(value: Any, place: str) -> list[Message]:
    obj = as_object(value, place)
    role = require(obj, "role", place)
    if not isinstance(role, str):
        raise BadField(child(place, "role"), f"expected text, got {describe(role)}")

    if role == "tool" and "tool_messages" in obj:
        grouped = as_list(obj["tool_messages"], child(place, "tool_messages"))
        return [
            message
            for index, item in enumerate(grouped)
            for message in _read_message(item, child(child(place, "tool_messages"), index))
        ]

    calls = obj.get("tool_calls") or []
    calls_place = child(place, "tool_calls")
    usage = obj.get("usage")
    name = obj.get("name")
    requestor = obj.get("requestor")
    # Roles, tool names and requestors repeat in every message; JSON parsing gives each
    # occurrence its own string, interning keeps one.
    return [
        Message(
            role=sys.intern(role),
            content=_read_content(obj.get("content")),
            tool_calls=tuple(
                _read_tool_call(call, child(calls_place, index))
                for index, call in enumerate(as_list(calls, calls_place))
            ),
            tool_call_id=_optional_id(obj.get("tool_call_id", obj.get("id"))),
            name=sys.intern(name) if isinstance(name, str) else None,
            requestor=sys.intern(requestor) if isinstance(requestor, str) else None,
            error=obj.get("error") is True,
            cost=optional_number(obj, "cost", place),
            usage=usage if isinstance(usage, dict) else None,
        )
    ]


def _read_tool_call(value: Any, place: str) -> ToolCall:
    obj = as_object(value, place)
    call_id = _optional_id(obj.get("id")) or ""

    # OpenAI shape (tau-bench v1): {"id", "type": "function", "function": {...}}.
    if "function" in obj:
        function = as_object(obj["function"], child(place, "function"))
        name = require(function, "name", child(place, "function"))
        arguments = _decode_arguments(function.get("arguments"))
    else:
        name = require(obj, "name", place)
        arguments = obj.get("arguments")

    if not isinstance(name, str):
        raise BadField(child(place, "name"), f"expected text, got {describe(name)}")
    return ToolCall(id=call_id, name=sys.intern(name), arguments=arguments)


def _decode_arguments(arguments: Any) -> Any:
    # Models sometimes emit arguments that are not valid JSON; keep those as text
    # so the trace shows exactly what the model sent.
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except json.JSONDecodeError:
            return arguments
    return arguments


def _read_content(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    # OpenAI content parts: keep the text parts, in order.
    if isinstance(content, list):
        texts = [part.get("text") for part in content if isinstance(part, dict)]
        return "\n".join(text for text in texts if isinstance(text, str))
    return json.dumps(content)


def _optional_id(value: Any) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    return None
