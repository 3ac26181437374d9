"""A scripted fake of the Anthropic Messages API, for driving the real Claude Code CLI offline.

The bundled Claude Code CLI talks to whatever `ANTHROPIC_BASE_URL` names, so pointing it at
this server runs the whole agent stack (SDK, CLI, MCP server, harness) without a model. What
the "model" says is decided by a *policy*: a function from the request the CLI sent to the
next assistant turn (text and/or tool calls) or to an API error.

    with FakeAnthropic(sql_policy("SELECT 1")) as fake:
        run = run_question_sync("q", env={"ANTHROPIC_BASE_URL": fake.url, ...})

Policies look only at the request (how many assistant turns it holds, the question, the last
tool result), so one server can serve concurrent runs. Requests without tools are the CLI's
side calls (titles, topic checks); they get a short canned reply and never reach the policy.

Run standalone for subprocesses (e.g. `braintrust eval`):

    python -m sema4_agent.testing.fake_anthropic --policy gold --port 0 --latency-ms 200
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sema4_agent.workspace import DB_FILENAME

logger = logging.getLogger(__name__)

DEFAULT_TASKS = Path(__file__).resolve().parents[2] / "evals" / "sql_tasks.jsonl"
SIDE_CALL_TEXT = "SQL question"


# --- What a policy sees ------------------------------------------------------------------


@dataclass
class ModelRequest:
    """One Messages API request the CLI sent, as the policy sees it."""

    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    @property
    def model(self) -> str:
        return self.body.get("model", "")

    @property
    def system(self) -> str:
        system = self.body.get("system", "")
        if isinstance(system, list):
            return "\n".join(block.get("text", "") for block in system)
        return system

    @property
    def tool_names(self) -> list[str]:
        return [tool.get("name", "") for tool in self.body.get("tools", [])]

    @property
    def turn_index(self) -> int:
        """How many assistant turns the conversation already holds."""
        return sum(1 for message in self.messages if message.get("role") == "assistant")

    @property
    def user_texts(self) -> list[str]:
        """Every text block of the first user message (the CLI may add reminder blocks)."""
        for message in self.messages:
            if message.get("role") == "user":
                return _texts(message.get("content"))
        return []

    @property
    def last_tool_results(self) -> list[tuple[str, bool]]:
        """(output, is_error) of each tool result in the latest user message."""
        if not self.messages or self.messages[-1].get("role") != "user":
            return []
        content = self.messages[-1].get("content")
        if not isinstance(content, list):
            return []
        return [
            ("\n".join(_texts(block.get("content"))), bool(block.get("is_error")))
            for block in content
            if isinstance(block, dict) and block.get("type") == "tool_result"
        ]

    def resolve_tool(self, short_name: str) -> str:
        """The full tool name the CLI offered (e.g. mcp__workbench__write_file) for a short one."""
        for name in self.tool_names:
            if name == short_name or name.endswith(f"__{short_name}"):
                return name
        raise LookupError(f"no tool named {short_name!r} among {self.tool_names}")


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        return []
    return [block["text"] for block in content if isinstance(block, dict) and "text" in block]


# --- What a policy answers ---------------------------------------------------------------


@dataclass
class ToolCall:
    """A tool call by short name (write_file); the server maps it to the offered full name."""

    name: str
    input: dict[str, Any]


@dataclass
class Turn:
    """One assistant turn: optional text, then tool calls (stop_reason tool_use if any)."""

    text: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)


@dataclass
class ApiError:
    """An HTTP error answer, e.g. 529 overloaded or 500, to exercise the CLI's retries."""

    status: int
    error_type: str = "overloaded_error"
    message: str = "Overloaded"


Policy = Callable[[ModelRequest], Turn | ApiError]
TurnSpec = Turn | ApiError | Callable[[ModelRequest], Turn | ApiError]


def write_file(path: str, content: str) -> Turn:
    return Turn(tool_calls=[ToolCall("write_file", {"path": path, "content": content})])


def bash_exec(cmd: str) -> Turn:
    return Turn(tool_calls=[ToolCall("bash_exec", {"cmd": cmd})])


def say(text: str) -> Turn:
    return Turn(text=text)


RUN_ANSWER_SQL = f"sqlite3 -header -separator ' | ' {DB_FILENAME} < answer.sql"


def scripted(turns: Sequence[TurnSpec], *, final_text: str = "Done.") -> Policy:
    """Answer the n-th assistant turn of every conversation with `turns[n]`."""

    def policy(request: ModelRequest) -> Turn | ApiError:
        index = request.turn_index
        if index >= len(turns):
            return say(final_text)
        spec = turns[index]
        return spec(request) if callable(spec) else spec

    return policy


