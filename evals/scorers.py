"""Scores for one SQL answer: execution accuracy, soft F1, valid SQL, and run metrics.

The scorers compare result rows, not SQL text: the harness executes the candidate's
`answer.sql` (`sema4_agent.sql_exec.execute_readonly`) and the gold query the same way,
and these functions judge the two row lists. They are plain functions returning
Braintrust `Score` objects, so a Braintrust `Eval`, a test or a script can call them.

Value equality, used everywhere here: NULL equals NULL; numbers are equal within a
relative 1e-6 or absolute 1e-9 (so 0.1 + 0.2 equals 0.3 and 2 equals 2.0); text and
blobs must be identical; a number never equals its text spelling.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from functools import lru_cache
from itertools import islice
from os import PathLike
from pathlib import Path
from typing import Any, NamedTuple

from braintrust import Score

from evals.tasks import SqlTask
from sema4_agent.run import AgentError, AgentRun
from sema4_agent.sql_exec import execute_readonly

REL_TOL = 1e-6
ABS_TOL = 1e-9

# Beyond these sizes the exhaustive fallbacks would be slow; results that large are
# compared on their exact keys only.
_MAX_TOLERANT_ROWS = 2_000
_MAX_PAIRINGS = 250_000
_MAX_PERMUTATIONS = 720

Rows = Sequence[Sequence[Any]]


def execution_accuracy(
    candidate_rows: Rows,
    gold_rows: Rows,
    *,
    ordered: bool = False,
    candidate_error: AgentError | str | None = None,
) -> Score:
    """BIRD's execution accuracy (EX): 1 when the candidate's rows equal the gold rows.

    Rows are compared as multisets (duplicates count), or in sequence when `ordered`.
    Column names and order do not matter: the candidate's columns may be any permutation
    of the gold columns, but there must be as many. The metadata holds a one-line reason.
    """
    if candidate_error is not None:
        return _score("execution_accuracy", 0, f"candidate failed: {candidate_error}")

    reason = _mismatch(candidate_rows, gold_rows, ordered=ordered)
    if reason is None:
        return _score("execution_accuracy", 1, f"rows match ({_count(gold_rows)})")
    return _score("execution_accuracy", 0, reason)


def soft_f1(
    candidate_rows: Rows,
    gold_rows: Rows,
    *,
    ordered: bool = False,
    candidate_error: AgentError | str | None = None,
) -> Score:
    """Partial credit in [0, 1] for overlapping results, after BIRD mini-dev's soft F1.

    Each gold row is paired with one candidate row: by position when `ordered`, else with
    the unpaired candidate row sharing the most values. A pair contributes, in units of
    the gold row's width, its shared values as true positives, the candidate's other
    values as false positives and the gold row's missing values as false negatives. An
    unpaired gold row is one whole false negative, an unpaired candidate row one whole
    false positive. The score is the F1 of those totals; two empty results score 1.
    Unlike BIRD, duplicate rows are kept: returning a row twice costs precision.
    """
    if candidate_error is not None:
        return _score("soft_f1", 0, f"candidate failed: {candidate_error}")
    if not candidate_rows and not gold_rows:
        return _score("soft_f1", 1, "both results are empty")

    tp = fp = fn = 0.0
    pairs, unpaired_gold, unpaired_candidate = _pair_rows(candidate_rows, gold_rows, ordered)
    for cand, gold in pairs:
        shared = sum((Counter(map(_key, cand)) & Counter(map(_key, gold))).values())
        width = len(gold) or 1
        tp += shared / width
        fp += (len(cand) - shared) / width
        fn += (len(gold) - shared) / width
    fn += unpaired_gold
    fp += unpaired_candidate

    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return _score("soft_f1", f1, f"precision {precision:.3f}, recall {recall:.3f}")


def valid_sql(sql: str | None, error: AgentError | str | None = None) -> Score:
    """1 when there is candidate SQL and it executed without error."""
    if not sql or not sql.strip():
        return _score("valid_sql", 0, "no SQL was produced")

    code = error.code if isinstance(error, AgentError) else str(error or "").split(":")[0]
    if code in ("sql_error", "no_answer_sql"):
        return _score("valid_sql", 0, f"SQL did not execute: {error}")
    return _score("valid_sql", 1, "SQL executed")


def score_run(run: AgentRun, gold_rows: Rows, *, ordered: bool = False) -> list[Score]:
    """EX, soft F1 and valid SQL for one agent run, from the rows the harness executed.

    A run whose SQL failed or never appeared scores 0 on all three; other run errors
    (say, `max_turns` after a valid `answer.sql`) do not hide the rows it did return.
    """
    validity = valid_sql(run.sql, run.error)
    failure = None if validity.score == 1 else validity.metadata["reason"]
    return [
        execution_accuracy(run.rows, gold_rows, ordered=ordered, candidate_error=failure),
        soft_f1(run.rows, gold_rows, ordered=ordered, candidate_error=failure),
        validity,
    ]


def efficiency_metrics(run: AgentRun) -> dict[str, float]:
    """What a run cost, as Braintrust metrics (not scores): turns, calls, tokens, time."""
    usage = run.usage
    prompt = usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens
    metrics = {
        "turns": float(run.num_turns),
        "tool_calls": float(len(run.steps)),
        "prompt_tokens": float(prompt),
        "completion_tokens": float(usage.output_tokens),
        "tokens": float(prompt + usage.output_tokens),
        "duration_s": float(run.duration_s),
    }
    if run.cost_usd is not None:
        metrics["cost_usd"] = float(run.cost_usd)
    return metrics


def answer_quality(
    question: str, answer: str | None, gold_columns: Sequence[str], gold_rows: Rows
) -> Score | None:
    """An LLM judge (autoevals Factuality) of the prose answer against the gold rows.

    Only when `OPENAI_API_KEY` is set; returns None otherwise, so callers drop it.
    """
    if not os.environ.get("OPENAI_API_KEY"):
        return None
    from autoevals import Factuality  # imported late: it builds an OpenAI client

    expected = _rows_as_text(gold_columns, gold_rows)
    judged = Factuality()(output=answer or "", expected=expected, input=question)
    return Score(name="answer_quality", score=judged.score, metadata=judged.metadata or {})


class GoldResult(NamedTuple):
    """What the gold query returned: column names and rows."""

    columns: list[str]
    rows: list[list[Any]]


def gold_result(task: SqlTask, db_path: str | PathLike[str] | None = None) -> GoldResult:
    """The gold query's columns and rows on the demo database (or `db_path`), cached.

    Callers must not mutate the result: it is shared between calls.
    """
    if db_path is None:
        from sema4_agent.demo_db import demo_db_path

        db_path = demo_db_path()
    return _gold_result(task.gold_sql, str(Path(db_path).resolve()))


@lru_cache(maxsize=256)
def _gold_result(sql: str, db_path: str) -> GoldResult:
    return GoldResult(*execute_readonly(db_path, sql))


def _score(name: str, value: float, reason: str) -> Score:
    return Score(name=name, score=value, metadata={"reason": reason})


# --- value and row comparison ---------------------------------------------------------


def _key(value: Any) -> tuple[int, Any]:
    """A hashable key: exact for text, numbers rounded to 9 significant digits."""
    if value is None:
        return (0, None)
    if isinstance(value, bool | int | float):
        number = float(value)
        return (1, number if math.isnan(number) else float(f"{number:.9g}"))
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, bytes):
        return (3, value)
    return (4, repr(value))


def _values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool | int | float) and isinstance(b, bool | int | float):
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return _key(a) == _key(b)


def _rows_equal(a: Sequence[Any], b: Sequence[Any]) -> bool:
    return len(a) == len(b) and all(_values_equal(x, y) for x, y in zip(a, b, strict=True))


def _mismatch(candidate: Rows, gold: Rows, *, ordered: bool) -> str | None:
    """None when the results match, else a one-line reason."""
    if not candidate and not gold:
        return None
    if not candidate:
        return f"candidate returned no rows; gold has {_count(gold)}"
    if not gold:
        return f"candidate returned {_count(candidate)}; gold returned none"
    if len(candidate[0]) != len(gold[0]):
        return f"candidate has {len(candidate[0])} columns; gold has {len(gold[0])}"
    if len(candidate) != len(gold):
        return f"candidate returned {_count(candidate)}; gold has {_count(gold)}"

    permutations = list(islice(_column_permutations(candidate, gold), _MAX_PERMUTATIONS))
    if not permutations:
        return "column values differ: some gold column has no candidate column with its values"

    for perm in permutations:
        permuted = [[row[i] for i in perm] for row in candidate]
        if _rows_match(permuted, gold, ordered=ordered):
            return None
        if ordered and _rows_match(permuted, gold, ordered=False):
            return "right rows in the wrong order"
    return f"rows differ, e.g. gold row {_short(_first_missing(candidate, gold))} not returned"


def _column_permutations(candidate: Rows, gold: Rows) -> Iterator[list[int]]:
    """Orders of the candidate's columns whose value multisets match the gold's, in turn.

    Matching column multisets is necessary for the rows to match, and cheap to check;
    the identity order is tried first.
    """
    width = len(gold[0])
    cand_columns = [_sorted_column(candidate, i) for i in range(width)]
    gold_columns = [_sorted_column(gold, j) for j in range(width)]
    options = [
        sorted(
            (i for i in range(width) if _rows_equal(cand_columns[i], gold_columns[j])),
            key=lambda i, j=j: i != j,
        )
        for j in range(width)
    ]

    def extend(chosen: list[int]) -> Iterator[list[int]]:
        if len(chosen) == width:
            yield list(chosen)
            return
        for i in options[len(chosen)]:
            if i not in chosen:
                yield from extend([*chosen, i])

    return extend([])


def _sorted_column(rows: Rows, index: int) -> list[Any]:
    return sorted((row[index] for row in rows), key=_key)


def _rows_match(candidate: Rows, gold: Rows, *, ordered: bool) -> bool:
    if ordered:
        return all(_rows_equal(c, g) for c, g in zip(candidate, gold, strict=True))

    # Exact keys settle almost every row; only the rest need the tolerant pairing.
    cand_left = _leftovers(candidate, gold)
    gold_left = _leftovers(gold, candidate)
    if not cand_left and not gold_left:
        return True
    if len(cand_left) != len(gold_left) or len(gold_left) > _MAX_TOLERANT_ROWS:
        return False

    for gold_row in gold_left:
        match = next((c for c in cand_left if _rows_equal(c, gold_row)), None)
        if match is None:
            return False
        cand_left.remove(match)
    return True


def _leftovers(rows: Rows, others: Rows) -> list[Sequence[Any]]:
    """Rows of `rows` left once every exact-key match in `others` is taken away."""
    spare = Counter(tuple(map(_key, row)) for row in others)
    left = []
    for row in rows:
        key = tuple(map(_key, row))
        if spare[key]:
            spare[key] -= 1
        else:
            left.append(row)
    return left


def _first_missing(candidate: Rows, gold: Rows) -> Sequence[Any]:
    missing = _leftovers(gold, candidate)
    return missing[0] if missing else gold[0]


def _pair_rows(
    candidate: Rows, gold: Rows, ordered: bool
) -> tuple[list[tuple[Sequence[Any], Sequence[Any]]], int, int]:
    """(pairs, unpaired gold count, unpaired candidate count) for soft F1."""
    if ordered:
        pairs = list(zip(candidate, gold, strict=False))
        return pairs, max(0, len(gold) - len(candidate)), max(0, len(candidate) - len(gold))

    # Identical rows pair with each other first; the rest pair greedily by overlap, or
    # in sorted order when there are too many for the quadratic search.
    cand_left = _leftovers(candidate, gold)
    gold_left = _leftovers(gold, candidate)
    pairs = [(row, row) for row in _leftovers(gold, gold_left)]
    unpaired_gold = len(gold_left) - min(len(gold_left), len(cand_left))
    unpaired_candidate = len(cand_left) - min(len(gold_left), len(cand_left))

    if len(cand_left) * len(gold_left) > _MAX_PAIRINGS:
        cand_left.sort(key=lambda r: tuple(map(_key, r)))
        gold_left.sort(key=lambda r: tuple(map(_key, r)))
        fuzzy = list(zip(cand_left, gold_left, strict=False))
    else:
        fuzzy = []
        for gold_row in gold_left[: len(cand_left)]:
            best = max(cand_left, key=lambda c, g=gold_row: _overlap(c, g))
            fuzzy.append((best, gold_row))
            cand_left.remove(best)
    return pairs + fuzzy, unpaired_gold, unpaired_candidate


def _overlap(a: Sequence[Any], b: Sequence[Any]) -> int:
    return sum((Counter(map(_key, a)) & Counter(map(_key, b))).values())


def _count(rows: Rows) -> str:
    return "1 row" if len(rows) == 1 else f"{len(rows)} rows"


def _short(row: Sequence[Any]) -> str:
    text = repr(list(row))
    return text if len(text) <= 80 else text[:77] + "..."


def _rows_as_text(columns: Sequence[str], rows: Rows, limit: int = 50) -> str:
    lines = [" | ".join(columns)] + [" | ".join(map(str, row)) for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more rows")
    return "\n".join(lines)
