"""Every action a user can reach, declared once: its id, default keys, words and where it works.

Bindings (`bindings.py`), the keys screen (F1), the command palette's entries and key hints, the
composer's send / newline keys and the check of `[keys]` in config.toml are all derived from
`ACTIONS`, so a remapped key shows up everywhere and an unknown id is reported, never ignored.

This module does not import Textual: `tui-chat`'s command line passes `ACTION_IDS` to the
config loader without paying for the UI.

To add an action: append an `Action` to `ACTIONS` (a unique `id`; `scope` says which widget's
bindings it joins), and give the widget of that scope an `action_<name>` method for
`Action.action`. Nothing else: help, palette, remapping and validation follow.

Keys were chosen to arrive through tmux, screen and SSH in common terminals: no ctrl+shift
combinations, no ctrl+m/ctrl+i (they are Enter and Tab on the wire), function keys only where a
letter alternative exists.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    """Where an action works; each scope's bindings live on one widget or screen."""

    APP = "Everywhere"
    CHAT = "Chat"
    COMPOSER = "Composer"
    COMPLETION = "File list after @ (in the composer)"
    ATTACHMENTS = "Attached files (above the composer)"
    LIST = "Conversation list"
    MESSAGES = "Messages"
    TOOL_APPROVAL = "Tool approval (before a tool runs)"
    PALETTE = "Command palette only"


@dataclass(frozen=True)
class Action:
    """One thing a user can do, with the keys that do it unless `[keys]` remaps them."""

    id: str
    """What `[keys]` in config.toml names, e.g. `toggle_sidebar` or `"sidebar.delete"`."""
    action: str
    """The Textual action string run on the scope's widget (`app.` prefix for the app's)."""
    keys: str
    """Default keys, comma-separated in Textual's names (`question_mark`, `ctrl+j`); empty for
    a palette-only command."""
    description: str
    """What it does, as the keys screen and the palette say it (at most 42 characters for an
    action with keys: the keys screen shows it beside them at 80 columns)."""
    scope: Scope
    footer: str | None = None
    """The footer's short label; None keeps the action out of the footer."""
    palette: str | None = None
    """The command palette's title; None keeps it out of the palette."""
    priority: bool = False
    """Checked before the focused widget sees the key (see the reasons where it is set)."""
    key_display: str | None = None