def report_last_output(request: ModelRequest) -> Turn:
    """A final answer quoting the last tool output, as a model summarising its result would."""
    outputs = [output for output, _ in request.last_tool_results]
    return say("Here is the result:\n" + "\n".join(outputs))


def sql_turns(sql: str) -> list[TurnSpec]:
    """Write `sql` to answer.sql, then run it with sqlite3 through bash_exec."""
    return [write_file("answer.sql", sql), bash_exec(RUN_ANSWER_SQL)]


def sql_policy(sql: str, *, answer: str | None = None) -> Policy:
    """The well-behaved agent: write the query, run it, answer."""
    final: TurnSpec = say(answer) if answer is not None else report_last_output
    return scripted([*sql_turns(sql), final])


def fail_first(count: int, error: ApiError, then: Policy) -> Policy:
    """Answer the first `count` agent requests with `error`, then defer to `then`."""
    lock = threading.Lock()
    remaining = [count]

    def policy(request: ModelRequest) -> Turn | ApiError:
        with lock:
            if remaining[0] > 0:
                remaining[0] -= 1
                return error
        return then(request)

    return policy


def load_gold_sql(path: Path = DEFAULT_TASKS) -> dict[str, str]:
    """question -> gold_sql from an eval task file (JSON lines with question and gold_sql)."""
    tasks = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {task["question"].strip(): task["gold_sql"] for task in tasks}


def gold_policy(path: Path = DEFAULT_TASKS) -> Policy:
    """Answer every known eval question with its gold SQL; unknown questions get no SQL."""
    gold = load_gold_sql(path)

    def policy(request: ModelRequest) -> Turn | ApiError:
        sql = _find_gold(gold, request.user_texts)
        if sql is None:
            return say("I do not know how to answer that question.")
        return sql_policy(sql)(request)

    return policy


def _find_gold(gold: dict[str, str], texts: list[str]) -> str | None:
    for text in texts:
        if text.strip() in gold:
            return gold[text.strip()]
    for question, sql in gold.items():
        if any(question in text for text in texts):
            return sql
    # A question asked without the task's column instructions ("Which customers exceeded
    # their plan's data limit last month?") still finds its task, if only one starts so.
    for text in (t.strip() for t in texts):
        starting = [sql for question, sql in gold.items() if text and question.startswith(text)]
        if len(starting) == 1:
            return starting[0]
    return None


def wrong_policy() -> Policy:
    """A confidently wrong agent: valid SQL whose rows never match a real answer."""
    return sql_policy("SELECT 'wrong' AS answer;", answer="The answer is: wrong.")


POLICIES: dict[str, Callable[[], Policy]] = {"gold": gold_policy, "wrong": wrong_policy}


# --- Rendering turns as Messages API responses ------------------------------------------


def _content_blocks(turn: Turn, request: ModelRequest, ids: itertools.count) -> list[dict]:
    blocks: list[dict[str, Any]] = []
    if turn.text:
        blocks.append({"type": "text", "text": turn.text})
    for call in turn.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": f"toolu_fake{next(ids):06d}",
                "name": request.resolve_tool(call.name),
                "input": call.input,
            }
        )
    return blocks


