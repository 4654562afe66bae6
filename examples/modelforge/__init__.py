"""A ModelForge-style reference app (FastAPI router + raw sqlite3), in its fixed state."""