ACTIONS: tuple[Action, ...] = (
    # ------------------------------------------------------------------ everywhere
    # Priority: over SSH ctrl+n and the next message arrive in one burst; the new conversation
    # must exist before the composer handles the keys that follow.
    Action(
        "new_conversation",
        "new_conversation",
        "ctrl+n",
        "new conversation (or the one left unsent)",
        Scope.APP,
        footer="New",
        palette="New conversation",
        priority=True,
    ),
    Action(
        "toggle_sidebar",
        "toggle_sidebar",
        "ctrl+b",
        "hide / show the conversation list",
        Scope.APP,
        footer="Sidebar",
        palette="Toggle sidebar",
    ),
    Action(
        "show_help",
        "show_help",
        "f1",
        "show every key",
        Scope.APP,
        footer="Keys",
        palette="Keys",
        key_display="F1",
    ),
    Action(
        "quit",
        "quit",
        "ctrl+q",
        "quit tui-chat",
        Scope.APP,
        footer="Quit",
        palette="Quit",
        priority=True,
    ),
    # ------------------------------------------------------------------ chat screen
    Action(
        "stop_reply",
        "stop_reply",
        "escape",
        "stop the reply (keeps the partial text)",
        Scope.CHAT,
        palette="Stop reply",
    ),
    Action(
        "regenerate",
        "regenerate",
        "ctrl+r",
        "regenerate the last reply, or retry",
        Scope.CHAT,
        footer="Regenerate",
        palette="Regenerate reply",
    ),
    # Priority: TextArea and Input bind ctrl+e to "end of line" (home/end still do that).
    Action(
        "edit_in_editor",
        "edit_in_editor",
        "ctrl+e",
        "write the message in $VISUAL / $EDITOR",
        Scope.CHAT,
        palette="Edit in $EDITOR",
        priority=True,
    ),
    # Priority, like ctrl+n: the model's name typed right after ctrl+o (one burst over SSH) must
    # reach the dialog, which only a binding handled before the composer sees the keys can open.
    Action(
        "pick_model",
        "pick_model",
        "ctrl+o",
        "switch model (from the profile's server)",
        Scope.CHAT,
        footer="Model",
        palette="Switch model",
        priority=True,
    ),
    Action(
        "pick_theme",
        "app.pick_theme",
        "ctrl+t",
        "choose a theme, with live preview",
        Scope.CHAT,
        palette="Choose theme",
    ),
    Action(
        "show_help_question",
        "app.show_help",
        "question_mark",
        "show every key (outside the composer)",
        Scope.CHAT,
    ),
    Action("focus_composer", "focus_composer", "ctrl+l", "go to the composer", Scope.CHAT),
    # ------------------------------------------------------------------ @ completion
    # Bound on the composer, but they act only while the list of files typed after `@` is open
    # (otherwise the key does what it always does there: Enter sends, up/down move the cursor,
    # Tab moves the focus, Esc stops a reply). Plain keys: they arrive in every terminal.
    Action(
        "completion.accept",
        "accept_completion",
        "tab,enter",
        "attach the file (a folder: list it)",
        Scope.COMPLETION,
    ),
    Action("completion.next", "completion_next", "down", "next file", Scope.COMPLETION),
    Action("completion.previous", "completion_previous", "up", "previous file", Scope.COMPLETION),
    Action(
        "completion.close",
        "close_completion",
        "escape",
        "close the list (the text stays)",
        Scope.COMPLETION,
    ),
    # ------------------------------------------------------------------ composer
    # Its keys swap with `enter_sends = false` (see `KeyMap`).
    Action("composer.send", "send", "enter", "send the message", Scope.COMPOSER),
    Action(
        "composer.newline",
        "newline",
        "alt+enter,ctrl+j,shift+enter",
        "new line (shift+enter where reported)",
        Scope.COMPOSER,
    ),
    # ------------------------------------------------------------------ attached files
    # Delete and backspace as in any list of files; `d` as in the conversation list (some
    # laptop keyboards have no Delete key).
    Action(
        "attachments.remove",
        "remove_attachment",
        "delete,backspace,d",
        "remove the file from the message",
        Scope.ATTACHMENTS,
        footer="Remove",
    ),
    # ------------------------------------------------------------------ conversation list
    Action(
        "sidebar.filter",
        "focus_filter",
        "slash",
        "filter titles; Enter searches all text",
        Scope.LIST,
        footer="Filter",
    ),
    Action("sidebar.rename", "rename", "f2,r", "rename", Scope.LIST, footer="Rename"),
    Action(
        "sidebar.delete",
        "delete",
        "d,delete",
        "move to the trash (after a confirmation)",
        Scope.LIST,
        footer="Delete",
    ),
    Action(
        "sidebar.restore",
        "restore",
        "u",
        "restore the last deleted",
        Scope.LIST,
        footer="Undo delete",
    ),
    Action("sidebar.pin", "toggle_pin", "p", "pin / unpin", Scope.LIST, footer="Pin"),
    Action("sidebar.down", "cursor_down", "j", "move down", Scope.LIST),
    Action("sidebar.up", "cursor_up", "k", "move up", Scope.LIST),
    # ------------------------------------------------------------------ messages
    Action(
        "messages.previous",
        "select_previous",
        "up,k",
        "previous message",
        Scope.MESSAGES,
        footer="Prev msg",
    ),
    Action(
        "messages.next", "select_next", "down,j", "next message", Scope.MESSAGES, footer="Next msg"
    ),
    Action("messages.first", "first", "home", "first message", Scope.MESSAGES),
    Action("messages.last", "last", "end", "last message", Scope.MESSAGES),
    Action("messages.page_up", "page_up", "pageup", "page up", Scope.MESSAGES),
    Action("messages.page_down", "page_down", "pagedown", "page down", Scope.MESSAGES),
    Action(
        "messages.copy",
        "copy_message",
        "y",
        "copy the message (works over SSH)",
        Scope.MESSAGES,
        footer="Copy",
    ),
    Action(
        "messages.copy_code",
        "copy_code",
        "c",
        "copy the message's code blocks",
        Scope.MESSAGES,
        footer="Copy code",
    ),
    Action(
        "messages.edit",
        "edit_message",
        "e",
        "edit a message and resend it, in a fork",
        Scope.MESSAGES,
        footer="Edit",
    ),
    Action(
        "messages.tool_result",
        "toggle_tool_result",
        "enter",
        "show / fold the reply's tool results",
        Scope.MESSAGES,
    ),
    # A plain letter: it arrives alike in every terminal, multiplexer and SSH session.
    Action(
        "messages.thinking",
        "toggle_thinking",
        "t",
        "show / fold the model's thinking",
        Scope.MESSAGES,
        footer="Thinking",
    ),
    # A plain letter, as `t` for the thinking: "a" for attached.
    Action(
        "messages.attachments",
        "toggle_attachments",
        "a",
        "show / fold the attached files' text",
        Scope.MESSAGES,
    ),
    Action("messages.next_hit", "next_hit", "n", "next search hit", Scope.MESSAGES),
    Action("messages.previous_hit", "previous_hit", "N", "previous search hit", Scope.MESSAGES),
    # ------------------------------------------------------------------ tool approval
    # The dialog's own keys: single letters every terminal sends as typed. `footer` is the
    # word the dialog's key line shows beside each key.
    Action(
        "tool_approval.once",
        "answer('once')",
        "y",
        "run the tool call, this once",
        Scope.TOOL_APPROVAL,
        footer="run once",
    ),
    Action(
        "tool_approval.always",
        "answer('always')",
        "a",
        "run this tool unasked from now on",
        Scope.TOOL_APPROVAL,
        footer="always (saved to config)",
    ),
    Action(
        "tool_approval.decline",
        "answer('decline')",
        "n",
        "decline the call (the model is told)",
        Scope.TOOL_APPROVAL,
        footer="decline",
    ),
    Action(
        "tool_approval.stop",
        "stop",
        "escape",
        "stop the reply (the call is not run)",
        Scope.TOOL_APPROVAL,
        footer="stop",
        key_display="Esc",
    ),
    # ------------------------------------------------------------------ palette only
    # No key: they act on the open conversation (the list's keys act on the highlighted one).
    # They run on the chat screen, like the CHAT scope's actions.
    Action(
        "tools",
        "show_tools",
        "",
        "list the MCP tools; switch some off here",
        Scope.PALETTE,
        palette="Tools",
    ),
    Action(
        "conversation.rename",
        "rename_conversation",
        "",
        "rename the open conversation",
        Scope.PALETTE,
        palette="Rename conversation",
    ),
    Action(
        "conversation.delete",
        "delete_conversation",
        "",
        "move the open conversation to the trash",
        Scope.PALETTE,
        palette="Delete conversation",
    ),
    Action(
        "conversation.restore",
        "restore_conversation",
        "",
        "bring back the last conversation you deleted",
        Scope.PALETTE,
        palette="Restore deleted conversation",
    ),
    Action(
        "conversation.pin",
        "pin_conversation",
        "",
        "keep the open conversation at the top of the list",
        Scope.PALETTE,
        palette="Pin / unpin conversation",
    ),
    Action(
        "conversation.export",
        "export_conversation",
        "",
        "write the conversation as a Markdown file",
        Scope.PALETTE,
        palette="Export to Markdown",
    ),
    Action(
        "conversation.copy",
        "copy_conversation",
        "",
        "copy the whole conversation as Markdown (OSC 52)",
        Scope.PALETTE,
        palette="Copy conversation",
    ),
    Action(
        "conversation.profile",
        "pick_profile",
        "",
        "choose another server profile",
        Scope.PALETTE,
        palette="Switch profile",
    ),
    Action(
        "conversation.system_prompt",
        "edit_system_prompt",
        "",
        "change this conversation's system prompt",
        Scope.PALETTE,
        palette="Edit system prompt",
    ),
)

