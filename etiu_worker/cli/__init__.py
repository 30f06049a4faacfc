"""The command line: commands, their advice on errors, and how they print."""

from .commands import main

__all__ = ["main"]
