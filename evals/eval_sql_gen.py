"""`braintrust eval evals/`: the SQL agent on the demo database's tasks, scored with pass^k.

The braintrust CLI imports this file with registration deferred; imported anywhere else,
`Eval(...)` would run the whole eval on the spot. Code that wants the evaluator as an
object (the Modal app, tests) uses `evals.evaluator.build_evaluator()` instead.
"""

import sys

from braintrust import Eval

from evals.evaluator import EVAL_NAME, evaluator_fields, project_name, select_tasks
from evals.tasks import load_tasks
from sema4_agent.config import NO_CREDENTIALS_MESSAGE, has_model_access

# A bad SEMA4_EVAL_* variable is a configuration error: one line and exit 2, before any
# agent runs (the CLI would print a traceback for a ValueError, or skip the file, exit 0).
try:
    fields = evaluator_fields()
    select_tasks(load_tasks())
except ValueError as exc:
    print(f"Error: {exc}", file=sys.stderr)
    sys.exit(2)

# Without model access every agent run fails at once and the eval would report 0% and exit 0,
# which a CI job would read as a (bad) result rather than a broken set-up.
if not has_model_access():
    print(f"Error: {NO_CREDENTIALS_MESSAGE}", file=sys.stderr)
    sys.exit(2)

Eval(project_name(), **fields, description=f"{EVAL_NAME}: NL-to-SQL on the demo database")
