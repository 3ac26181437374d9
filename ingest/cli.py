"""`sema4-ingest` / `python -m ingest`: tau-bench results into Braintrust and the terminal."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ingest.connection import BraintrustUnavailable, describe_failure
from ingest.connection import connect as braintrust_login
from ingest.errors import IngestError
from ingest.loading import load_runs
from ingest.model import Run
from ingest.render import json_report, plural, print_comparisons, print_summary
from ingest.summary import Summary, summarize
from ingest.upload import OpenDataset, OpenExperiment, default_dataset_name, upload
from ingest.upload import open_dataset as braintrust_dataset
from ingest.upload import open_experiment as braintrust_experiment

log = logging.getLogger(__name__)

DEFAULT_PROJECT = "sema4-demo"

EPILOG = """\
examples:
  python -m ingest example-traces/tau-bench-v1_gpt-4o_airline.json.gz
  python -m ingest run_a.json run_b.json --json
  python -m ingest results_dir/ --name "baseline=results_dir/" --project my-project

Without BRAINTRUST_API_KEY nothing is uploaded (as with --dry-run).
"""


class UsageError(Exception):
    """A command-line mistake: exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sema4-ingest",
        description=(
            "Ingest tau-bench / tau2-bench results: a Braintrust dataset of tasks, one "
            "experiment per input, pass^k and pass@k printed here."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="results file (.json or .json.gz) or tau2-bench results directory",
    )
    parser.add_argument(
        "--project",
        help=f"Braintrust project (default: $BRAINTRUST_PROJECT or {DEFAULT_PROJECT})",
    )
    parser.add_argument("--dataset", help='dataset name (default: "<benchmark> <domain> tasks")')
    parser.add_argument(
        "--name",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="experiment name for the input PATH (repeatable)",
    )
    parser.add_argument("--dry-run", action="store_true", help="read and report, upload nothing")
    parser.add_argument(
        "--json", action="store_true", help="print only a JSON summary object on stdout"
    )
    return parser


def main(
    argv: list[str] | None = None,
    *,
    open_dataset: OpenDataset = braintrust_dataset,
    open_experiment: OpenExperiment = braintrust_experiment,
    login: Callable[[], None] = braintrust_login,
) -> int:
    """Run the command; returns the exit status (0 ok, 1 bad input or upload, 2 usage)."""
    if argv is None:
        _load_dotenv()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    stderr = Console(stderr=True, highlight=False, soft_wrap=True)

    try:
        runs = load_runs(args.paths)
        names = experiment_names(runs, args.paths, args.name)
    except UsageError as e:
        parser.print_usage(sys.stderr)
        print(f"Error: {e}", file=sys.stderr)
        return 2
    except IngestError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1

    summaries = [summarize(run, name) for run, name in zip(runs, names, strict=True)]
    _warn_unscored(summaries)
    _report(summaries, as_json=args.json)

    project = args.project or os.environ.get("BRAINTRUST_PROJECT") or DEFAULT_PROJECT
    if not args.dry_run and not os.environ.get("BRAINTRUST_API_KEY"):
        stderr.print("BRAINTRUST_API_KEY is not set: dry run, nothing is uploaded.")
        args.dry_run = True
    if args.dry_run:
        _describe_dry_run(stderr, summaries, project, args.dataset)
        return 0

    try:
        login()
        uploaded = _upload_with_progress(
            summaries, project, args.dataset, stderr, open_dataset, open_experiment
        )
    except BraintrustUnavailable as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # the SDK raises many types; the user needs one line
        log.debug("upload failed", exc_info=True)
        print(f"Error: {describe_failure(e)}", file=sys.stderr)
        return 1

    # Plain print: a link wrapped by rich at the terminal width stops being clickable.
    links = sys.stderr if args.json else sys.stdout
    print(file=links)
    for item in uploaded:
        print(f"{item.name}: {item.rows} rows → {item.url or '(no link)'}", file=links)
    return 0


def experiment_names(runs: list[Run], paths: list[Path], overrides: list[str]) -> list[str]:
    """Each run's experiment name: its `--name NAME=PATH` or the default; all distinct."""
    by_path = {path.resolve(): index for index, path in enumerate(paths)}
    names = [run.default_name for run in runs]
    for item in overrides:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path:
            raise UsageError(f"--name takes NAME=PATH, got {item!r}")
        index = by_path.get(Path(path).resolve())
        if index is None:
            raise UsageError(f"--name {item!r}: {path} is not one of the inputs")
        names[index] = name.strip()

    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise UsageError(
                f"{paths[seen[name]]} and {paths[index]} would both be experiment {name!r}; "
                "give one of them --name NAME=PATH"
            )
        seen[name] = index
    return names


def _report(summaries: list[Summary], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(json_report(summaries), indent=2, ensure_ascii=False))
        return

    console = Console(highlight=False)
    for summary in summaries:
        print_summary(console, summary)
    print_comparisons(console, summaries)


def _warn_unscored(summaries: list[Summary]) -> None:
    for summary in summaries:
        count = summary.simulations_without_reward
        if count:
            tasks = summary.tasks_without_reward
            log.warning(
                "%s: %s no reward (%s %s); %s reported, not scored",
                summary.run.source,
                plural(count, "simulation") + (" carries" if count == 1 else " carry"),
                "task" if len(tasks) == 1 else "tasks",
                ", ".join(tasks),
                "it is" if count == 1 else "they are",
            )


def _describe_dry_run(
    stderr: Console, summaries: list[Summary], project: str, dataset: str | None
) -> None:
    for summary in summaries:
        stderr.print(
            f"Would upload to project {project!r}: {len(summary.run.tasks)} tasks to dataset "
            f"{dataset or default_dataset_name(summary.run)!r}, {summary.num_simulations} rows "
            f"to experiment {summary.name!r}."
        )


def _upload_with_progress(summaries, project, dataset, stderr, open_dataset, open_experiment):
    total = sum(summary.num_simulations for summary in summaries)
    columns = (TextColumn("uploading"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=stderr, disable=not stderr.is_terminal) as progress:
        bar = progress.add_task("upload", total=total)
        return upload(
            summaries,
            project=project,
            dataset_name=dataset,
            on_row=lambda: progress.advance(bar),
            open_dataset=open_dataset,
            open_experiment=open_experiment,
        )


def _load_dotenv() -> None:
    # Only for the real command line, from the current directory: tests call main()
    # with argv and must never pick up a developer's own keys.
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env")


if __name__ == "__main__":
    raise SystemExit(main())
