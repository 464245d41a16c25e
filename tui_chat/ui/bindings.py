"""Textual bindings for each scope, built from the action registry (`tui_chat/ui/actions.py`).

Each binding keeps its action's id, so `[keys]` in config.toml (through `App.set_keymap`)
remaps it; nothing here is declared twice.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType
from textual.keys import format_key

from tui_chat.ui.actions import Action, Scope, actions_in

# The first run without a key: a digit picks a local server the empty pane offers (see
# chat_first_run.py). Not in the action registry: the digits are the offer's own numbering,
# shown beside each server in the pane, not keys a user would remap. Priority, as the composer
# has the focus and would type the digit: the screen lets the key through to it unless a
# server is offered and the composer is empty.
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


def binding_of(action: Action) -> Binding:
    """The Textual binding of one action, with its default keys."""
    return Binding(
        action.keys,
        action.action,
        action.footer or action.description,
        show=action.footer is not None,
        key_display=action.key_display,
        priority=action.priority,
        id=action.id,
    )


def bindings_for(scope: Scope) -> list[BindingType]:
    """The bindings of every action of a scope (palette-only actions have no key to bind)."""
    return [binding_of(action) for action in actions_in(scope) if action.keys]


APP_BINDINGS = bindings_for(Scope.APP)
CHAT_SCREEN_BINDINGS = bindings_for(Scope.CHAT)
COMPOSER_BINDINGS = bindings_for(Scope.COMPOSER)
COMPLETION_BINDINGS = bindings_for(Scope.COMPLETION)
ATTACHMENT_BINDINGS = bindings_for(Scope.ATTACHMENTS)
SIDEBAR_BINDINGS = bindings_for(Scope.LIST)
MESSAGE_PANE_BINDINGS = bindings_for(Scope.MESSAGES)
TOOL_APPROVAL_BINDINGS = bindings_for(Scope.TOOL_APPROVAL)


def key_names(keys: str, *, joiner: str = ", ") -> str:
    """'question_mark,f1' -> '?, f1': the characters a user presses, not Textual's key names."""
    shown = []
    for key in keys.split(","):
        *modifiers, name = key.strip().split("+")
        # Symbols such as ⏎ may not exist in a basic console font: keep words for those.
        readable = name if name in ("enter", "tab", "backspace", "delete") else format_key(name)
        shown.append("+".join([*modifiers, readable]))
    return joiner.join(shown)
