"""Prometheus text exposition of store counts, read fresh on each scrape.

Counts live in the shared database, not in process memory, so every replica reports the same
numbers and a restart loses nothing; the collector only formats one `StoreMetrics` snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from bot.observe import REGISTRY as PROCESS_REGISTRY
from bot.store.ops_metrics import OpsSnapshot
from bot.store.pages import StoreMetrics

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


def _by_label(
    name: str, documentation: str, label: str, values: Mapping[str, int]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class StoreCollector(Collector):
    """Yields one snapshot of the store's counts as metric families."""

    def __init__(self, snapshot: StoreMetrics) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot
        yield CounterMetricFamily("ainews_articles", "Articles stored.", value=s.articles)
        yield CounterMetricFamily("ainews_enrichments", "Enrichments stored.", value=s.enrichments)
        yield GaugeMetricFamily("ainews_stories", "Story clusters stored.", value=s.stories)
        yield GaugeMetricFamily("ainews_sources", "Sources configured.", value=s.sources)
        yield GaugeMetricFamily(
            "ainews_sources_with_fetch_errors",
            "Sources whose last fetches failed (error_count > 0).",
            value=s.sources_with_errors,
        )
        yield GaugeMetricFamily(
            "ainews_sources_disabled", "Sources disabled after failures.", value=s.sources_disabled
        )
        yield _by_label(
            "ainews_articles_by_enrich_status",
            "Articles by enrichment status.",
            "status",
            s.articles_by_enrich_status,
        )
        yield _by_label(
            "ainews_enrichments_by_engine",
            "Enrichments by engine (llm or offline).",
            "engine",
            s.enrichments_by_engine,
        )
        yield _by_label(
            "ainews_deliveries", "Outbox deliveries by status.", "status", s.deliveries_by_status
        )
        yield _by_label(
            "ainews_translations", "Translations by status.", "status", s.translations_by_status
        )
        tokens = CounterMetricFamily(
            "ainews_llm_tokens", "LLM tokens used, by direction.", labels=["direction"]
        )
        tokens.add_metric(["in"], s.llm_tokens_in)
        tokens.add_metric(["out"], s.llm_tokens_out)
        yield tokens
        yield CounterMetricFamily(
            "ainews_llm_cost_usd", "Estimated LLM spend in US dollars.", value=s.llm_cost_usd
        )
        if s.newest_article_at is not None:
            yield GaugeMetricFamily(
                "ainews_newest_article_published_timestamp_seconds",
                "Publication time of the newest stored article.",
                value=s.newest_article_at.timestamp(),
            )


class OpsCollector(Collector):
    """Outbox latency due→sent (last 24 h), queue depth by state, paused destinations."""

    def __init__(self, snapshot: OpsSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot
        yield HistogramMetricFamily(
            "ainews_delivery_latency_seconds",
            "Outbox rows sent in the last 24 h: seconds from due (queued) to sent.",
            buckets=[(bound, float(count)) for bound, count in s.latency_buckets],
            sum_value=s.latency_sum,
        )
        yield _by_label(
            "ainews_outbox_depth",
            "Outbox rows not yet delivered, by state.",
            "state",
            s.outbox_depth,
        )
        yield _by_label(
            "ainews_paused_destinations",
            "Channels not receiving (paused or disabled), by platform.",
            "platform",
            s.paused_by_platform,
        )


def render_metrics(snapshot: StoreMetrics, ops: OpsSnapshot | None = None) -> bytes:
    """Store counts, store-side operations and this process's latency histograms."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(snapshot))
    if ops is not None:
        registry.register(OpsCollector(ops))
    return generate_latest(registry) + generate_latest(PROCESS_REGISTRY)
