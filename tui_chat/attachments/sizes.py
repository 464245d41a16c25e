"""File sizes as people read them: `812 B`, `14 KB`, `3.1 MB` (decimal units, as `ls -h --si`)."""

from __future__ import annotations

_UNITS = ((1e9, "GB"), (1e6, "MB"), (1e3, "KB"))


def format_size(size: int) -> str:
    """`size` bytes in the largest decimal unit it reaches, one decimal below 10 (3.1 MB) and
    none above (14 KB) or when it is zero (2 MB), so the width stays small."""
    for scale, unit in _UNITS:
        if size >= scale:
            shown = f"{size / scale:.1f}" if size / scale < 9.95 else f"{size / scale:.0f}"
            return f"{shown.removesuffix('.0')} {unit}"
    return f"{size} B"
