"""`python -m sema4_agent "question"`: see `sema4_agent.cli`."""

import sys

from sema4_agent.cli import main

if __name__ == "__main__":
    sys.exit(main())
