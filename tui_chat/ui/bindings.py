"""Every key binding of the app in one place, each with an id so users can remap it.

Keys were chosen to arrive through tmux, screen and SSH in common terminals: no ctrl+shift
combinations, no ctrl+m/ctrl+i (they are Enter and Tab on the wire), function keys only where a
letter alternative exists. `[keys]` in config.toml maps binding ids to other keys (see README).
"""

from __future__ import annotations

from textual.binding import Binding

APP_BINDINGS: list[Binding] = [
    # Priority: over SSH ctrl+n and the next message arrive in one burst; the new conversation
    # must exist before the composer handles the keys that follow.
    Binding("ctrl+n", "new_conversation", "New", id="new_conversation", priority=True),
    Binding("ctrl+b", "toggle_sidebar", "Sidebar", id="toggle_sidebar"),
    Binding("f1", "show_help", "Keys", id="show_help", key_display="F1"),
    Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
]

CHAT_SCREEN_BINDINGS: list[Binding] = [
    Binding("escape", "stop_reply", "Stop reply", id="stop_reply", show=False),
    Binding("ctrl+r", "regenerate", "Regenerate", id="regenerate"),
    # Priority: TextArea and Input bind ctrl+e to "end of line" (home/end still do that).
    Binding("ctrl+e", "edit_in_editor", "$EDITOR", id="edit_in_editor", show=False, priority=True),
    # Priority, like ctrl+n: the model's name typed right after ctrl+o (one burst over SSH) must
    # reach the dialog, which only a binding handled before the composer sees the keys can open.
    Binding("ctrl+o", "pick_model", "Model", id="pick_model", priority=True),
    Binding("ctrl+t", "app.pick_theme", "Theme", id="pick_theme", show=False),
    Binding("question_mark", "app.show_help", "Keys", id="show_help_question", show=False),
    Binding("ctrl+l", "focus_composer", "Composer", id="focus_composer", show=False),
]

# The first run without a key: a digit picks a local server the empty pane offers (see
# chat_first_run.py). Priority, as the composer has the focus and would type the digit: the
# screen lets the key through to it unless a server is offered and the composer is empty.
LOCAL_SERVER_BINDINGS: list[Binding] = [
    Binding(
        str(number),
        f"use_local_server({number})",
        f"Use local server {number}",
        id=f"use_local_server_{number}",
        show=False,
        priority=True,
    )
    for number in range(1, 5)
]

SIDEBAR_BINDINGS: list[Binding] = [
    Binding("slash", "focus_filter", "Filter", id="sidebar.filter"),
    Binding("f2,r", "rename", "Rename", id="sidebar.rename"),
    Binding("d,delete", "delete", "Delete", id="sidebar.delete"),
    Binding("u", "restore", "Undo delete", id="sidebar.restore"),
    Binding("p", "toggle_pin", "Pin", id="sidebar.pin"),
    Binding("j", "cursor_down", "Down", show=False, id="sidebar.down"),
    Binding("k", "cursor_up", "Up", show=False, id="sidebar.up"),
]

# Composer keys depend on `enter_sends` in config; these are the two layouts.
SEND_KEYS_DEFAULT = ("enter",)
NEWLINE_KEYS_DEFAULT = ("alt+enter", "ctrl+j", "shift+enter")
SEND_KEYS_SWAPPED = ("ctrl+j", "alt+enter")
NEWLINE_KEYS_SWAPPED = ("enter", "shift+enter")
