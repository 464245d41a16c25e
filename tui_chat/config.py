"""The user's configuration: profiles (servers and keys), defaults, theme, key behaviour.

A broken config never stops the app: `load_config` returns defaults plus a list of
`ConfigProblem`s naming the file, line and key, for the UI or CLI to show.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import stat
import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, cast

DEFAULT_PROFILE_NAME = "openai"
DEFAULT_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class Profile:
    """One server to talk to: where it is, how to get its key, which models it offers."""

    name: str
    base_url: str | None = None  # None: the SDK's own default (OPENAI_BASE_URL or api.openai.com)
    api_key_env: str = "OPENAI_API_KEY"
    api_key_command: str | None = None
    # Inline key: accepted, but the file's mode is checked. Kept out of repr(): Textual's crash
    # screen prints the locals of every frame, and a Profile is in many of them.
    api_key: str | None = field(default=None, repr=False)
    default_model: str | None = None
    models: tuple[str, ...] = ()
    request_timeout: float = 600.0
    max_tokens: int | None = None
    temperature: float | None = None
    # A flaky local server may want more retries of a 429/5xx/dropped connection; 0 turns
    # them off. Retries wait as the server's Retry-After asks.
    max_retries: int = 2
    # A password manager that asks for a PIN or touch may need longer than the default.
    api_key_command_timeout: float = 15.0


@dataclass(frozen=True)
class ModelPrice:
    """A user-supplied price override, in US dollars per million tokens."""

    input: float
    output: float
    cached_input: float | None = None
    context_window: int | None = None


ToolApproval = Literal["ask", "always"]
TOOL_APPROVALS: tuple[ToolApproval, ...] = ("ask", "always")


@dataclass(frozen=True)
class McpServer:
    """An MCP server whose tools the model may call: a command run over stdio, or a URL
    (streamable HTTP). Configured the way other MCP clients spell it, as `[mcp_servers.NAME]`.

    `env` and `headers` may hold keys: they are kept out of repr() (Textual's crash screen prints
    frames' locals) and never shown or written into a conversation.
    """

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict, repr=False, hash=False)
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False, hash=False)
    enabled: bool = True
    # Tool name -> "ask" (the default for any tool not named) or "always" (runs unasked).
    approvals: dict[str, ToolApproval] = field(default_factory=dict, hash=False)
    # Seconds to start and list tools, and for one call: past them the server is given up on.
    startup_timeout: float = 30.0
    call_timeout: float = 60.0

    def approval(self, tool: str) -> ToolApproval:
        """How a call to `tool` is approved: asked for each call unless set to "always"."""
        return self.approvals.get(tool, "ask")


@dataclass(frozen=True)
class ConfigProblem:
    """Something wrong in a config file, said so a user can find and fix it."""

    path: Path
    message: str
    line: int | None = None
    key: str | None = None
    # The whole file was set aside (bad TOML, unreadable): every setting is a default, the
    # profiles and their servers included.
    whole_file: bool = False

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        key = f" [{self.key}]" if self.key else ""
        return f"{where}{key}: {self.message}"


@dataclass
class Config:
    """Everything tui-chat reads from config.toml, with defaults for what is not there."""

    default_profile: str = DEFAULT_PROFILE_NAME
    default_model: str | None = None
    theme: str | None = None  # None: not configured, the app picks by terminal colours
    system_prompt: str = ""
    enter_sends: bool = True  # False swaps: Enter inserts a newline, ctrl+j / alt+enter send
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> keys, e.g. "quit": "ctrl+x"
    profiles: dict[str, Profile] = field(default_factory=dict)
    prices: dict[str, ModelPrice] = field(default_factory=dict)
    mcp_servers: dict[str, McpServer] = field(default_factory=dict)
    source: Path | None = None

    def __post_init__(self) -> None:
        self.profiles.setdefault(DEFAULT_PROFILE_NAME, Profile(name=DEFAULT_PROFILE_NAME))

    def profile(self, name: str | None = None) -> Profile:
        """The named profile, falling back to the default profile, then to the OpenAI one."""
        for candidate in (name, self.default_profile, DEFAULT_PROFILE_NAME):
            if candidate and candidate in self.profiles:
                return self.profiles[candidate]
        return Profile(name=DEFAULT_PROFILE_NAME)

    def unused_profile_name(self, wanted: str) -> str:
        """`wanted`, else `wanted-2`, `wanted-3`...: the first name no profile has yet."""
        name, number = wanted, 1
        while name in self.profiles:
            number += 1
            name = f"{wanted}-{number}"
        return name

    def model_for(self, profile: Profile) -> str:
        return (
            profile.default_model
            or (profile.models[0] if profile.models else None)
            or self.default_model
            or DEFAULT_MODEL
        )


_TOP_LEVEL_TYPES: dict[str, type | tuple[type, ...]] = {
    "default_profile": str,
    "default_model": str,
    "theme": str,
    "system_prompt": str,
    "enter_sends": bool,
    "keys": dict,
    "profiles": dict,
    "prices": dict,
    "mcp_servers": dict,
}
_PROFILE_TYPES: dict[str, type | tuple[type, ...]] = {
    "base_url": str,
    "api_key_env": str,
    "api_key_command": str,
    "api_key": str,
    "default_model": str,
    "models": list,
    "request_timeout": (int, float),
    "max_tokens": int,
    "temperature": (int, float),
    "max_retries": int,
    "api_key_command_timeout": (int, float),
}
# Profile numbers that must be positive (or, for max_retries, at least 0) to make sense.
_PROFILE_MINIMUMS: dict[str, tuple[float, bool]] = {  # key: (minimum, minimum allowed)
    "request_timeout": (0, False),
    "api_key_command_timeout": (0, False),
    "max_tokens": (0, False),
    "max_retries": (0, True),
}
_PRICE_TYPES: dict[str, type | tuple[type, ...]] = {
    "input": (int, float),
    "output": (int, float),
    "cached_input": (int, float),
    "context_window": int,
}
_MCP_SERVER_TYPES: dict[str, type | tuple[type, ...]] = {
    "command": str,
    "args": list,
    "env": dict,
    "url": str,
    "headers": dict,
    "enabled": bool,
    "tools": dict,
    "startup_timeout": (int, float),
    "call_timeout": (int, float),
}
_MCP_TOOL_TYPES: dict[str, type | tuple[type, ...]] = {"approve": str}


_KEY_PART = re.compile(r'"([^"]*)"|\'([^\']*)\'|([^.\s"\']+)')
_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


def _key_parts(dotted: str) -> tuple[str, ...]:
    return tuple(next(g for g in m.groups() if g is not None) for m in _KEY_PART.finditer(dotted))


def _line_of_key(text: str, key: str) -> int | None:
    """Best-effort line number of a dotted key in the source text (tomllib does not report it).

    A table (`profiles.local`) is found at its `[profiles.local]` header; a key in a table is
    looked for below that table's header, so `base_url` of one profile is not confused with
    another's.
    """
    lines = text.splitlines()
    parts = _key_parts(key)
    headers: dict[tuple[str, ...], int] = {}
    for number, line in enumerate(lines):
        match = _HEADER.match(line)
        if match:
            headers.setdefault(_key_parts(match.group(1)), number)
    if parts in headers:
        return headers[parts] + 1
    table, leaf = parts[:-1], parts[-1] if parts else key
    start = headers[table] + 1 if table in headers else 0
    leaf_pattern = re.compile(rf"""\s*(["']?){re.escape(leaf)}\1\s*=""")
    for number in range(start, len(lines)):
        if _HEADER.match(lines[number]) and (not table or table in headers):
            break  # past the end of the table the key belongs to
        if leaf_pattern.match(lines[number]):
            return number + 1
    return None


class _Checker:
    """Collects type and unknown-key problems while reading a parsed config table."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.problems: list[ConfigProblem] = []

    def table(
        self, data: dict[str, Any], types: dict[str, type | tuple[type, ...]], prefix: str
    ) -> dict[str, Any]:
        good: dict[str, Any] = {}
        for key, value in data.items():
            dotted = f"{prefix}{key}"
            expected = types.get(key)
            if expected is None:
                self.problem(dotted, f"unknown key {key!r} (ignored)")
            elif isinstance(value, bool) and bool not in _as_tuple(expected):
                self.problem(dotted, f"{key!r} should be {_type_name(expected)}, not a boolean")
            elif not isinstance(value, expected):
                self.problem(
                    dotted, f"{key!r} should be {_type_name(expected)}, not {type(value).__name__}"
                )
            else:
                good[key] = value
        return good

    def problem(self, key: str, message: str) -> None:
        self.problems.append(
            ConfigProblem(self.path, message, line=_line_of_key(self.text, key), key=key)
        )


def _as_tuple(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {
        "str": "a string",
        "bool": "true or false",
        "int": "a whole number",
        "float": "a number",
        "dict": "a table",
        "list": "a list",
    }
    return " or ".join(names.get(t.__name__, t.__name__) for t in _as_tuple(expected))


def load_config(
    path: Path, *, action_ids: Collection[str] | None = None
) -> tuple[Config, list[ConfigProblem]]:
    """Read config.toml. A missing file means defaults; a broken one, defaults plus problems.

    `action_ids`: the ids `[keys]` may name (the UI's action registry); an unknown one is
    reported with its line. None skips that check (callers that do not use keys).
    """
    if not path.exists():
        return Config(), []
    try:
        text = path.read_text(encoding="utf-8-sig")  # skip a BOM some Windows editors add
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        from tui_chat.storage.toml_read import toml_error_position

        line, reason = toml_error_position(error)
        return Config(source=path), [
            ConfigProblem(path, f"not valid TOML: {reason}", line=line, whole_file=True)
        ]
    except (OSError, UnicodeDecodeError) as error:
        return Config(source=path), [
            ConfigProblem(path, f"cannot be read: {error}", whole_file=True)
        ]

    checker = _Checker(path, text)
    top = checker.table(data, _TOP_LEVEL_TYPES, "")
    profiles: dict[str, Profile] = {}
    for name, raw in top.get("profiles", {}).items():
        if not isinstance(raw, dict):
            checker.problem(f'profiles."{name}"', "a profile should be a table")
            continue
        values = checker.table(raw, _PROFILE_TYPES, f'profiles."{name}".')
        for key, (minimum, allowed) in _PROFILE_MINIMUMS.items():
            value = values.get(key)
            if value is not None and (value < minimum or (value == minimum and not allowed)):
                bound = f"at least {minimum}" if allowed else f"more than {minimum}"
                checker.problem(f'profiles."{name}".{key}', f"should be {bound}; using the default")
                del values[key]
        models = tuple(str(m) for m in values.pop("models", ()))
        if name != DEFAULT_PROFILE_NAME and "base_url" not in values:
            checker.problem(
                f'profiles."{name}"', "profile has no base_url; it will use the OpenAI default"
            )
        profiles[name] = Profile(name=name, models=models, **values)
    keys: dict[str, str] = {}
    for binding_id, key in top.get("keys", {}).items():
        # Ids such as "sidebar.delete" hold a dot: quoted, as the TOML file must spell them.
        dotted = f'keys."{binding_id}"' if "." in binding_id else f"keys.{binding_id}"
        if action_ids is not None and binding_id not in action_ids:
            near = difflib.get_close_matches(binding_id, sorted(action_ids), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else " (F1 lists the keys)"
            checker.problem(dotted, f"no action with the id {binding_id!r} (ignored){hint}")
        elif isinstance(key, str) and key.strip():
            keys[binding_id] = key.strip()
        else:
            checker.problem(dotted, "a key binding should be a string like 'ctrl+x'")
    prices: dict[str, ModelPrice] = {}
    for model, raw in top.get("prices", {}).items():
        if not isinstance(raw, dict):
            checker.problem(f'prices."{model}"', "a price should be a table")
            continue
        values = checker.table(raw, _PRICE_TYPES, f'prices."{model}".')
        if "input" not in values or "output" not in values:
            checker.problem(f'prices."{model}"', "a price needs both input and output")
            continue
        prices[model] = ModelPrice(**values)
    mcp_servers: dict[str, McpServer] = {}
    for name, raw in top.get("mcp_servers", {}).items():
        server = _mcp_server(checker, name, raw)
        if server is not None:
            mcp_servers[name] = server

    config = Config(
        default_profile=top.get("default_profile", DEFAULT_PROFILE_NAME),
        default_model=top.get("default_model"),
        theme=top.get("theme"),
        system_prompt=top.get("system_prompt", ""),
        enter_sends=top.get("enter_sends", True),
        keys=keys,
        profiles=profiles,
        prices=prices,
        mcp_servers=mcp_servers,
        source=path,
    )
    if any(p.api_key for p in profiles.values()) and _mode_is_wider_than_0600(path):
        checker.problems.append(
            ConfigProblem(
                path,
                "holds an API key but other users can read it: run chmod 600 on it",
            )
        )
    elif any(s.env or s.headers for s in mcp_servers.values()) and _mode_is_wider_than_0600(path):
        checker.problems.append(
            ConfigProblem(
                path,
                "holds MCP server env or headers (they may be keys) but other users can read it:"
                " run chmod 600 on it",
            )
        )
    if config.default_profile not in config.profiles:
        checker.problem("default_profile", f"no profile named {config.default_profile!r}")
    return config, checker.problems


def _mcp_server(checker: _Checker, name: str, raw: object) -> McpServer | None:
    """One `[mcp_servers.NAME]` table, or None (with a problem said) when it cannot be used."""
    where = f'mcp_servers."{name}"'
    if not isinstance(raw, dict):
        checker.problem(where, "an MCP server should be a table")
        return None
    values = checker.table(raw, _MCP_SERVER_TYPES, f"{where}.")
    for key in ("args",):
        if not all(isinstance(item, str) for item in values.get(key, ())):
            checker.problem(f"{where}.{key}", f"{key!r} should be a list of strings")
            return None
    for key in ("env", "headers"):
        if not all(isinstance(item, str) for item in values.get(key, {}).values()):
            checker.problem(f"{where}.{key}", f"every value of {key!r} should be a string")
            return None
    for key in ("startup_timeout", "call_timeout"):
        if key in values and values[key] <= 0:
            checker.problem(f"{where}.{key}", "should be more than 0; using the default")
            del values[key]
    if ("command" in values) == ("url" in values):
        checker.problem(where, "an MCP server needs either command (stdio) or url (HTTP)")
        return None
    approvals: dict[str, ToolApproval] = {}
    for tool, settings in values.pop("tools", {}).items():
        tool_where = f'{where}.tools."{tool}"'
        if not isinstance(settings, dict):
            checker.problem(tool_where, "a tool's settings should be a table")
            continue
        approve = checker.table(settings, _MCP_TOOL_TYPES, f"{tool_where}.").get("approve")
        if approve is None:
            continue
        if approve not in TOOL_APPROVALS:
            checker.problem(
                f"{tool_where}.approve", f'approve should be "ask" or "always", not {approve!r}'
            )
            continue
        approvals[tool] = cast(ToolApproval, approve)
    return McpServer(
        name=name,
        args=tuple(values.pop("args", ())),
        env=dict(values.pop("env", {})),
        headers=dict(values.pop("headers", {})),
        approvals=approvals,
        **values,
    )


def _mode_is_wider_than_0600(path: Path) -> bool:
    if os.name != "posix":
        return False
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def save_setting(path: Path, key: str, value: str | bool) -> None:
    """Set one top-level key in config.toml, keeping the rest of the user's text as it is.

    Used for choices made in the app (the theme). The file is created 0600 when missing, since
    config files may later hold a key; an existing file keeps its mode, and a symlinked one (a
    dotfiles repository) is written through the link rather than replaced by a plain file.
    """
    _edit_config(path, lambda lines: _set_top_level(lines, key, value))


def save_profile(path: Path, profile: Profile, *, make_default: bool = False) -> None:
    """Add `[profiles.<name>]` at the end of config.toml (and, with `make_default`, set
    default_profile to it), keeping the rest of the user's text as `save_setting` does.

    Only what differs from a new profile's defaults is written, and never an inline key.
    Raises ValueError when the file already has a profile of that name (a second table of one
    name would make the file invalid TOML).
    """
    import tomli_w

    defaults = Profile(name=profile.name)
    table: dict[str, Any] = {}
    for spec in fields(Profile):
        value = getattr(profile, spec.name)
        if spec.name in ("name", "api_key") or value == getattr(defaults, spec.name):
            continue
        table[spec.name] = list(value) if isinstance(value, tuple) else value
    written = tomli_w.dumps({"profiles": {profile.name: table}}).strip().splitlines()

    def edit(lines: list[str]) -> None:
        with contextlib.suppress(tomllib.TOMLDecodeError):  # a broken file: appended all the same
            profiles = tomllib.loads("\n".join(lines)).get("profiles")
            if isinstance(profiles, dict) and profile.name in profiles:
                raise ValueError(f"config.toml already has a profile named {profile.name!r}")
        if make_default:
            _set_top_level(lines, "default_profile", profile.name)
        if lines and lines[-1].strip():
            lines.append("")
        lines.extend(written)

    _edit_config(path, edit)


def save_tool_approval(path: Path, server: str, tool: str, approve: ToolApproval) -> None:
    """Set `approve` of one MCP tool in config.toml (`[mcp_servers.S.tools.T]`), keeping the
    rest of the user's text as `save_setting` does: the line is replaced in that table when the
    file has one, else the table is added at the end.

    Raises ValueError when the file spells the tool in a form this cannot edit (an inline table):
    the file is then left as it was.
    """
    import tomli_w

    parts = ("mcp_servers", server, "tools", tool)
    written = tomli_w.dumps({"mcp_servers": {server: {"tools": {tool: {"approve": approve}}}}})
    header, line = written.strip().splitlines()

    def edit(lines: list[str]) -> None:
        start = next((i for i, text in enumerate(lines) if _table_header(text) == parts), None)
        if start is None:
            if lines and lines[-1].strip():
                lines.append("")
            lines.extend((header, line))
        else:
            end = next(
                (i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i])), len(lines)
            )
            at = next(
                (i for i in range(start + 1, end) if re.match(r"\s*approve\s*=", lines[i])), None
            )
            if at is None:
                lines.insert(start + 1, line)
            else:
                lines[at] = line
        try:
            tools = tomllib.loads("\n".join(lines))["mcp_servers"][server]["tools"]
            saved = tools[tool]["approve"]
        except (tomllib.TOMLDecodeError, KeyError, TypeError):
            saved = None
        if saved != approve:
            raise ValueError(
                f"config.toml spells the tool {tool!r} of {server!r} in a form tui-chat cannot "
                f'edit: set approve = "{approve}" under it by hand'
            )

    _edit_config(path, edit)


def _table_header(line: str) -> tuple[str, ...] | None:
    match = _HEADER.match(line)
    return _key_parts(match.group(1)) if match else None


def _edit_config(path: Path, edit: Callable[[list[str]], None]) -> None:
    """The one write path of config.toml: read its lines, let `edit` change them, write them back
    atomically with the file's mode (0600 for a new file), through a symlink if it is one."""
    from tui_chat.storage.atomic import atomic_write_text  # storage owns the one write path

    path = path.resolve()
    exists = path.exists()
    text = path.read_text(encoding="utf-8") if exists else ""
    mode = stat.S_IMODE(path.stat().st_mode) if exists else 0o600
    lines = text.splitlines()
    edit(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "\n".join(lines) + "\n", mode=mode)


def _set_top_level(lines: list[str], key: str, value: str | bool) -> None:
    """Replace `key = ...` above the first table, or insert it just before that table."""
    import tomli_w

    line = tomli_w.dumps({key: value}).strip()
    in_table = False
    for index, existing in enumerate(lines):
        stripped = existing.strip()
        if stripped.startswith("["):
            in_table = True
        if not in_table and (stripped.startswith(f"{key} ") or stripped.startswith(f"{key}=")):
            lines[index] = line
            return
    first_table = next((i for i, ln in enumerate(lines) if ln.strip().startswith("[")), len(lines))
    lines.insert(first_table, line)
