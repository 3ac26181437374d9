"""`braintrust eval evals/`: the SQL agent on the demo database's tasks, scored with pass^k.

The braintrust CLI imports this file with registration deferred; imported anywhere else,
`Eval(...)` would run the whole eval on the spot. Code that wants the evaluator as an
object (the Modal app, tests) uses `evals.evaluator.build_evaluator()` instead.
"""

from braintrust import Eval

from evals.evaluator import EVAL_NAME, evaluator_fields, project_name

Eval(project_name(), **evaluator_fields(), description=f"{EVAL_NAME}: NL-to-SQL on the demo DB")
