"""A ModelForge-style reference app (FastAPI router + raw sqlite3), before the fix: the
router's is_custom_base_model is dropped on every save."""
