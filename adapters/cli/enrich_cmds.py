"""Command group placeholder; filled by its issue."""
