"""The seed's sections on the web: tools, videos, trends, companies, and the per-view feeds.

Charts are server-rendered SVG (digest/charts.py), so the pages need no script; feeds reuse the
RSS writer of `/feed.xml` with their own title and self link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.i18n import Translator
from adapters.web_feed import render_feed
from adapters.web_i18n import UIText
from bot.companies import CompanyPage, company_page, list_companies
from bot.sections import tools_digest, videos_digest
from bot.store.pages import latest_stories
from bot.trends import MIN_COUNT, trend_report
from digest.charts import svg_line_chart
from digest.knowledge import knowledge

if TYPE_CHECKING:
    from adapters.web import WebViews

MAX_TAG_CHARS = 100
MAX_SLUG_CHARS = 100
SECTION_SIZE = 50
FEED_SIZE = 50
RSS = "application/rss+xml; charset=utf-8"


def _tag(raw: str) -> str:
    tag = raw.strip().lstrip("#").lower()
    if not tag or len(tag) > MAX_TAG_CHARS or "/" in tag:
        raise HTTPException(404)
    return tag


class SectionViews:
    """Endpoints of the sections; `views` supplies page rendering and the app context."""

    def __init__(self, views: WebViews) -> None:
        self.views = views
        self.ctx = views.ctx

    async def tools(self, request: Request) -> Response:
        raw = request.query_params.get("tag", "")
        tag = _tag(raw) if raw else None
        lang, _ = self.views.ui_lang(request)
        digest = await tools_digest(self.ctx, tag=tag, lang=lang, size=SECTION_SIZE)
        return self.views.page(request, "tools.html", items=digest.items, tag=tag)

    async def videos(self, request: Request) -> Response:
        lang, _ = self.views.ui_lang(request)
        digest = await videos_digest(self.ctx, lang=lang, size=SECTION_SIZE)
        return self.views.page(request, "videos.html", items=digest.items)

    async def trends(self, request: Request) -> Response:
        raw = request.query_params.get("days", "7")
        days = int(raw) if raw.isdigit() and 1 <= int(raw) <= 30 else 7
        report = await trend_report(self.ctx, days=days, limit=20)
        chart = svg_line_chart(
            [(name, list(values)) for name, values in report.series],
            title=f"{report.start.isoformat()} – {report.today.isoformat()}",
            start_label=report.start.isoformat(),
            end_label=report.today.isoformat(),
        )
        companies = {
            slug for slug, e in knowledge().gazetteer.entities.items() if e.type == "company"
        }
        return self.views.page(
            request,
            "trends.html",
            report=report,
            chart=chart,
            min_count=MIN_COUNT,
            company_slugs=companies,
        )

    async def companies(self, request: Request) -> Response:
        found = await list_companies(self.ctx)
        return self.views.page(request, "companies.html", companies=found)

    async def _page(self, request: Request) -> CompanyPage:
        slug = request.path_params["slug"].strip().lower()
        if not slug or len(slug) > MAX_SLUG_CHARS:
            raise HTTPException(404)
        page = await company_page(self.ctx, slug)
        if page is None:
            raise HTTPException(404)
        return page

    async def company(self, request: Request) -> Response:
        page = await self._page(request)
        weeks = page.weekly
        chart = svg_line_chart(
            [(page.entity.name, [count for _, count in weeks])],
            title=page.entity.name,
            start_label=weeks[0][0].isoformat() if weeks else "",
            end_label=weeks[-1][0].isoformat() if weeks else "",
        )
        return self.views.page(request, "company.html", page=page, chart=chart)

    # -- feeds -------------------------------------------------------------------------------

    def _t(self) -> Translator:
        return UIText(self.ctx.settings.enrich.lang)

    def _rss(self, stories: object, title: str, what: str, self_path: str) -> Response:
        t = self._t()
        body = render_feed(
            self.ctx.settings,
            stories,  # type: ignore[arg-type]
            title=title,
            description=t("feed_section_description", what=what),
            lang=self.ctx.settings.enrich.lang,
            built_at=self.ctx.clock.now(),
            self_path=self_path,
        )
        return Response(body, media_type=RSS)

    async def tag_feed(self, request: Request) -> Response:
        tag = _tag(request.path_params["tag"])
        return await self.tag_feed_of(tag)

    async def tag_feed_of(self, tag: str) -> Response:
        async with self.ctx.db.session() as session:
            stories = await latest_stories(session, limit=FEED_SIZE, tag=tag)
        t = self._t()
        title = t("feed_tag_title", tag=tag)
        return self._rss(stories, title, f"#{tag}", f"/tags/{tag}/feed.xml")

    async def tools_feed(self, request: Request) -> Response:
        digest = await tools_digest(self.ctx, size=FEED_SIZE)
        t = self._t()
        title = t("feed_tools_title")
        return self._rss(digest.items, title, title, "/tools/feed.xml")

    async def company_feed(self, request: Request) -> Response:
        page = await self._page(request)
        t = self._t()
        title = t("feed_company_title", name=page.entity.name)
        path = f"/companies/{page.entity.slug}/feed.xml"
        return self._rss(page.stories, title, page.entity.name, path)

    def routes(self) -> list[BaseRoute]:
        """Matched before `/tags/{tag:path}`, which would otherwise take the tag feeds."""
        return [
            Route("/tools", self.tools),
            Route("/tools/feed.xml", self.tools_feed),
            Route("/videos", self.videos),
            Route("/trends", self.trends),
            Route("/companies", self.companies),
            Route("/companies/{slug}", self.company),
            Route("/companies/{slug}/feed.xml", self.company_feed),
            Route("/tags/{tag}/feed.xml", self.tag_feed),
        ]
