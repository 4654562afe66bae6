"""The SQL dialects dbharness understands: the names ``dialect =`` and ``--dialect`` accept."""

DIALECTS = ("sqlite", "postgres", "mysql")
