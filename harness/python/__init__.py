"""Static extraction of facts from Python sources with the stdlib ``ast`` (never imports them)."""
