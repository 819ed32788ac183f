"""Persistence: the schema, the engine and sessions, migrations and repository queries."""