def _message(request: ModelRequest, blocks: list[dict], message_id: str) -> dict[str, Any]:
    is_tool_use = any(block["type"] == "tool_use" for block in blocks)
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": request.model or "fake-model",
        "content": blocks,
        "stop_reason": "tool_use" if is_tool_use else "end_turn",
        "stop_sequence": None,
        "usage": {
            # Rough but deterministic: about four characters per token.
            "input_tokens": max(1, len(json.dumps(request.body)) // 4),
            "output_tokens": max(1, len(json.dumps(blocks)) // 4),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def _sse_events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    start = {**message, "content": [], "stop_reason": None}
    start["usage"] = {**message["usage"], "output_tokens": 1}
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start})
    ]
    for index, block in enumerate(message["content"]):
        events.extend(_block_events(index, block))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _block_events(index: int, block: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if block["type"] == "text":
        start = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": block["text"]}
    else:
        start = {**block, "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    return [
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        ),
        ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}),
        ("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]


def _side_call_block(body: dict[str, Any]) -> dict[str, Any]:
    """A short reply to a side call; JSON when it asks for a JSON schema (session titles)."""
    output_format = (body.get("output_config") or {}).get("format") or {}
    if output_format.get("type") != "json_schema":
        return {"type": "text", "text": SIDE_CALL_TEXT}
    properties = output_format.get("schema", {}).get("properties", {})
    return {"type": "text", "text": json.dumps({name: SIDE_CALL_TEXT for name in properties})}


# --- The server --------------------------------------------------------------------------


class FakeAnthropic:
    """The fake Messages API on 127.0.0.1, served from a background thread.

    `requests` records every agent request (those offering tools) in arrival order;
    `paths` records the method and path of every HTTP request, side calls included.
    """

    def __init__(self, policy: Policy, *, latency_s: float = 0.0, port: int = 0) -> None:
        self.policy = policy
        self.latency_s = latency_s
        self.requests: list[ModelRequest] = []
        self.paths: list[tuple[str, str]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeAnthropic:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-anthropic", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self, policy: Policy | None = None) -> None:
        """Forget recorded requests, optionally switching policy (for a shared fixture)."""
        with self._lock:
            self.requests.clear()
            self.paths.clear()
            if policy is not None:
                self.policy = policy

    def env(self) -> dict[str, str]:
        """The variables that point Claude Code at this server."""
        return {"ANTHROPIC_BASE_URL": self.url, "ANTHROPIC_API_KEY": "sk-ant-fake-key"}

    def _record(self, method: str, path: str, request: ModelRequest | None) -> None:
        with self._lock:
            self.paths.append((method, path))
            if request is not None:
                self.requests.append(request)

    def _answer(self, request: ModelRequest) -> tuple[int, dict[str, Any]]:
        """(status, message or error body) for one /v1/messages request."""
        if self.latency_s:
            time.sleep(self.latency_s)  # the fake model's "thinking" time, for benchmarks
        if not request.tool_names:
            return 200, _message(request, [_side_call_block(request.body)], self._id())
        try:
            turn = self.policy(request)
            if isinstance(turn, ApiError):
                error = {"type": turn.error_type, "message": turn.message}
                return turn.status, {"type": "error", "error": error}
            return 200, _message(request, _content_blocks(turn, request, self._ids), self._id())
        except Exception as exc:  # a broken policy must show up in the test, not hang it
            logger.exception("fake policy failed")
            error = {"type": "invalid_request_error", "message": f"fake policy failed: {exc}"}
            return 400, {"type": "error", "error": error}

    def _id(self) -> str:
        return f"msg_fake{next(self._ids):06d}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    @property
    def fake(self) -> FakeAnthropic:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_HEAD(self) -> None:
        self.fake._record("HEAD", self.path, None)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.fake._record("GET", self.path, None)
        self._send_json(
            404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}}
        )

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        path = self.path.split("?", 1)[0]
        request = ModelRequest(body)

        if path.endswith("/v1/messages/count_tokens"):
            self.fake._record("POST", path, None)
            self._send_json(200, {"input_tokens": max(1, len(json.dumps(body)) // 4)})
            return
        if not path.endswith("/v1/messages"):
            self.fake._record("POST", path, None)
            self._send_json(
                404, {"type": "error", "error": {"type": "not_found_error", "message": path}}
            )
            return

        self.fake._record("POST", path, request if request.tool_names else None)
        status, answer = self.fake._answer(request)
        if status == 200 and body.get("stream"):
            self._send_sse(_sse_events(answer))
        else:
            self._send_json(status, answer)

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", "req_fake")
        self.end_headers()
        self.wfile.write(data)

    def _send_sse(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        data = "".join(
            f"event: {name}\ndata: {json.dumps(payload)}\n\n" for name, payload in events
        )
        encoded = data.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Length", str(len(encoded)))
        self.send_header("request-id", "req_fake")
        self.end_headers()
        self.wfile.write(encoded)


# --- Standalone use ----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sema4_agent.testing.fake_anthropic",
        description="Serve a scripted fake Anthropic Messages API; print its URL on stdout.",
    )
    parser.add_argument("--policy", choices=sorted(POLICIES), default="gold")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay per response")
    parser.add_argument("--tasks", type=Path, default=DEFAULT_TASKS, help="gold task file")
    args = parser.parse_args(argv)

    policy = gold_policy(args.tasks) if args.policy == "gold" else POLICIES[args.policy]()
    fake = FakeAnthropic(policy, latency_s=args.latency_ms / 1000, port=args.port)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with fake:
        print(fake.url, flush=True)
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    sys.exit(main())
