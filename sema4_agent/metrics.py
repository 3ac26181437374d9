"""pass^k and pass@k over repeated trials of one task.

Both are the unbiased estimators over n trials of which c succeeded:

- pass@k = 1 - C(n - c, k) / C(n, k): the chance that at least one of k trials,
  drawn without replacement from the n, succeeds (Chen et al. 2021, "Evaluating
  Large Language Models Trained on Code").
- pass^k = C(c, k) / C(n, k): the chance that all k drawn trials succeed, the
  reliability measure tau-bench introduced (Yao et al. 2024, section 4).

The evals (`evals/`) and the tau-bench ingest (`ingest/`) both import these, so
the numbers a user compares in Braintrust are computed one way.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import comb

# tau-bench counts a trial as a success when its reward is 1 up to float noise.
SUCCESS_THRESHOLD = 1 - 1e-6


def is_success(reward: float | None) -> bool:
    """Whether a trial's reward counts as a success (tau-bench's rule)."""
    return reward is not None and reward >= SUCCESS_THRESHOLD


def _check(n: int, c: int, k: int) -> None:
    if n < 1:
        raise ValueError(f"need at least one trial, got n={n}")
    if not 0 <= c <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and n={n}, got k={k}")


def pass_hat_k(n: int, c: int, k: int) -> float:
    """pass^k: probability that k trials drawn from n all succeed."""
    _check(n, c, k)
    return comb(c, k) / comb(n, k)


def pass_at_k(n: int, c: int, k: int) -> float:
    """pass@k: probability that at least one of k trials drawn from n succeeds."""
    _check(n, c, k)
    return 1 - comb(n - c, k) / comb(n, k)


def pass_hat_ks(n: int, c: int) -> dict[int, float]:
    """pass^k for every k from 1 to n."""
    return {k: pass_hat_k(n, c, k) for k in range(1, n + 1)}


def pass_at_ks(n: int, c: int) -> dict[int, float]:
    """pass@k for every k from 1 to n."""
    return {k: pass_at_k(n, c, k) for k in range(1, n + 1)}


def count_successes(rewards: Iterable[float | None]) -> tuple[int, int]:
    """(n, c) for a task's trial rewards; trials without a reward are not counted."""
    scored = [r for r in rewards if r is not None]
    return len(scored), sum(is_success(r) for r in scored)
