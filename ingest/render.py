"""What ingest shows: rich tables per experiment, side-by-side comparisons, the --json shape."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from ingest.summary import Summary, compare_tasks

SHOWN_CHANGES = 10


def json_report(summaries: list[Summary]) -> dict[str, Any]:
    """The `--json` object: one entry per experiment, keys exactly as documented."""
    return {
        "experiments": [
            {
                "name": s.name,
                "model": s.run.agent_model,
                "user_model": s.run.user_model,
                "domain": s.run.domain,
                "num_tasks": len(s.tasks),
                "num_simulations": s.num_simulations,
                "num_trials": s.num_trials,
                "avg_reward": s.avg_reward,
                "pass_hat_k": {str(k): v for k, v in s.pass_hat_k.items()},
                "pass_at_k": {str(k): v for k, v in s.pass_at_k.items()},
                "tasks_without_reward": s.tasks_without_reward,
            }
            for s in summaries
        ]
    }


def print_summary(console: Console, summary: Summary) -> None:
    """Headline figures and the pass^k / pass@k table for one experiment."""
    run = summary.run
    console.print(f"\n[bold]{summary.name}[/bold]  [dim]{run.source}[/dim]")

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim")
    facts.add_column()
    facts.add_row("benchmark", f"{run.benchmark} · domain {run.domain}")
    facts.add_row("models", f"agent {run.agent_model} · user {run.user_model}")
    facts.add_row("tasks", str(len(summary.tasks)))
    facts.add_row("simulations", str(summary.num_simulations))
    facts.add_row("trials per task", _trials_text(summary))
    facts.add_row("mean reward", _figure(summary.avg_reward))
    facts.add_row("mean agent cost", _money(summary.mean_agent_cost))
    facts.add_row("mean duration", _seconds(summary.mean_duration))
    facts.add_row("terminations", _terminations(summary))
    if summary.simulations_without_reward:
        facts.add_row(
            "without reward",
            f"[yellow]{plural(summary.simulations_without_reward, 'simulation')}, not scored "
            f"(tasks {', '.join(summary.tasks_without_reward)})[/yellow]",
        )
    console.print(facts)
    console.print(_pass_table(summary))


def _pass_table(summary: Summary) -> Table:
    varied = len(set(summary.tasks_per_k.values())) > 1
    table = Table(title=None, show_edge=False, pad_edge=False)
    table.add_column("k", justify="right")
    table.add_column("pass^k", justify="right")
    table.add_column("pass@k", justify="right")
    if varied:
        table.add_column("tasks with ≥ k trials", justify="right")
    for k, value in summary.pass_hat_k.items():
        row = [str(k), _figure(value), _figure(summary.pass_at_k[k])]
        if varied:
            row.append(str(summary.tasks_per_k[k]))
        table.add_row(*row)
    return table


def print_comparisons(console: Console, summaries: list[Summary]) -> None:
    """Side by side for each benchmark domain with two or more experiments."""
    groups: dict[tuple[str, str], list[Summary]] = {}
    for summary in summaries:
        groups.setdefault((summary.run.benchmark, summary.run.domain), []).append(summary)

    for (benchmark, domain), group in groups.items():
        if len(group) < 2:
            continue
        console.print(f"\n[bold]Side by side: {benchmark} {domain}[/bold]")
        console.print(_side_by_side(group))
        baseline = group[0]
        for other in group[1:]:
            _print_changes(console, baseline, other)


def _side_by_side(group: list[Summary]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("")
    for summary in group:
        table.add_column(summary.name, justify="right")

    table.add_row("tasks", *(str(len(s.tasks)) for s in group))
    table.add_row("simulations", *(str(s.num_simulations) for s in group))
    table.add_row("trials per task", *(_trials_text(s) for s in group))
    table.add_row("mean reward", *(_figure(s.avg_reward) for s in group))
    max_k = max(len(s.pass_hat_k) for s in group)
    for k in range(1, max_k + 1):
        table.add_row(f"pass^{k}", *(_covered(s, k, s.pass_hat_k) for s in group))
    for k in range(1, max_k + 1):
        table.add_row(f"pass@{k}", *(_covered(s, k, s.pass_at_k) for s in group))
    return table


def _covered(summary: Summary, k: int, figures: dict[int, float]) -> str:
    # pass^k averages only the tasks with at least k scored trials; say so when that
    # is not all of them, as the single-run table's extra column does.
    text = _figure(figures.get(k))
    tasks, scored = summary.tasks_per_k.get(k, 0), summary.tasks_per_k.get(1, 0)
    return f"{text} ({tasks} of {scored} tasks)" if 0 < tasks < scored else text


def _print_changes(console: Console, baseline: Summary, other: Summary) -> None:
    regressed, improved = compare_tasks(baseline, other)
    for title, changes, colour in (
        ("Regressed", regressed, "red"),
        ("Improved", improved, "green"),
    ):
        console.print(
            f"\n[{colour}]{title}[/{colour}] by pass^1, {baseline.name} → {other.name}: "
            f"{len(changes)} task{'s' if len(changes) != 1 else ''}"
        )
        for change in changes[:SHOWN_CHANGES]:
            console.print(
                f"  task {change.task_id:>6}  {change.before:.2f} → {change.after:.2f}"
                f"  ({change.delta:+.2f})"
            )
        if len(changes) > SHOWN_CHANGES:
            console.print(f"  … and {len(changes) - SHOWN_CHANGES} more")


def plural(count: int, noun: str) -> str:
    """`1 task`, `2 tasks`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _trials_text(summary: Summary) -> str:
    counts = summary.trial_counts
    if len(counts) == 1:
        return str(next(iter(counts)))
    detail = ", ".join(f"{tasks} tasks × {n}" for n, tasks in sorted(counts.items()))
    return f"{min(counts)}–{max(counts)} ({detail})"


def _terminations(summary: Summary) -> str:
    return ", ".join(
        f"{reason} {count}" for reason, count in summary.termination_reasons.most_common()
    )


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _money(value: float | None) -> str:
    return "–" if value is None else f"${value:.4f}"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"
