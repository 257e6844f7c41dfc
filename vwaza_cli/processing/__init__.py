"""Processing a track's master: measurements and renditions (spec/processing.md)."""
