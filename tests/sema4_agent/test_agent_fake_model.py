"""The fake Messages API itself, as subprocesses (e.g. `braintrust eval`) use it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from sema4_agent.testing.fake_anthropic import DEFAULT_TASKS, load_gold_sql

TOOLS = [{"name": f"mcp__workbench__{t}", "input_schema": {}} for t in ("write_file", "bash_exec")]


@pytest.fixture
def gold_server():
    process = subprocess.Popen(
        [sys.executable, "-m", "sema4_agent.testing.fake_anthropic", "--policy", "gold"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/v1/messages",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_gold_policy_writes_the_gold_sql_under_the_offered_tool_name(gold_server):
    question, gold_sql = next(iter(load_gold_sql(DEFAULT_TASKS).items()))
    body = {"model": "m", "tools": TOOLS, "messages": [{"role": "user", "content": question}]}

    message = _post(gold_server, body)

    assert gold_server.startswith("http://127.0.0.1:")
    assert message["stop_reason"] == "tool_use"
    (block,) = message["content"]
    assert block["name"] == "mcp__workbench__write_file"
    assert block["input"] == {"path": "answer.sql", "content": gold_sql}


def test_side_calls_without_tools_get_json_when_asked(gold_server):
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "name this session"}],
        "output_config": {"format": {"type": "json_schema", "schema": schema}},
    }

    message = _post(gold_server, body)

    assert json.loads(message["content"][0]["text"]) == {"title": "SQL question"}


@pytest.mark.parametrize(
    ("asked", "answered"),
    [
        # The README's quickstart question: the task's text without its column instructions.
        ("Which customers exceeded their plan's data limit last month?", True),
        ("Which", False),  # starts several tasks' questions: no single match
        ("What is the meaning of life?", False),
    ],
)
def test_gold_policy_matches_a_question_that_starts_exactly_one_task(gold_server, asked, answered):
    tasks = load_gold_sql(DEFAULT_TASKS)
    expected = [sql for question, sql in tasks.items() if question.startswith(asked)]
    body = {"model": "m", "tools": TOOLS, "messages": [{"role": "user", "content": asked}]}

    message = _post(gold_server, body)

    if answered:
        assert message["content"][0]["input"]["content"] == expected[0]
    else:
        assert message["stop_reason"] == "end_turn"
        assert message["content"][0]["text"] == "I do not know how to answer that question."
