"""The first run without an API key: what a newcomer meets right after installing.

`FirstRun` is a helper the chat screen owns. While the open conversation's profile
has no key, the empty message pane says how to get one going; once start-up is over, servers on
this machine's usual ports are looked for, and each one found is offered as one key (1-4) that
saves a profile for it in config.toml and switches to it. A message sent meanwhile is not sent:
it stays in the composer, and one line says what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from textual.notifications import SeverityLevel

from tui_chat.config import Profile, save_profile, save_setting
from tui_chat.domain import Conversation
from tui_chat.engine.api_keys import lacks_api_key
from tui_chat.engine.errors import host_of
from tui_chat.engine.local_servers import LocalServer, find_local_servers
from tui_chat.engine.servers import effective_base_url
from tui_chat.ui.background import Notify, ThreadWork
from tui_chat.ui.bindings import LOCAL_SERVER_BINDINGS
from tui_chat.ui.services import Services
from tui_chat.ui.widgets.message_layout import Hint


@dataclass
class LocalServerOffers:
    """The local servers found, and the text of a send refused for want of a key (while the
    composer still holds exactly that text, a digit picks a server rather than typing)."""

    found: list[LocalServer] = field(default_factory=list)
    searched: bool = False  # a search has come back, whatever it found
    refused_text: str | None = None

    @property
    def offers(self) -> list[LocalServer]:
        """The servers one key can pick: those with a model to talk to, one per binding."""
        return [server for server in self.found if server.models][: len(LOCAL_SERVER_BINDINGS)]


def _models(server: LocalServer) -> str:
    count = len(server.models)
    return f"{count} model" if count == 1 else f"{count} models"


def _offer_keys(offers: list[LocalServer]) -> str:
    choices = ", ".join(
        f"{number} for {server.kind.label} at {server.address} ({_models(server)})"
        for number, server in enumerate(offers, 1)
    )
    return f"press {choices}"


class FirstRun:
    """Guides a run without an API key: the empty pane's text, local servers, refused sends.

    `hints_changed` is called when what the empty pane should say has changed; `withdraw`
    takes down a notice raised earlier (the missing key's, once there is one)."""

    def __init__(
        self,
        services: Services,
        threads: ThreadWork,
        notify: Notify,
        conversation: Callable[[], Conversation],
        hints_changed: Callable[[], None],
        withdraw: Callable[[str], None],
    ) -> None:
        self._services = services
        self._threads = threads
        self._notify = notify
        self._conversation = conversation
        self._hints_changed = hints_changed
        self._withdraw = withdraw
        self.local_servers = LocalServerOffers()
        self._said: list[str] = []  # the notices about the missing key still up

    def _profile(self) -> Profile:
        return self._services.config.profile(self._conversation().profile)

    def lacks_api_key(self) -> bool:
        """True while the open conversation's profile needs a key and has none."""
        return lacks_api_key(self._profile())

    def hints(self) -> list[Hint]:
        """What the empty pane says with no key (how to get going, local servers found), or
        nothing while the profile has a key."""
        if not self.lacks_api_key():
            return []
        profile = self._profile()
        hints = [
            Hint(
                f"No API key for profile '{profile.name}' ({host_of(effective_base_url(profile))})."
            ),
            Hint(
                f"Set {profile.api_key_env} (or api_key_env / api_key_command in config.toml;"
                " `tui-chat paths` shows where it is), or use a local server: Ollama, llama.cpp,"
                " LM Studio and vLLM on this machine are found at start."
            ),
        ]
        offers = self.local_servers.offers
        for server in self.local_servers.found:
            where = f"{server.kind.label} at {server.address}"
            if server in offers:
                number = offers.index(server) + 1
                text = f"Found {where} ({_models(server)}) — press {number} to use it."
                hints.append(Hint(text, emphasis=True))
            else:
                hints.append(Hint(f"Found {where}, but it lists no models."))
        return hints

    def look_for_local_servers(self) -> None:
        """Once start-up is over (and after a refused send): ask this machine's usual ports for
        an OpenAI-compatible server, only while there is no key to use instead."""
        if self.lacks_api_key():
            self._threads.start(self._probe_local_servers, group="local-servers", exclusive=True)

    def _probe_local_servers(self) -> None:
        servers = find_local_servers()  # blocking, at most ~1 s when a port answers slowly
        self._threads.to_ui(self._local_servers_found, servers)

    def _local_servers_found(self, servers: list[LocalServer]) -> None:
        self.local_servers.found = servers
        self.local_servers.searched = True
        self._hints_changed()
        offers = self.local_servers.offers
        if offers and self._conversation().messages and self.lacks_api_key():
            # The empty pane that lists the offers is not on screen: say it once here.
            self._say(f"No API key: {_offer_keys(offers)}.", "information")

    def refuse_without_api_key(self, text: str) -> bool:
        """A send with no key and no server chosen: no request and no error reply; the text
        stays in the composer and one line says what to do. True when refused."""
        if not self.lacks_api_key():
            return False
        self.local_servers.refused_text = text
        profile = self._profile()
        offers = self.local_servers.offers
        if offers:
            what = f"{_offer_keys(offers)}, or set {profile.api_key_env}"
        else:
            what = (
                f"set {profile.api_key_env} (or api_key_command in config.toml; `tui-chat paths`"
                " shows where), or start a local server"
            )
            self.look_for_local_servers()  # one may have been started since
        self._say(
            f"Not sent, no API key for '{profile.name}': {what}. Your message stays here.",
            "warning",
        )
        return True

    def _say(self, notice: str, severity: SeverityLevel) -> None:
        self._said.append(notice)
        self._notify(notice, severity=severity, timeout=15)

    def settings_changed(self) -> None:
        """The open conversation's profile or the config changed: once it has a key (a local
        server picked, another profile), the notices about the missing one go."""
        if self.lacks_api_key():
            return
        for notice in self._said:
            self._withdraw(notice)
        self._said.clear()

    def digit_picks_a_server(self, number: object, composer_text: str) -> bool:
        """Whether digit `number`, pressed while the composer holds `composer_text`, picks an
        offered server: only while one is offered and the composer holds no text of the user's
        (or just the text of the refused send); otherwise the digit is typed."""
        offers = self.local_servers.offers
        if not (isinstance(number, int) and 1 <= number <= len(offers)) or not self.lacks_api_key():
            return False
        return composer_text == "" or composer_text == self.local_servers.refused_text

    def use_local_server(self, number: int) -> str:
        """Use offered server `number` from now on: a profile for it in config.toml (the
        default profile too), and the open conversation switched to it. Returns the sentence
        that says so."""
        server = self.local_servers.offers[number - 1]
        config = self._services.config
        path = self._services.paths.config_file
        existing = self._profile_at(server.base_url)
        profile = existing or server.as_profile(
            config.unused_profile_name(server.kind.profile_name)
        )
        try:
            if existing is None:
                save_profile(path, profile, make_default=True)
                saved = f"saved as profile '{profile.name}' in {path}"
            else:
                save_setting(path, "default_profile", profile.name)
                saved = f"profile '{profile.name}' is now the default"
        except (OSError, ValueError) as error:
            saved = f"for this session only, as it could not be saved ({error})"
        config.profiles[profile.name] = profile
        config.default_profile = profile.name
        self.local_servers = LocalServerOffers()
        conversation = self._conversation()
        conversation.profile = profile.name
        conversation.model = config.model_for(profile)
        return (
            f"Using {server.kind.label} at {server.address}, model {conversation.model}: {saved}."
        )

    def _profile_at(self, base_url: str) -> Profile | None:
        """A profile the user already has for this server (then no second one is written)."""
        for profile in self._services.config.profiles.values():
            if profile.base_url and profile.base_url.rstrip("/") == base_url:
                return profile
        return None
