"""`tui-chat ask "hi"` as a whole process, against the local test server, next to the same
request made by a minimal openai-SDK script and, when it is installed, by `llm`.

Each round runs every contender once, back to back in a shuffled order, as a fresh process from
spawn to exit, so a noisy machine slows them alike; the figures are medians over the rounds of
wall-clock time and of the CPU time the process used (steadier on a busy machine), and each
ratio is the median of the rounds' ratios. Every run's output is checked to be
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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Run:
    """One process: wall-clock seconds from spawn to exit, and the CPU seconds it used."""

    wall: float
    cpu: float


def timed(command: list[str], env: dict[str, str]) -> Run:
    """Run `command` once; fails unless it printed the reply."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]  # PIPE
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or out.decode().strip() != EXPECTED:
        raise RuntimeError(f"{command[0]} failed: {process.returncode} {out!r} {err!r}")
    return Run(wall, usage.ru_utime + usage.ru_stime)


def contenders(work: Path, base_url: str, llm: str | None) -> dict[str, Callable[[], Run]]:
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
    runs: dict[str, Callable[[], Run]] = {
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
            times: dict[str, list[Run]] = {name: [] for name in runs}
            order = list(runs)
            for _ in range(args.rounds):
                random.shuffle(order)
                for name in order:
                    times[name].append(runs[name]())
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"whole process, `ask {PROMPT!r}` against the local test server, {args.rounds} rounds")
    print(
        f"{'':18} {'wall median':>11} {'min':>7}  {'vs SDK':>6}  {'CPU median':>10}  {'vs SDK':>6}"
    )
    sdk = times["openai SDK script"]
    for name, runs_of in times.items():
        walls = [run.wall for run in runs_of]
        cpus = [run.cpu for run in runs_of]
        # Ratios within each round: both sides ran back to back, under the same load.
        wall_ratio = statistics.median(r.wall / s.wall for r, s in zip(runs_of, sdk, strict=True))
        cpu_ratio = statistics.median(r.cpu / s.cpu for r, s in zip(runs_of, sdk, strict=True))
        print(
            f"{name:18} {statistics.median(walls):10.3f}s {min(walls):6.3f}s  {wall_ratio:5.2f}x"
            f"  {statistics.median(cpus):9.3f}s  {cpu_ratio:5.2f}x"
        )
    if llm is None:
        print("llm: not installed (pass --llm PATH to compare)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
