"""The SQL eval inside your own Modal account.

Two ways in, both running the same agent on the same demo database:

- `playground`: Braintrust's remote-eval server as a web endpoint. Register its URL in a
  Braintrust Playground, pick the SQL eval, swap the model or prompt, run. The Playground
  sends the rows here; the agent, its data and its API keys stay in this account.

      uv run modal serve modal_app.py     # a temporary URL, live-reloads on edits
      uv run modal deploy modal_app.py    # a permanent URL

- `run_trial` + the local entrypoint: one (task, trial) per call, fanned out across
  containers with `.starmap`, logged from your machine as one Braintrust experiment scored
  exactly as `braintrust eval evals/` scores it.

      uv run modal run modal_app.py --trials 4

Importing this file needs neither Modal credentials nor the network: the heavy imports
(Braintrust, the agent) happen inside the functions, in the container.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import modal

logger = logging.getLogger(__name__)

APP_NAME = "sema4-agent"

# The Modal Secret holding ANTHROPIC_API_KEY (or the gateway variables), BRAINTRUST_API_KEY
# and optionally OPENAI_API_KEY. Read at deploy time, so one checkout can target several.
SECRET_NAME = os.environ.get("SEMA4_MODAL_SECRET", "sema4-demo-secrets")

# Our own packages, added to the image as source; their dependencies come from uv.lock.
LOCAL_PACKAGES = ("sema4_agent", "mcp_servers", "evals", "ingest")

SOURCE_IGNORE = ["**/__pycache__", "**/*.pyc"]

# The agent's workbench runs SQL through the sqlite3 shell, and runs the model's commands
# under bubblewrap when the container's runtime lets it create namespaces (the agent probes
# once per process and otherwise runs them unisolated, with a warning on stderr).
APT_PACKAGES = ("sqlite3", "bubblewrap")

PROJECT_DIR = Path(__file__).resolve().parent
EVALS_DIR = PROJECT_DIR / "evals"

# A Playground row runs every trial of one task; a few agent runs in a row can take
# minutes on a slow model, and one /eval request carries every row of the dataset.
PLAYGROUND_TIMEOUT_S = 60 * 60

# One trial is one agent run: the agent's own turn limit ends it well before this.
TRIAL_TIMEOUT_S = 15 * 60

# Every agent run is a Claude Code CLI (about 200 MB peak RSS, measured) plus the workbench
# MCP server, and costs a few CPU-seconds to start. One /eval request keeps up to
# SEMA4_EVAL_CONCURRENCY (default 4) runs in flight, so a container sized for 4 such
# requests at once; Modal starts more containers past that.
PLAYGROUND_MAX_INPUTS = 4
PLAYGROUND_CPU = 4.0
PLAYGROUND_MEMORY_MB = 4096

# A trial call runs exactly one agent.
TRIAL_CPU = 1.0
TRIAL_MEMORY_MB = 1024


image = (
    modal.Image.debian_slim(python_version="3.11")
    .apt_install(*APT_PACKAGES)
    # The dependencies exactly as uv.lock pins them (`uv sync --frozen`); our own code is
    # added last so editing it does not rebuild the dependency layer.
    .uv_sync(str(PROJECT_DIR))
    # Our packages are source under /root, not installed into the venv. The agent starts
    # the workbench as `python -m mcp_servers.workbench` with a scrubbed environment (no
    # PYTHONPATH) from inside the run's workspace, so the venv itself must find /root.
    .run_commands(
        "echo /root > \"$(python -c 'import site; print(site.getsitepackages()[0])')\"/root.pth"
    )
    # With their data files (the eval's task list), without caches.
    .add_local_python_source(*LOCAL_PACKAGES, ignore=SOURCE_IGNORE)
)

app = modal.App(APP_NAME, image=image)

secrets = [modal.Secret.from_name(SECRET_NAME)]


# ## The Playground endpoint
#
# The same Starlette app `braintrust eval --dev evals/` serves on localhost:8300, so the
# SDK's own checks stay in front of the agent: every /list and /eval request must carry a
# Braintrust token, which the SDK verifies by logging in with it, and CORS admits only
# Braintrust's origins. Setting BRAINTRUST_ORG_NAME in the Secret also restricts callers
# to that organisation (the SDK's `--dev-org-name`).


@app.function(
    secrets=secrets,
    timeout=PLAYGROUND_TIMEOUT_S,
    cpu=PLAYGROUND_CPU,
    memory=PLAYGROUND_MEMORY_MB,
)
@modal.concurrent(max_inputs=PLAYGROUND_MAX_INPUTS)
@modal.asgi_app()
def playground():
    return create_remote_eval_app()


def create_remote_eval_app():
    """Braintrust's remote-eval server for every evaluator in evals/, as an ASGI app."""
    from braintrust.devserver.server import create_app

    from sema4_agent.demo_db import demo_db_path

    # Built once per container before the first row needs it (it is deterministic).
    demo_db_path()

    org_name = os.environ.get("BRAINTRUST_ORG_NAME") or None
    return create_app(load_evaluators(EVALS_DIR), org_name=org_name)


