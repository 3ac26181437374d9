"""How the CLI shows a run to a person: answer, SQL, result table, steps, cost, link."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from sema4_agent.run import AgentRun, Step

MAX_ROWS_SHOWN = 20
MAX_OUTPUT_CHARS = 160


def render_run(console: Console, run: AgentRun, *, stored: bool = True) -> None:
    """Print the whole run: what the model said, its SQL, the rows, and how it got there.

    `stored=False` leaves out the `show` hint: there is nothing to show again.
    """
    if run.answer:
        console.print(Panel(run.answer.strip(), title="Answer", title_align="left"))
    if run.sql:
        console.print(
            Panel(Syntax(run.sql, "sql", word_wrap=True), title="answer.sql", title_align="left")
        )
    if run.columns:
        console.print(Text(row_count_line(run.rows), style="bold"))
        console.print(result_table(run.columns, run.rows))
    if run.steps:
        console.print(step_tree(run.steps))
    console.print(summary_line(run, stored=stored))


def row_count_line(rows: list[list[Any]]) -> str:
    line = f"Result: {_plural(len(rows), 'row')}"
    if len(rows) > MAX_ROWS_SHOWN:
        line += f", first {MAX_ROWS_SHOWN} shown"
    return line


def result_table(columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table()
    for column in columns:
        table.add_column(column)
    for row in rows[:MAX_ROWS_SHOWN]:
        table.add_row(*("NULL" if value is None else str(value) for value in row))
    return table


def step_tree(steps: list[Step]) -> Tree:
    tree = Tree("Steps")
    for number, step in enumerate(steps, start=1):
        took = f"{step.duration_s * 1000:.0f} ms" if step.duration_s is not None else "?"
        mark = "[red]✗[/red]" if step.is_error or _failed_command(step) else "[green]✓[/green]"
        node = tree.add(f"{mark} {number}. [bold]{step.tool}[/bold] ({took})")
        node.add(Text(_shorten(_describe_input(step)), style="dim"))
        if step.output:
            node.add(Text(_shorten(step.output), style="dim"))
    return tree


def summary_line(run: AgentRun, *, stored: bool = True) -> Text:
    usage = run.usage
    cost = f"${run.cost_usd:.4f}" if run.cost_usd is not None else "cost unknown"
    parts = [
        run.model or "model unknown",
        _plural(run.num_turns, "turn"),
        f"{usage.input_tokens:,} in / {usage.output_tokens:,} out tokens",
        f"cache {usage.cache_read_input_tokens:,} read",
        cost,
        f"{run.duration_s:.1f} s",
    ]
    line = " · ".join(parts)
    if run.trace_url:
        line += f"\ntrace: {run.trace_url}"
    if run.workspace:
        line += f"\nworkspace kept: {run.workspace}"
    if run.run_id and stored:
        line += f"\nrun {run.run_id} (python -m sema4_agent show {run.run_id})"
    return Text(line, style="dim")


def runs_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Recent runs", title_justify="left")
    for column in ("run", "when (UTC)", "question", "result", "turns", "time", "cost"):
        table.add_column(column)
    for row in rows:
        result = row["error_code"] or _plural(row["row_count"] or 0, "row")
        cost = f"${row['cost_usd']:.4f}" if row["cost_usd"] is not None else ""
        table.add_row(
            row["run_id"],
            (row["created_at"] or "")[:19].replace("T", " "),
            _shorten(row["question"], 60),
            result,
            str(row["num_turns"] or 0),
            f"{row['duration_s'] or 0:.1f} s",
            cost,
        )
    return table


def error_panel(run: AgentRun) -> Group:
    assert run.error is not None
    return Group(Text(f"Error: {run.error.code}: {run.error.message}", style="bold red"))


def _describe_input(step: Step) -> str:
    if step.tool == "bash_exec" and "cmd" in step.input:
        return f"$ {step.input['cmd']}"
    if step.tool == "write_file" and "path" in step.input:
        return f"{step.input['path']}: {step.input.get('content', '')}"
    return json.dumps(step.input)


def _failed_command(step: Step) -> bool:
    """bash_exec reports a non-zero exit as a normal result; show it as a failure anyway."""
    try:
        result = json.loads(step.output)
    except ValueError:
        return False
    return isinstance(result, dict) and result.get("exit_code") not in (None, 0)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _shorten(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
