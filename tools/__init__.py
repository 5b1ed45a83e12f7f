"""Helpers behind the nox sessions: rendering, bench, compare."""
