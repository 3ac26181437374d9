"""Shared fixtures: one fake Messages API server for the session, reset for every test."""

from __future__ import annotations

from pathlib import Path

import pytest

from sema4_agent.config import MODEL_ACCESS_VARS
from sema4_agent.testing.fake_anthropic import FakeAnthropic, say

# Variables a developer's shell may hold that would change what a test sees.
_AMBIENT_VARS = (
    *MODEL_ACCESS_VARS,
    "BRAINTRUST_API_KEY",
    "BRAINTRUST_PROJECT",
    "OPENAI_API_KEY",
    "SEMA4_MODEL",
    "SEMA4_RUNS_DB",
    "CLAUDE_CODE_MAX_RETRIES",
    "SEMA4_ISOLATE",
)


@pytest.fixture(scope="session")
def fake_server():
    with FakeAnthropic(lambda request: say("Done.")) as fake:
        yield fake


@pytest.fixture
def fake_model(fake_server: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The shared fake, its records cleared, with Claude Code pointed at it.

    Tests set the policy with `fake_model.reset(policy)`. The working directory is a fresh
    temporary directory so no .env or run store of the developer's is read.
    """
    fake_server.reset(lambda request: say("Done."))
    for name in _AMBIENT_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in fake_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return fake_server


@pytest.fixture(scope="session")
def demo_db() -> Path:
    from sema4_agent.demo_db import demo_db_path

    return demo_db_path().resolve()
