"""Enrichment: TL;DR, key points, tags and rubric scores (LLM or offline), and translation."""
