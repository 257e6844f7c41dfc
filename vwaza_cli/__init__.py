"""Vwaza Release Manager: prepare music releases, upload them robustly, review them."""

__version__ = "0.1.0"
