"""dbharness: prove a Python app's request handlers and its database agree."""

__version__ = "0.1.0"
