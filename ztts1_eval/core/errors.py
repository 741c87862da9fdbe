"""Errors that mean "the user asked for something impossible": the CLI prints their message
and exits 2 without a traceback. Anything else is a bug and keeps its traceback."""


class ConfigError(ValueError):
    """A config value, filter or path that cannot work; the message says which and why."""
