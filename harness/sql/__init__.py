"""Everything that touches sqlglot: parsing, the schema model, statement analysis."""
