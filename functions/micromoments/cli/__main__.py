"""``python -m micromoments.cli``: the ``micromoments`` command."""

from micromoments.cli import main

raise SystemExit(main())
