"""Command-line interface: ``headwater``."""
