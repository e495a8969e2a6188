"""Shared pytest settings: the project root is importable as `tests.*`."""
