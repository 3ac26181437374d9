"""Command line: `python -m mcp_servers.workbench --root DIR [--isolate] [--transport http]`.

Example, for an MCP client that spawns servers over stdio:

    python -m mcp_servers.workbench --root ./scratch --bash-timeout 60
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

logger = logging.getLogger("mcp_servers.workbench")


def main(argv: list[str] | None = None) -> int:
    """Parse options, check the root, then serve until the client goes away, and exit."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="workbench %(levelname)s %(message)s"
    )

    root = Path(args.root).expanduser().resolve()
    if not root.is_dir():
        print(f"Error: --root {args.root} is not a directory; create it first.", file=sys.stderr)
        return 2
    if args.bash_timeout <= 0:
        print("Error: --bash-timeout must be a positive number of seconds.", file=sys.stderr)
        return 2

    # Imported here so `--help` and option errors answer without loading the MCP SDK.
    from mcp_servers.workbench import isolation, processes, shell
    from mcp_servers.workbench.server import WorkbenchConfig, build_server

    prefix = None
    if args.isolate:
        try:
            prefix = isolation.isolation_prefix(root)
        except isolation.IsolationUnavailable as exc:
            print(f"Error: {exc}", file=sys.stderr)
            return 2

    config = WorkbenchConfig(
        root=root,
        bash_timeout_s=args.bash_timeout,
        isolate_prefix=prefix,
        child_env=shell.child_environment(os.environ, root),
    )
    server = build_server(config)
    # Orphans of commands (setsid -f, double forks) then reparent here, not to init, so
    # shutdown can stop them and the server reaps them.
    processes.become_subreaper()
    logger.info("serving %s over %s (isolate=%s)", root, args.transport, args.isolate)

    # Commands run in their own process groups, out of reach of a kill aimed at the
    # server, so a stop signal stops them first. Exiting at once, rather than unwinding,
    # spares waiting on the SDK's stdin reader thread, which only returns when stdin
    # closes. SIGINT too: Claude Code stops a stdio server with SIGINT, then SIGTERM 100 ms
    # later if it is still alive, so unwinding on SIGINT cost every question 100 ms.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _stop_on_signal)
    try:
        if args.transport == "http":
            server.run("streamable-http", host=args.host, port=args.port)
        else:
            server.run("stdio")
    finally:
        shell.stop_all()

    # The client is gone and nothing is left to clean up. Skipping the interpreter's
    # teardown (freeing the SDK's thousands of protocol classes) saves 150 ms idle, more
    # under load, and a client waits for the server's exit.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _stop_on_signal(signum: int, frame: object) -> None:
    from mcp_servers.workbench import shell

    shell.stop_all()
    os._exit(128 + signum)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_servers.workbench",
        description="MCP server with bash and file tools confined to one root directory.",
    )
    parser.add_argument("--root", required=True, help="directory every tool works in")
    parser.add_argument(
        "--bash-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="bash_exec timeout when a call gives none (default: 30)",
    )
    parser.add_argument(
        "--isolate",
        action="store_true",
        help="run commands under bubblewrap: only the root writable, no network",
    )
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="http transport only")
    parser.add_argument("--port", type=int, default=8765, help="http transport only")
    parser.add_argument(
        "--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
