"""What one agent run produced: the record the CLI, evals, run store and Modal share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ErrorCode = Literal[
    "no_credentials",
    "model_error",
    "max_turns",
    "no_answer_sql",
    "sql_error",
    "mcp_not_connected",
]


@dataclass
class AgentError:
    """Why a run did not produce a trustworthy answer."""

    code: ErrorCode
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class Step:
    """One tool call the model made, with what the tool returned."""

    tool: str
    input: dict[str, Any]
    output: str
    is_error: bool
    duration_s: float | None = None


@dataclass
class Usage:
    """Token counts summed over every model turn of a run."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@dataclass
class AgentRun:
    """Everything a run of `run_question` produced, successful or not.

    `columns` and `rows` come from the harness executing `answer.sql` read-only
    after the run, never from the model's prose.
    """

    question: str
    model: str | None = None
    db: str | None = None
    answer: str | None = None
    sql: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    error: AgentError | None = None
    steps: list[Step] = field(default_factory=list)
    num_turns: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None
    duration_s: float = 0.0
    session_id: str | None = None
    workspace: str | None = None
    run_id: str | None = None
    trace_url: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
