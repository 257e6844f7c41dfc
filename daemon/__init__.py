"""The upload daemon: moves staged files to object storage, once, whatever fails."""
