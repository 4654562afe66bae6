"""Errors in the tool itself (never in the user's code: those become diagnostics)."""


class ToolError(Exception):
    """Base class: the CLI turns these into a one-line message and exit code 2."""


class ConfigError(ToolError):
    """The configuration or the command line is wrong."""


class SnapshotError(ToolError):
    """A legacy database snapshot cannot be read."""


class BadEntry(ValueError):
    """A stored value that is not something ``harness.store.encode`` writes (corrupt or
    foreign): its reader drops it and computes the value again."""
