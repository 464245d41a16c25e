"""`python -m tui_chat` does what the `tui-chat` command does."""

from tui_chat.cli import main

raise SystemExit(main())
