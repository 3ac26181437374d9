"""Braintrust tracing of agent runs: one `run_sql_gen_task` root span per question.

Under the root, Braintrust's Claude Agent SDK integration adds the agent's task span, one
LLM span per model turn and one span per tool call. Tracing is on when BRAINTRUST_API_KEY
is set, or when the caller already has a Braintrust span open (an Eval task, a test's
memory logger): then the run nests under it. Otherwise nothing here imports or calls
Braintrust at all, because its SDK logs tracebacks when it tries to flush without a key.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sema4_agent.run import AgentRun

logger = logging.getLogger(__name__)

ROOT_SPAN_NAME = "run_sql_gen_task"
DEFAULT_PROJECT = "sema4-demo"


def project_name() -> str:
    return os.environ.get("BRAINTRUST_PROJECT") or DEFAULT_PROJECT


def has_outer_span() -> bool:
    """Whether the caller runs inside an open Braintrust span (without importing Braintrust)."""
    if "braintrust" not in sys.modules:
        return False
    import braintrust

    return braintrust.current_span() is not braintrust.NOOP_SPAN


def is_tracing_enabled() -> bool:
    return bool(os.environ.get("BRAINTRUST_API_KEY")) or has_outer_span()


class RunTrace:
    """The root span of one run, or nothing when tracing is off."""

    def __init__(self, span: Any = None, *, is_root: bool = False) -> None:
        self.span = span
        self.is_root = is_root

    def log_run(self, run: AgentRun) -> None:
        """Record the run's outcome on the root span, and its link on the run."""
        if self.span is None:
            return

        self.span.log(
            output={"answer": run.answer, "sql": run.sql, "row_count": len(run.rows)},
            error=str(run.error) if run.error else None,
            metadata={
                "model": run.model,
                "turns": run.num_turns,
                "cost_usd": run.cost_usd,
                "error_code": run.error.code if run.error else None,
                "run_id": run.run_id,
            },
            metrics={
                "prompt_tokens": run.usage.input_tokens,
                "completion_tokens": run.usage.output_tokens,
            },
        )
        run.trace_url = self._url()

    def _url(self) -> str | None:
        try:
            link = self.span.link()
            if self.is_root and _is_placeholder(link) and os.environ.get("BRAINTRUST_API_KEY"):
                # The link needs the org name, which only a login tells (once per process).
                import braintrust

                braintrust.login()
                link = self.span.link()
        except Exception:  # a link is a nicety; never fail a run over it
            logger.debug("could not build a Braintrust link", exc_info=True)
            return None
        return None if _is_placeholder(link) else link


def _is_placeholder(link: str) -> bool:
    return "error-generating-link" in link or link.endswith("/noop-span")


@contextmanager
def trace_run(question: str) -> Iterator[RunTrace]:
    """Open the run's root span (if tracing is on) with the SDK integration installed."""
    if not is_tracing_enabled():
        yield RunTrace()
        return

    import braintrust
    from braintrust.wrappers.claude_agent_sdk import setup_claude_agent_sdk

    is_root = not has_outer_span()
    if is_root and braintrust.current_logger() is None:
        braintrust.init_logger(project=project_name())

    span = braintrust.start_span(name=ROOT_SPAN_NAME, type="task", input={"question": question})
    with current_span(span):
        # Patches claude_agent_sdk.query once; with a span current it inits no logger.
        setup_claude_agent_sdk()
        yield RunTrace(span, is_root=is_root)


@contextmanager
def current_span(span: Any) -> Iterator[Any]:
    """Enter `span` and make it the current span of Braintrust's global state too.

    Braintrust's remote-eval server (`braintrust eval --dev`, the Modal Playground
    endpoint) runs each request with its own logged-in state, and entering a span makes it
    current in its own state only. `braintrust.current_span()` and `braintrust.start_span()`,
    which the Claude Agent SDK integration calls, read the global state, so they would see
    no span, and the agent's trace would miss the Playground row. Spans started from this
    one inherit its state, so they log where it logs, through the request's login.
    """
    # Braintrust's own eval framework reaches the global state the same way.
    from braintrust.logger import _internal_get_global_state

    global_state = _internal_get_global_state()
    with span:
        if getattr(span, "state", global_state) is global_state:
            yield span
            return

        token = global_state.context_manager.set_current_span(span)
        try:
            yield span
        finally:
            global_state.context_manager.unset_current_span(token)


def flush() -> None:
    """Send pending spans (the CLI calls this before exiting)."""
    if "braintrust" in sys.modules and is_tracing_enabled():
        import braintrust

        braintrust.flush()
