"""Run code in a fresh Python process, for what only shows before anything is imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def fresh_python_output(code: str, env: dict[str, str] | None = None) -> str:
    """What `code` prints, run by a new interpreter in the repository root; fails if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
        cwd=REPOSITORY,
    )
    return done.stdout
