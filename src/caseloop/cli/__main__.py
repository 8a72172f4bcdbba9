"""`python -m caseloop.cli`, the same as the `caseloop` command."""

from caseloop.cli import main

main()
