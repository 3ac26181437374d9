"""Command line: ask the SQL agent a question, list recent runs, show one again.

    python -m sema4_agent "Which customers exceeded their plan's data limit last month?"
    python -m sema4_agent ask "runs"        # a question that happens to be a command name
    python -m sema4_agent runs --limit 10
    python -m sema4_agent show 3f2a9c41d0e7

A first argument that is not `ask`, `runs` or `show` is a question (`ask` is implied).
Results go to stdout (`--json`: one JSON object); progress and errors go to stderr.
Exit codes: 0 answered, 1 the agent failed (the run's error), 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console

from sema4_agent.config import NO_CREDENTIALS_MESSAGE, has_model_access
from sema4_agent.run import AgentRun

COMMANDS = ("ask", "runs", "show")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] not in (*COMMANDS, "-h", "--help"):
        args = ["ask", *args]
    parser = _parser()
    options = parser.parse_args(args)
    if options.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    _load_dotenv()
    return options.handler(options)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sema4_agent",
        description="Answer business questions about a SQLite database with a traced SQL agent.",
        epilog='A bare question means "ask": python -m sema4_agent "How many active customers?"',
    )
    commands = parser.add_subparsers(dest="command", metavar="{ask,runs,show}")

    ask = commands.add_parser("ask", help="ask a question (the default command)")
    ask.add_argument("question", help="a business question about the database, in quotes")
    ask.add_argument(
        "--model",
        help="model alias (sonnet, opus, ...) or full id "
        "(default: SEMA4_MODEL, else Claude Code's default model)",
    )
    ask.add_argument(
        "--db", type=Path, metavar="PATH", help="SQLite database to query (default: the demo)"
    )
    ask.add_argument(
        "--max-turns",
        type=_positive_int,
        metavar="N",
        default=20,
        help="most model turns before the run stops (default: %(default)s)",
    )
    ask.add_argument(
        "--max-retries",
        type=_non_negative_int,
        metavar="N",
        help="API retries on 529/5xx errors (default: Claude Code's, 10 over about 3 minutes)",
    )
    ask.add_argument("--json", action="store_true", help="print the run as one JSON object")
    ask.add_argument(
        "--keep-workspace",
        action="store_true",
        help="keep the run's workspace (its files and database copy) and print its path",
    )
    _add_store_options(ask)
    ask.add_argument("--no-store", action="store_true", help="do not save the run locally")
    ask.set_defaults(handler=_ask)

    runs = commands.add_parser("runs", help="list recent local runs")
    runs.add_argument(
        "--limit",
        type=_positive_int,
        metavar="N",
        default=20,
        help="how many of the newest runs to list (default: %(default)s)",
    )
    runs.add_argument("--json", action="store_true", help="print the runs as a JSON list")
    _add_store_options(runs)
    runs.set_defaults(handler=_runs)

    show = commands.add_parser("show", help="show a stored run (an id prefix is enough)")
    show.add_argument("run_id", help="a run id, or a prefix of one that matches only it")
    show.add_argument("--json", action="store_true", help="print the run as one JSON object")
    _add_store_options(show)
    show.set_defaults(handler=_show)
    return parser


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-db",
        type=Path,
        metavar="PATH",
        help="run store file (default: SEMA4_RUNS_DB, else .sema4/runs.db)",
    )


def _ask(options: argparse.Namespace) -> int:
    err = _stderr_console()
    if not options.question.strip():
        _print_error(err, 'the question is empty; ask one, e.g. "How many active customers?"')
        return EXIT_USAGE
    if not has_model_access():
        _print_error(err, f"{NO_CREDENTIALS_MESSAGE}.")
        return EXIT_USAGE

    from sema4_agent.isolation import IsolationUnavailable, should_isolate
    from sema4_agent.workspace import InvalidDatabase, check_database

    try:
        # Before importing the agent SDK (about a second), so a wrong --db or SEMA4_ISOLATE
        # fails at once.
        if options.db is not None:
            check_database(options.db.expanduser().resolve())
        should_isolate()
        run = _run_agent(options, err)
    except (InvalidDatabase, IsolationUnavailable) as exc:
        _print_error(err, str(exc))
        return EXIT_USAGE

    stored = not options.no_store and _store_run(run, options.runs_db, err)
    _print_run(run, as_json=options.json, stored=stored)
    if run.error is not None:
        _print_error(err, str(run.error))
        return EXIT_USAGE if run.error.code == "no_credentials" else EXIT_FAILED
    return EXIT_OK


def _run_agent(options: argparse.Namespace, err: Console) -> AgentRun:
    from sema4_agent import tracing
    from sema4_agent.agent import run_question

    with _live_status(err) as on_progress:
        run = asyncio.run(
            run_question(
                options.question,
                model=options.model,
                db=options.db,
                max_turns=options.max_turns,
                max_retries=options.max_retries,
                keep_workspace=options.keep_workspace,
                on_progress=on_progress,
            )
        )
        on_progress("sending the trace")
        tracing.flush()
    return run


def _runs(options: argparse.Namespace) -> int:
    from sema4_agent.render import runs_table
    from sema4_agent.run_store import RunStore, UnreadableRunStore

    err = _stderr_console()
    path = _runs_db_path(options.runs_db)
    try:
        store = RunStore.open_existing(path)
        rows = store.recent(options.limit) if store else []
    except UnreadableRunStore as exc:
        _print_error(err, str(exc))
        return EXIT_USAGE

    if options.json:
        print(json.dumps(rows))
    elif rows:
        Console().print(runs_table(rows))
    else:
        err.print(f"No runs stored in {path} yet; ask a question first.")
    return EXIT_OK


def _show(options: argparse.Namespace) -> int:
    from sema4_agent.run_store import RunStore, UnreadableRunStore

    err = _stderr_console()
    path = _runs_db_path(options.runs_db)
    try:
        store = RunStore.open_existing(path)
        run = store.get(options.run_id) if store else None
    except UnreadableRunStore as exc:
        _print_error(err, str(exc))
        return EXIT_USAGE

    if store is None:
        _print_error(err, f"no runs stored in {path} yet; ask a question first.")
        return EXIT_FAILED
    if run is None:
        _print_error(
            err,
            f"no single run matches {options.run_id!r} in {path}; "
            "list runs with `python -m sema4_agent runs`.",
        )
        return EXIT_FAILED
    _print_run(run, as_json=options.json)
    return EXIT_OK


def _stderr_console() -> Console:
    # soft_wrap: a message stays one line whatever the width (rich would wrap at 80 columns
    # when stderr is not a terminal); no markup or highlighting of paths and SQL in messages.
    return Console(stderr=True, soft_wrap=True, markup=False, highlight=False)


def _print_error(err: Console, message: str) -> None:
    err.print(f"Error: {message}", style="red")


def _print_run(run: AgentRun, *, as_json: bool, stored: bool = True) -> None:
    if as_json:
        print(json.dumps(run.to_dict(), default=str))
        return
    from sema4_agent.render import render_run

    render_run(Console(), run, stored=stored)


def _store_run(run: AgentRun, runs_db: Path | None, err: Console) -> bool:
    """Save the run; on failure warn and go on (a run that happened is still worth printing)."""
    from sema4_agent.run_store import RunStore, UnreadableRunStore

    try:
        RunStore(_runs_db_path(runs_db)).save(run)
    except UnreadableRunStore as exc:  # its message already says what to do
        err.print(f"Warning: could not save the run: {exc}", style="yellow")
        return False
    except Exception as exc:
        err.print(
            f"Warning: could not save the run ({exc}); use --runs-db or --no-store.",
            style="yellow",
        )
        return False
    return True


def _runs_db_path(runs_db: Path | None) -> Path:
    from sema4_agent.run_store import default_runs_db  # sqlite-utils, imported when needed

    return runs_db or default_runs_db()


@contextmanager
def _live_status(err: Console) -> Iterator[Callable[[str], None]]:
    """A spinner line on stderr that follows the run's progress (only on a terminal)."""
    if not err.is_terminal:
        yield lambda _message: None
        return
    with err.status("starting") as status:
        yield lambda message: status.update(message)


def _load_dotenv() -> None:
    # Only ./.env: searching parent directories would pick up unrelated projects' keys.
    env_file = Path.cwd() / ".env"
    if env_file.is_file():
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)


# Far beyond any useful run; it keeps a typo like 10000000000 from reaching the CLI.
MAX_TURNS_LIMIT = 10_000


def _positive_int(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_TURNS_LIMIT:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_TURNS_LIMIT}, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value
