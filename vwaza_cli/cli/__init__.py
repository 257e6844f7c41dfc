"""The command line: one Typer sub-app per noun, wired together in ``main``."""
