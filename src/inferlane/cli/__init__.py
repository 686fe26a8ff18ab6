"""The ``inferlane`` command: thin — parse arguments, call the library, return an exit code."""
