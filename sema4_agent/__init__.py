"""sema4-agent: a traced SQL agent on the Claude Agent SDK.

`run_question` and `run_question_sync` are imported on first use, so importing the package
(for `AgentRun`, the demo database or metrics) does not load the agent SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sema4_agent.run import AgentError, AgentRun, Step, Usage
from sema4_agent.workspace import InvalidDatabase

if TYPE_CHECKING:
    from sema4_agent.agent import run_question, run_question_sync

__all__ = [
    "AgentError",
    "AgentRun",
    "InvalidDatabase",
    "Step",
    "Usage",
    "run_question",
    "run_question_sync",
]


def __getattr__(name: str) -> Any:
    if name in ("run_question", "run_question_sync"):
        from sema4_agent import agent

        return getattr(agent, name)
    raise AttributeError(f"module 'sema4_agent' has no attribute {name!r}")
