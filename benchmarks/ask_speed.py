"""`tui-chat ask "hi"` as a whole process, against the local test server, next to the same
request made by a minimal openai-SDK script and, when it is installed, by `llm`.

Each round runs every contender once, back to back in a shuffled order, as a fresh process from
start to exit (wall clock), so a noisy machine slows them alike; the figures are medians over the
rounds, and the ratio is the median of each round's ratio. Every run's output is checked to be
the reply. The test server runs in its own process; tui-chat saves each exchange as usual (into
a temporary folder), and llm logs it to its database, as each does by default.

Usage: python benchmarks/ask_speed.py [--rounds N] [--llm PATH]
  --llm   the `llm` command (default: `llm` on PATH); it is installed in a throwaway venv:
          python -m venv /tmp/llm-venv && /tmp/llm-venv/bin/pip install llm
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from server_process import start_test_server

PROMPT = "hi"
EXPECTED = f"You said: {PROMPT}"  # the test server's default reply

# The smallest script that streams the same request with the openai SDK and prints the reply.
SDK_SCRIPT = """\
import sys
from openai import OpenAI

client = OpenAI(base_url=sys.argv[1], api_key="not-needed")
stream = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": sys.argv[2]}], stream=True
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        sys.stdout.write(chunk.choices[0].delta.content)
        sys.stdout.flush()
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    """Seconds from spawning `command` to its exit; fails unless it printed the reply."""
    started = time.perf_counter()
    done = subprocess.run(
        command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or done.stdout.strip() != EXPECTED:
        failure = f"{done.returncode} {done.stdout!r} {done.stderr!r}"
        raise RuntimeError(f"{command[0]} failed: {failure}")
    return elapsed


def contenders(work: Path, base_url: str, llm: str | None) -> dict[str, Callable[[], float]]:
    """Name -> one timed run, each configured for the same server, model and prompt."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUI_CHAT_"))}
    config = work / "config.toml"
    config.write_text(
        'default_profile = "bench"\n[profiles.bench]\n'
        f'base_url = "{base_url}"\ndefault_model = "gpt-4o-mini"\n',
        encoding="utf-8",
    )
    tui_env = {**env, "TUI_CHAT_CONFIG": str(config), "TUI_CHAT_DATA_DIR": str(work / "data")}
    tui_chat = str(Path(sys.executable).parent / "tui-chat")
    script = work / "sdk_ask.py"
    script.write_text(SDK_SCRIPT, encoding="utf-8")
    runs: dict[str, Callable[[], float]] = {
        "tui-chat ask": lambda: timed([tui_chat, "ask", PROMPT], tui_env),
        "openai SDK script": lambda: timed([sys.executable, str(script), base_url, PROMPT], env),
    }
    if llm is not None:
        user_path = work / "llm"
        user_path.mkdir()
        (user_path / "extra-openai-models.yaml").write_text(
            f'- model_id: bench\n  model_name: gpt-4o-mini\n  api_base: "{base_url}"\n',
            encoding="utf-8",
        )
        llm_env = {**env, "LLM_USER_PATH": str(user_path), "OPENAI_API_KEY": "not-needed"}
        runs["llm"] = lambda: timed([llm, "-m", "bench", PROMPT], llm_env)
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--llm", help="the llm command (default: llm on PATH)")
    args = parser.parse_args()
    llm = args.llm or shutil.which("llm")
    server, base_url = start_test_server()
    try:
        with tempfile.TemporaryDirectory(prefix="tui-chat-ask-bench-") as folder:
            runs = contenders(Path(folder), base_url, llm)
            for run in runs.values():  # warm the OS file cache and bytecode once
                run()
            times: dict[str, list[float]] = {name: [] for name in runs}
            order = list(runs)
            for _ in range(args.rounds):
                random.shuffle(order)
                for name in order:
                    times[name].append(runs[name]())
    finally:
        server.terminate()
        server.wait(timeout=10)
    base = "openai SDK script"
    print(f"whole process, `ask {PROMPT!r}` against the local test server, {args.rounds} rounds")
    print(f"{'':20} {'median':>8} {'min':>8} {'max':>8}  median of per-round ratios")
    for name, values in times.items():
        ratios = [mine / sdk for mine, sdk in zip(values, times[base], strict=True)]
        print(
            f"{name:20} {statistics.median(values):7.3f}s {min(values):7.3f}s "
            f"{max(values):7.3f}s  {statistics.median(ratios):.2f}x the SDK script"
        )
    if llm is None:
        print("llm: not installed (pass --llm PATH to compare)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
