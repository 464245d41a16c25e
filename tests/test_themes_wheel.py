"""The built wheel carries the bundled themes, and a non-editable install finds them."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# Builds and installs a wheel.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
THEME_FILES = sorted(path.name for path in (REPO / "themes").glob("*.toml"))

# Run by the installed copy, away from the checkout: where it found its themes, and what loaded.
PROBE = """
import json, pathlib, tui_chat
from tui_chat.ui.themes import bundled_themes_dir, load_all_themes
specs, errors = load_all_themes(pathlib.Path("no-user-themes"))
print(json.dumps({
    "package": tui_chat.__file__,
    "themes_dir": str(bundled_themes_dir()),
    "names": sorted(spec.name for spec in specs),
    "errors": [str(error) for error in errors],
}))
"""


def build_wheel(tmp_path: Path) -> Path:
    """Build from a copy of the sources, so the checkout gets no build/ or dist/ debris."""
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "tui_chat", source / "tui_chat", ignore=ignore)
    shutil.copytree(REPO / "themes", source / "themes")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q"]
    command += ["-w", str(tmp_path / "dist")]
    if importlib.util.find_spec("hatchling") is not None:
        # Build offline with the installed backend; without it pip fetches hatchling itself.
        command.append("--no-build-isolation")
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    (wheel,) = (tmp_path / "dist").glob("tui_chat-*.whl")
    return wheel


def test_installed_wheel_not_editable_finds_the_bundled_themes(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {f"tui_chat/_bundled_themes/{name}" for name in THEME_FILES} <= names
    assert "tui_chat/ui/screens/theme_picker.tcss" in names
    assert not any(name.startswith("themes/") for name in names)

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), wheel],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # The installed copy comes first on the path; Textual and the rest come from this venv.
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = json.loads(probe.stdout)
    assert Path(found["package"]).is_relative_to(site)
    assert Path(found["themes_dir"]) == site / "tui_chat" / "_bundled_themes"
    assert found["errors"] == []
    assert len(found["names"]) == len(THEME_FILES)
    assert {"tui-chat-dark", "ansi-16"} <= set(found["names"])