ACTION_IDS: frozenset[str] = frozenset(action.id for action in ACTIONS if action.keys)
"""Every id `[keys]` may name: the actions that have keys (palette-only ones have none)."""

BY_ID: Mapping[str, Action] = {action.id: action for action in ACTIONS}

# Keys that belong to Textual itself and cannot be remapped, shown on the keys screen.
TEXTUAL_KEYS: tuple[tuple[str, str], ...] = (
    ("tab, shift+tab", "move between list, messages and composer"),
    ("ctrl+p", "command palette: every action"),
)

# `enter_sends = false`: Enter is a newline and ctrl+j / alt+Enter send, for users used to
# clients where Enter breaks the line. Expressed as a keymap so `[keys]` can still override it.
_ENTER_IS_NEWLINE: Mapping[str, str] = {
    "composer.send": "ctrl+j,alt+enter",
    "composer.newline": "enter,shift+enter",
}


def actions_in(scope: Scope) -> Iterator[Action]:
    """The actions of one scope, in declaration order."""
    return (action for action in ACTIONS if action.scope is scope)


@dataclass(frozen=True)
class KeyMap:
    """The keys in force: defaults, the `enter_sends` layout, then the user's `[keys]`."""

    user_keys: Mapping[str, str]
    enter_sends: bool = True

    def overrides(self) -> dict[str, str]:
        """Binding id -> keys, for `App.set_keymap`: only what differs from the defaults."""
        layout = {} if self.enter_sends else dict(_ENTER_IS_NEWLINE)
        known = {key: value for key, value in self.user_keys.items() if key in ACTION_IDS}
        return {**layout, **known}

    def keys_of(self, action_id: str) -> str:
        """The keys that run an action now, comma-separated ('' for none)."""
        return self.overrides().get(action_id, BY_ID[action_id].keys)
