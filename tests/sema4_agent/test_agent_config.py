"""What reaches the Claude Code CLI's environment, and when a run may start at all."""

from __future__ import annotations

import pytest

from sema4_agent.config import cli_env, has_model_access

BASE = {
    "PATH": "/usr/bin",
    "HOME": "/home/u",
    "ANTHROPIC_API_KEY": "sk-ant",
    "BRAINTRUST_API_KEY": "bt-secret",
    "OPENAI_API_KEY": "oa-secret",
    "AWS_SECRET_ACCESS_KEY": "aws-secret",
    "GOOGLE_APPLICATION_CREDENTIALS": "/gcp.json",
    "CLAUDE_CODE_MAX_RETRIES": "7",
    "SOME_DB_PASSWORD": "pw",
}


def test_secrets_are_blanked_and_model_access_kept():
    env = cli_env(BASE, config_dir="/tmp/cfg")

    assert env["ANTHROPIC_API_KEY"] == "sk-ant"
    assert env["PATH"] == "/usr/bin" and env["HOME"] == "/home/u"
    for secret in (
        "BRAINTRUST_API_KEY",
        "OPENAI_API_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "SOME_DB_PASSWORD",
    ):
        assert env[secret] == ""  # overrides the inherited value, which the SDK merges under
    assert env["CLAUDE_CONFIG_DIR"] == "/tmp/cfg"
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert env["CLAUDE_CODE_MAX_RETRIES"] == "7"


def test_max_retries_overrides_the_inherited_cap():
    assert cli_env(BASE, config_dir="/c", max_retries=0)["CLAUDE_CODE_MAX_RETRIES"] == "0"


@pytest.mark.parametrize(
    ("flag", "kept", "blanked"),
    [
        ("CLAUDE_CODE_USE_BEDROCK", "AWS_SECRET_ACCESS_KEY", "GOOGLE_APPLICATION_CREDENTIALS"),
        ("CLAUDE_CODE_USE_VERTEX", "GOOGLE_APPLICATION_CREDENTIALS", "AWS_SECRET_ACCESS_KEY"),
    ],
)
def test_cloud_credentials_pass_only_for_the_chosen_cloud(flag, kept, blanked):
    env = cli_env({**BASE, flag: "1"}, config_dir="/c")

    assert env[kept] == BASE[kept]
    assert env[blanked] == ""


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"ANTHROPIC_API_KEY": ""}, False),
        ({"ANTHROPIC_API_KEY": "k"}, True),
        ({"ANTHROPIC_BASE_URL": "http://127.0.0.1:4000"}, True),
        ({"CLAUDE_CODE_USE_BEDROCK": "1"}, True),
        ({"CLAUDE_CODE_USE_VERTEX": "1"}, True),
        ({"BRAINTRUST_API_KEY": "k", "OPENAI_API_KEY": "k"}, False),
    ],
)
def test_has_model_access(environ, expected):
    assert has_model_access(environ) is expected
