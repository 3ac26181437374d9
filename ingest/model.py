"""What ingest reads out of a results file, independent of the benchmark version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Benchmark = Literal["tau-bench", "tau2-bench"]
Role = Literal["system", "user", "assistant", "tool"]


# slots: a 100 MB results file holds about 150,000 messages.
@dataclass(slots=True)
class ToolCall:
    """One tool call a participant asked for."""

    id: str
    name: str
    arguments: Any


@dataclass(slots=True)
class Message:
    """One message of a simulated conversation, normalised across tau-bench versions."""

    role: str
    content: str | None = None
    # A tuple: most messages have no calls, and every empty tuple is the same object.
    tool_calls: tuple[ToolCall, ...] = ()
    # For tool results: the call answered, the tool's name (v1 only), who asked.
    tool_call_id: str | None = None
    name: str | None = None
    requestor: str | None = None
    error: bool = False
    cost: float | None = None
    usage: dict[str, Any] | None = None


@dataclass
class Task:
    """A benchmark task: what the simulated user wants and how success is judged."""

    id: str
    scenario: Any = None
    criteria: Any = None
    description: Any = None


@dataclass
class Simulation:
    """One trial of one task."""

    task_id: str
    trial: int
    reward: float | None
    place: str
    id: str | None = None
    termination_reason: str | None = None
    agent_cost: float | None = None
    user_cost: float | None = None
    duration: float | None = None
    start_time: float | None = None
    messages: list[Message] = field(default_factory=list)
    reward_details: Any = None


@dataclass
class Run:
    """Everything one input (file or tau2 directory) holds: one experiment's worth."""

    source: str
    benchmark: Benchmark
    domain: str
    agent_model: str
    user_model: str
    tasks: dict[str, Task]
    simulations: list[Simulation]

    @property
    def default_name(self) -> str:
        """Experiment name when the user gives none: agent model, domain, user model."""
        name = f"{self.agent_model} · {self.benchmark} {self.domain}"
        return name if self.user_model == "unknown" else f"{name} · user {self.user_model}"
