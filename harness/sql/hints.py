"""Regular expressions that sniff SQL text before (or instead of) a parse: cheap tests that
decide which strings are worth parsing as SQL, and which calls read or change the schema.

Each is a prefilter, never a verdict: what it lets through is parsed by sqlglot (harness.sql).
"""

import re

DDL_HINT = re.compile(
    r"\b(create\s+(temp\w*\s+|virtual\s+)?(table|view)|alter\s+table|drop\s+(table|view))\b",
    re.IGNORECASE,
)

PROBE_HINT = re.compile(r"\s*select\b", re.IGNORECASE)

PRAGMA_INFO_HINT = re.compile(r"\s*pragma\s+(\w+\.)?table_x?info\b", re.IGNORECASE)

ADD_COLUMN_HINT = re.compile(r"\balter\s+table\b.*\badd\b", re.IGNORECASE | re.DOTALL)

SQL_HINT = re.compile(
    r"\b(select|insert|update|delete|create|alter|drop|from|where|values|into|set|join|table|"
    r"replace|returning|conflict|pragma|order|group|primary|default|integer|text|real|"
    r"references|unique)\b", re.IGNORECASE)
