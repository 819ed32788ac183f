"""Process-local latency histograms, exposed on `/metrics` beside the store's counts.

Durations are per process (each replica reports its own work, as Prometheus expects); counts and
queue depths come from the shared store instead, so they agree across replicas. One registry,
owned here, keeps these out of prometheus_client's global default registry.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

# network-bound work: sub-second to the 30 s fetch deadline / 60 s LLM timeout
_SLOW = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
_FAST = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

FETCH_SECONDS = Histogram(
    "ainews_fetch_duration_seconds",
    "Time to fetch one source (all redirect hops, body read), by source URL.",
    ["source"],
    buckets=_SLOW,
    registry=REGISTRY,
)
PARSE_SECONDS = Histogram(
    "ainews_parse_duration_seconds",
    "Time to parse one fetched feed body.",
    buckets=_FAST,
    registry=REGISTRY,
)
ENRICH_SECONDS = Histogram(
    "ainews_enrich_duration_seconds",
    "Time to enrich one article, by engine.",
    ["engine"],
    buckets=_SLOW,
    registry=REGISTRY,
)
LLM_SECONDS = Histogram(
    "ainews_llm_request_duration_seconds",
    "Time of one LLM HTTP request (each retry counts), by model.",
    ["model"],
    buckets=_SLOW,
    registry=REGISTRY,
)
COMMAND_ACK_SECONDS = Histogram(
    "ainews_command_ack_seconds",
    "From receiving a chat command to acknowledging it, by platform.",
    ["platform"],
    buckets=_FAST,
    registry=REGISTRY,
)
COMMAND_ANSWER_SECONDS = Histogram(
    "ainews_command_answer_seconds",
    "Time to compute a chat command's answer, by platform and command.",
    ["platform", "command"],
    buckets=_SLOW,
    registry=REGISTRY,
)
