"""The error a command shows as one sentence: something the user can fix, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; shown as one sentence, no traceback."""
