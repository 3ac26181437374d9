"""The Braintrust span tree of a run, asserted offline with Braintrust's memory logger."""

from __future__ import annotations

import sys

import braintrust
import pytest
from braintrust import logger as bt_logger
from braintrust.test_helpers import init_test_logger, simulate_login, simulate_logout

from sema4_agent import run_question, tracing
from sema4_agent.testing.fake_anthropic import sql_policy

SQL = "SELECT name FROM plans ORDER BY monthly_price LIMIT 2"


@pytest.fixture
def memory_logger(monkeypatch):
    """Spans go to memory; the API key is set so the code takes its 'tracing on' path."""
    monkeypatch.setenv("BRAINTRUST_API_KEY", "test-key-never-sent")
    bt_logger._state.reset_parent_state()
    simulate_login()
    with bt_logger._internal_with_memory_background_logger() as background:
        init_test_logger("sema4-test")
        yield background
    simulate_logout()


def _by_id(spans):
    return {span["span_id"]: span for span in spans}


def _children(spans, parent):
    return [s for s in spans if parent["span_id"] in (s.get("span_parents") or [])]


def _name(span):
    return span["span_attributes"]["name"]


async def test_a_run_is_one_root_span_with_llm_and_tool_spans_below(fake_model, memory_logger):
    fake_model.reset(sql_policy(SQL, answer="Basic and Starter."))

    run = await run_question("Which two plans are cheapest?", max_retries=0)
    spans = memory_logger.pop()

    assert run.error is None
    roots = [s for s in spans if not s.get("span_parents")]
    assert [_name(s) for s in roots] == ["run_sql_gen_task"]
    root = roots[0]
    assert root["input"] == {"question": "Which two plans are cheapest?"}
    assert root["output"] == {"answer": "Basic and Starter.", "sql": SQL, "row_count": 2}
    assert root["metadata"]["turns"] == 3
    assert root["metadata"]["cost_usd"] == run.cost_usd
    assert run.trace_url and "sema4-test" in run.trace_url

    (agent_span,) = _children(spans, root)
    assert _name(agent_span) == "Claude Agent"
    below = [s for s in spans if s is not root and s is not agent_span]
    llm_spans = [s for s in below if s["span_attributes"]["type"] == "llm"]
    tool_spans = [s for s in below if s["span_attributes"]["type"] == "tool"]
    assert len(llm_spans) == 3
    assert [_name(s) for s in tool_spans] == ["write_file", "bash_exec"]
    assert tool_spans[0]["input"] == {"path": "answer.sql", "content": SQL}
    assert "Basic" in str(tool_spans[1]["output"])
    # Every span below the agent's task span descends from it, and so from the root.
    ids = _by_id(spans)
    for span in below:
        ancestors = set()
        parent = span
        while parent.get("span_parents"):
            parent = ids[parent["span_parents"][0]]
            ancestors.add(parent["span_id"])
        assert {root["span_id"], agent_span["span_id"]} <= ancestors


async def test_without_a_key_nothing_touches_braintrust(fake_model, monkeypatch):
    fake_model.reset(sql_policy(SQL))
    monkeypatch.delitem(sys.modules, "braintrust", raising=False)

    run = await run_question("q", max_retries=0)

    assert run.error is None and run.trace_url is None
    assert "braintrust" not in sys.modules
    assert not tracing.is_tracing_enabled()


def test_current_span_of_a_request_state_is_what_global_start_span_nests_under():
    # What Braintrust's remote-eval server does: a per-request state, logging to memory.
    from braintrust.logger import BraintrustState, _MemoryBackgroundLogger
    from braintrust.span_identifier_v3 import SpanObjectTypeV3
    from braintrust.span_identifier_v4 import SpanComponentsV4
    from braintrust.util import LazyValue

    request_log = _MemoryBackgroundLogger()
    request_state = BraintrustState()
    request_state._global_bg_logger = LazyValue(lambda: request_log, use_mutex=False)
    playground = SpanComponentsV4(
        object_type=SpanObjectTypeV3.PLAYGROUND_LOGS, object_id="session-1"
    ).to_str()
    row = braintrust.start_span(name="row", state=request_state, parent=playground)

    with tracing.current_span(row):
        assert braintrust.current_span() is row
        # How the Claude Agent SDK integration opens its spans: the global start_span.
        with braintrust.start_span(name="agent") as child:
            pass

    assert braintrust.current_span() is braintrust.NOOP_SPAN
    spans = {span["span_attributes"]["name"]: span for span in request_log.pop()}
    assert sorted(spans) == ["agent", "row"]
    assert spans["agent"]["span_parents"] == [row.span_id]
    assert child.state is request_state
