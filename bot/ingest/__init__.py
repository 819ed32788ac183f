"""Ingestion: polite fetching, feed parsing, normalisation, dedup and storage of articles."""
