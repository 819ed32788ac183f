"""The ainews application: use cases, I/O, scheduling and persistence, free of platform SDKs."""
