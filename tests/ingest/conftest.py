"""Shared fixtures for the ingest tests: paths to the hand-written fixtures, and an
offline Braintrust (the SDK's memory logger with simulated login)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import braintrust
import pytest
from braintrust import logger
from braintrust.logger import ObjectMetadata, ProjectDatasetMetadata
from braintrust.test_helpers import init_test_exp, simulate_login, simulate_logout
from braintrust.util import LazyValue

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "example-traces" / "tau-bench-v1_gpt-4o_airline.json.gz"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def example_file() -> Path:
    return EXAMPLE


@pytest.fixture
def tau2_doc() -> dict:
    """A fresh copy of the tau2 fixture to break in one place per test."""
    return json.loads((FIXTURES / "handwritten_tau2_results.json").read_text())


@pytest.fixture
def write_json(tmp_path):
    def write(doc, name: str = "results.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(doc, indent=1))
        return path

    return write


@pytest.fixture
def tau2_dir(tmp_path) -> Path:
    target = tmp_path / "run_dir"
    shutil.copytree(FIXTURES / "handwritten_tau2_dir", target)
    return target


def _open_test_dataset(project: str, name: str):
    # Braintrust's test helpers fake experiment metadata but not dataset metadata;
    # this does the same for a dataset so nothing goes to the network.
    dataset = braintrust.init_dataset(project=project, name=name)
    metadata = ProjectDatasetMetadata(
        project=ObjectMetadata(id=project, name=project, full_info={}),
        dataset=ObjectMetadata(id=f"dataset:{name}", name=name, full_info={}),
    )
    dataset._lazy_metadata = LazyValue(lambda: metadata, use_mutex=False)
    return dataset


def _open_test_experiment(project: str, name: str, dataset):
    return init_test_exp(name, project)


@pytest.fixture
def memory_braintrust():
    """(memory logger, backend kwargs for `upload`/`main`): Braintrust fully offline."""
    simulate_login()
    try:
        with logger._internal_with_memory_background_logger() as bgl:
            yield (
                bgl,
                {
                    "open_dataset": _open_test_dataset,
                    "open_experiment": _open_test_experiment,
                },
            )
    finally:
        # init_test_exp makes its experiment the SDK's current one; leave no trace
        # for other tests.
        logger._state.current_experiment = None
        simulate_logout()
