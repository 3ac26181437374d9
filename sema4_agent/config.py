"""What the agent reads from the environment: model access, default model, the CLI's env.

The Claude Code CLI inherits the parent's environment underneath whatever we pass (the SDK
merges `os.environ` first). So secrets the agent has no business seeing
(BRAINTRUST_API_KEY, OPENAI_API_KEY, ...) are overridden with empty values rather than
merely left out. The workbench MCP server gets a smaller environment still
(`sema4_agent.isolation.workbench_env`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Any one of these gives the CLI a way to reach a model.
MODEL_ACCESS_VARS = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
)

NO_CREDENTIALS_MESSAGE = (
    "no model access: set ANTHROPIC_API_KEY, or ANTHROPIC_BASE_URL for an Anthropic-compatible "
    "gateway, or CLAUDE_CODE_USE_BEDROCK=1 / CLAUDE_CODE_USE_VERTEX=1 (see .env.example)"
)

# Passed through to the CLI as they are: what a process needs to run and reach the network.
_PASS_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LANG",
        "LC_ALL",
        "TZ",
        "TMPDIR",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "NODE_EXTRA_CA_CERTS",
    }
)
_PASS_PREFIXES = ("ANTHROPIC_", "CLAUDE_CODE_")
# Cloud credentials only reach the CLI when the user chose that cloud.
_BEDROCK_PREFIXES = ("AWS_",)
_VERTEX_PREFIXES = ("GOOGLE_", "CLOUD_ML_", "VERTEX_", "GCLOUD_", "CLOUDSDK_")


def has_model_access(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether any model-access variable is set (to a non-empty value)."""
    return any(environ.get(name) for name in MODEL_ACCESS_VARS)


def default_model(environ: Mapping[str, str] = os.environ) -> str | None:
    """SEMA4_MODEL, or None to let Claude Code pick its default."""
    return environ.get("SEMA4_MODEL") or None


def cli_env(
    environ: Mapping[str, str],
    *,
    config_dir: str,
    max_retries: int | None = None,
) -> dict[str, str]:
    """The environment for one Claude Code CLI process.

    Every inherited variable that is not needed is set to "" so it cannot leak into the CLI
    or the MCP server it spawns. CLAUDE_CONFIG_DIR points at a fresh per-run directory so a
    user's ~/.claude (settings, hooks, MCP servers, memory) never shapes a run.
    """
    prefixes = list(_PASS_PREFIXES)
    if environ.get("CLAUDE_CODE_USE_BEDROCK"):
        prefixes += _BEDROCK_PREFIXES
    if environ.get("CLAUDE_CODE_USE_VERTEX"):
        prefixes += _VERTEX_PREFIXES

    env = {
        name: value if name in _PASS_NAMES or name.startswith(tuple(prefixes)) else ""
        for name, value in environ.items()
    }
    env["CLAUDE_CONFIG_DIR"] = config_dir
    # No session-title side call, telemetry or update checks: fewer requests per question.
    env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
    if max_retries is not None:
        env["CLAUDE_CODE_MAX_RETRIES"] = str(max_retries)
    return env
