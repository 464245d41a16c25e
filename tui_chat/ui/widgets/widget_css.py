"""A widget's own stylesheet: the .tcss file beside its module, loaded as its DEFAULT_CSS.

Textual 8.2.8 reads CSS_PATH files for an App or a Screen only; a Widget's own rules come from
its DEFAULT_CSS string (`DOMNode._get_default_css`, added to the app's stylesheet when the
widget is first mounted). Reading the .tcss beside the widget's module into DEFAULT_CSS keeps
styles in .tcss files (the house rule) while the widget carries them, so a test or benchmark
that mounts one widget alone gets its look without knowing the app's stylesheet. As default CSS
the rules rank below any App or Screen CSS, so the app can still place or restyle the widget
(the sidebar's width by terminal size is the screen's rule, in app.tcss).
"""

from __future__ import annotations

from pathlib import Path


def css_beside(module_file: str) -> str:
    """The TCSS of the .tcss file named like `module_file` (a widget module's `__file__`)."""
    return Path(module_file).with_suffix(".tcss").read_text(encoding="utf-8")
