"""Widgets, one per module, each owning its piece of the screen and talking by messages."""