def load_evaluators(evals_dir: Path) -> list:
    """The evaluators in `evals_dir`'s eval_*.py files, loaded as `braintrust eval` loads them.

    The CLI imports each file with `Eval(...)` deferred and collects what it declared;
    using its loader keeps this server's evaluators identical to `braintrust eval --dev`'s.
    """
    from braintrust.cli.eval import EvaluatorState, initialize_handles, update_evaluators

    state = EvaluatorState()
    update_evaluators(state, initialize_handles([str(evals_dir)]), terminate_on_failure=True)
    return [loaded.evaluator for loaded in state.evaluators]


# ## Scale-out: one (task, trial) per call
#
# `braintrust eval evals/` runs every trial on one machine, a few at a time. Here each
# trial is its own call, so `.starmap` spreads them over as many containers as Modal
# will start. The rows then go through the eval itself (`evals.evaluator`), with a trial
# runner that hands back what the containers produced: the same scorers, the same row
# shape and the same pass^k aggregation, logged as one experiment.


@app.function(secrets=secrets, timeout=TRIAL_TIMEOUT_S, cpu=TRIAL_CPU, memory=TRIAL_MEMORY_MB)
async def run_trial(row: dict, trial_index: int, config: dict) -> dict:
    """Run the agent once on one eval row and score it; JSON-safe `TrialResult` fields.

    `row` is the eval row's `{"input": ..., "expected": ...}`; `config` is an
    `EvalConfig` as a dict (model, system_prompt, max_turns, trials).
    """
    from evals import sql_eval
    from evals.evaluator import task_from_row

    task = task_from_row(row["input"], row["expected"])
    result = await sql_eval.run_trial(
        task,
        model=config["model"],
        system_prompt=config["system_prompt"],
        max_turns=config["max_turns"],
        trial_index=trial_index,
    )
    return result.to_dict()


@app.local_entrypoint()
def main(
    trials: int = 0,
    model: str = "",
    max_turns: int = 0,
    limit: int = 0,
    tasks: str = "",
    experiment: str = "",
    send_logs: bool = True,
):
    """Fan the SQL eval out over containers, one (task, trial) per call; log one experiment.

    --trials N (agent runs per task), --model ID, --max-turns N, --limit N (first N tasks),
    --tasks ID,ID (only these task ids), --experiment NAME, --no-send-logs (print the
    scores, log nothing). Flags left out fall back to what `braintrust eval evals/` reads:
    SEMA4_EVAL_TRIALS, SEMA4_MODEL, SEMA4_EVAL_MAX_TURNS, SEMA4_EVAL_LIMIT, SEMA4_EVAL_TASKS.
    """
    _load_dotenv()
    if send_logs and not os.environ.get("BRAINTRUST_API_KEY"):
        print(
            "Error: set BRAINTRUST_API_KEY (in the environment or ./.env) to log the "
            "experiment, or pass --no-send-logs to print the scores only.",
            file=sys.stderr,
        )
        raise SystemExit(2)

    # The evaluator takes its defaults from these variables; setting them here makes the
    # flags mean exactly what the variables mean to `braintrust eval`.
    for name, value in [
        ("SEMA4_EVAL_TRIALS", trials),
        ("SEMA4_MODEL", model),
        ("SEMA4_EVAL_MAX_TURNS", max_turns),
        ("SEMA4_EVAL_LIMIT", limit),
        ("SEMA4_EVAL_TASKS", tasks),
    ]:
        if value:
            os.environ[name] = str(value)

    run_fanned_out_eval(run_trial.starmap, experiment_name=experiment or None, send_logs=send_logs)


def run_fanned_out_eval(starmap, *, experiment_name: str | None, send_logs: bool):
    """Run every (row, trial) through `starmap`, then score and log the rows as the eval does.

    `starmap` takes an iterable of `run_trial` argument tuples and yields their results in
    order: `run_trial.starmap` on Modal, or any local equivalent.
    """
    import braintrust

    from evals.evaluator import (
        EVAL_NAME,
        config_from,
        evaluator_fields,
        load_cases,
        project_name,
        task_from_row,
    )

    cases = load_cases()
    config = config_from(None)
    rows = [{"input": case.input, "expected": case.expected} for case in cases]
    units = [(row, i, _config_dict(config)) for row in rows for i in range(config.trials)]
    logger.info("running %d trials of %d tasks on %s", len(units), len(rows), config.model)

    results = {}
    for (row, i, _), result in zip(units, starmap(units), strict=True):
        task_id = task_from_row(row["input"], row["expected"]).id
        results[(task_id, i)] = result

    async def replay(task, *, trial_index: int = 0, **_config):
        from evals.sql_eval import TrialResult

        return TrialResult.from_dict(results[(task.id, trial_index)])

    fields = evaluator_fields(trial_runner=replay)
    return braintrust.Eval(
        project_name(),
        **{
            **fields,
            "data": cases,
            "experiment_name": experiment_name,
            "metadata": {**fields["metadata"], "runner": "modal_app.py fan-out"},
        },
        description=f"{EVAL_NAME}: NL-to-SQL on the demo DB, trials fanned out on Modal",
        no_send_logs=not send_logs,
    )


def _config_dict(config) -> dict:
    return {
        "model": config.model,
        "system_prompt": config.system_prompt,
        "max_turns": config.max_turns,
    }


def _load_dotenv() -> None:
    # Like the sema4-agent CLI: only ./.env, never a parent directory's.
    env_file = Path.cwd() / ".env"
    if env_file.is_file():
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)
