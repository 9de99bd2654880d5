"""The exit codes of the ``micromoments`` command."""

EXIT_USAGE = 2
EXIT_INPUT = 1
EXIT_BROKEN_PIPE = 128 + 13  # as the shell reports a command that SIGPIPE ended
