"""The web view: permalinks for every story, digests and their archive, an RSS feed, metrics.

A small Starlette app rendered on the server with Jinja2 (autoescaped, no JavaScript); the
composition root serves it with uvicorn on its own private listener (`[web] host`, loopback by
default), never on the platforms' public one.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.web_feed import render_feed
from adapters.web_i18n import UIText, choose_lang, has_message
from adapters.web_metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from adapters.web_metrics import render_metrics
from adapters.web_render import (
    STATIC_DIR,
    make_environment,
    rubric_rows,
    safe_href,
    weighted_mean,
)
from adapters.web_sections import SectionViews
from adapters.web_sections import _tag as _section_tag
from bot.digests import digest_for, local_today
from bot.health import health_problems
from bot.links import article_permalink
from bot.messages import N_
from bot.onboarding import store_status
from bot.store.ops_metrics import ops_snapshot
from bot.store.pages import (
    article_days,
    latest_stories,
    search_stories,
    store_metrics,
    tag_counts,
)
from bot.store.read import article_card
from digest.models import ArticleCard, DigestKind
from digest.text import same_language

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

__all__ = ["SECURITY_HEADERS", "create_web_app"]

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self' https://*.ytimg.com; "
        "form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
)
# as raw ASGI header pairs, built once: every response carries them
_SECURITY_RAW = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS]
_SECURITY_NAMES = frozenset(name for name, _ in _SECURITY_RAW)
PAGE_SIZE = 50
FEED_SIZE = 50
MAX_DB_ID = 2**31 - 1
MAX_TAG_CHARS = 100
MAX_QUERY_CHARS = 300
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
TRANSLATION_STATE_KEYS = {
    "same": N_("same_lang"),
    "running": N_("status_running"),
    "complete": N_("status_complete"),
    "partial": N_("status_partial_short"),
    "failed": N_("status_failed"),
    "pending": N_("status_pending"),
    "none": N_("status_none"),
}
DIGEST_TITLE_KEYS = {
    "daily": N_("digest_daily"),
    "weekly": N_("digest_weekly"),
    "hn": N_("digest_hn"),
}
_LANG_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z]{2,4})?")


class SecurityHeaders:
    """Pure ASGI middleware: security headers on every response, and a last-resort error page.

    Unexpected exceptions are turned into a plain 500 here (traceback to the log) so that even
    that page carries the headers and no traceback ever reaches a browser.
    """

    def __init__(
        self, app: ASGIApp, error_page: Callable[[Request], Response] | None = None
    ) -> None:
        self.app = app
        self.error_page = error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in _SECURITY_NAMES
                ]
                headers += _SECURITY_RAW
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("web request failed", extra={"path": scope.get("path", "")})
            if started:
                raise
            await self._crash_response(scope)(scope, receive, send_with_headers)

    def _crash_response(self, scope: Scope) -> Response:
        if self.error_page is not None:
            try:
                return self.error_page(Request(scope))
            except Exception:
                log.exception("web error page failed")
        return HTMLResponse("<!doctype html><title>500</title><h1>500</h1>", status_code=500)


class TranslationJobs:
    """Translations requested from the web, running in the background of this process."""

    def __init__(self) -> None:
        self.running: dict[tuple[int, str], asyncio.Task[Any]] = {}
        self.failed: set[tuple[int, str]] = set()

    def is_running(self, article_id: int, lang: str) -> bool:
        return (article_id, lang) in self.running

    def start(self, ctx: AppContext, article_id: int, lang: str) -> None:
        key = (article_id, lang)
        if key in self.running or ctx.translator is None:
            return
        self.failed.discard(key)
        task = asyncio.create_task(ctx.translator.translate_article(ctx, article_id, lang))
        self.running[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))

    def _finished(self, key: tuple[int, str], task: asyncio.Task[Any]) -> None:
        self.running.pop(key, None)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.failed.add(key)
            log.error(
                "web translation failed",
                exc_info=error,
                extra={"article_id": key[0], "lang": key[1]},
            )

    async def aclose(self) -> None:
        tasks = list(self.running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def parse_day(raw: str) -> date:
    """A YYYY-MM-DD path segment; anything else is a 400, never a traceback."""
    if not _DAY.fullmatch(raw):
        raise HTTPException(400, N_("err_date"))
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise HTTPException(400, N_("err_date")) from exc
    if not 1970 <= day.year <= 2999:
        raise HTTPException(404)
    return day


def translation_lang(raw: str) -> str:
    """A target language code, lower-cased as the translator stores it (pt-BR is pt-br)."""
    if not _LANG_CODE.fullmatch(raw):
        raise HTTPException(400, N_("err_lang"))
    return raw.lower()


class WebViews:
    """The endpoints; each reads the store in one session and renders one template."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.env = make_environment()
        self.jobs = TranslationJobs()

    # -- rendering ---------------------------------------------------------------------------

    def ui_lang(self, request: Request) -> tuple[str, bool]:
        query_lang = request.query_params.get("lang")
        lang = choose_lang(
            query_lang, request.headers.get("accept-language", ""), self.ctx.settings.enrich.lang
        )
        return lang, query_lang == lang

    def page(
        self, request: Request, template: str, status_code: int = 200, **values: Any
    ) -> HTMLResponse:
        lang, explicit = self.ui_lang(request)
        settings = self.ctx.settings
        tz = settings.digest.timezone
        zone = ZoneInfo(tz)
        today = local_today(self.ctx, tz).isoformat()
        query = dict(request.query_params)
        # the decoded path, re-quoted and with one leading slash: "///evil.example" or a
        # backslash would otherwise make the language links point at another host
        here = "/" + quote(request.url.path).lstrip("/")

        def link(path: str, **params: str) -> str:
            wanted = {k: v for k, v in params.items() if v}
            if explicit:
                wanted.setdefault("lang", lang)
            return f"{path}?{urlencode(wanted)}" if wanted else path

        def switch_lang(code: str) -> str:
            return f"{here}?{urlencode({**query, 'lang': code})}"

        t = UIText(lang)
        html = self.env.get_template(template).render(
            t=t,
            lang=lang,
            lang_explicit=explicit,
            link=link,
            switch_lang=switch_lang,
            local=lambda when: t.datetime(when, zone),
            today=today,
            **{"search_query": "", **values},
        )
        return HTMLResponse(html, status_code=status_code)

    def crash_page(self, request: Request) -> Response:
        """The page for an unexpected error: generic, localised, no details."""
        return self.page(request, "error.html", 500, title_key=N_("server_error"), detail="")

    async def error_page(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 405:
            return Response(status_code=405, headers=getattr(exc, "headers", None))
        key = (
            N_("not_found")
            if status == 404
            else N_("bad_request")
            if status < 500
            else N_("server_error")
        )
        # details are UI message keys, so they are shown in the reader's language
        detail = getattr(exc, "detail", "")
        detail = detail if has_message(detail) and status < 500 else ""
        return self.page(request, "error.html", status, title_key=key, detail=detail)

    # -- pages -------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        async with self.ctx.db.session() as session:
            stories = await latest_stories(session, limit=PAGE_SIZE)
            status = await store_status(session)
        return self.page(
            request,
            "stories.html",
            stories=stories,
            heading_key=N_("latest_title"),
            onboarding=status if status.needs_attention else None,
        )

    async def sources(self, request: Request) -> Response:
        """Source health: state, article count, last check and last error of every source."""
        async with self.ctx.db.session() as session:
            status = await store_status(session)
        return self.page(request, "sources.html", status=status)

    async def article(self, request: Request) -> Response:
        article_id = int(request.path_params["article_id"])
        if article_id > MAX_DB_ID:
            raise HTTPException(404)
        lang, _ = self.ui_lang(request)
        target = translation_lang(request.query_params.get("tl", lang))
        # read before the store: a job that ends between the two reads has committed its row
        running = self.jobs.is_running(article_id, target)
        async with self.ctx.db.session() as session:
            card = await article_card(session, article_id, translation_lang=target)
        if card is None:
            raise HTTPException(404)
        weights = self.ctx.settings.rubric.weights
        state = self.translation_state(card, target, running=running)
        return self.page(
            request,
            "article.html",
            card=card,
            original_href=safe_href(card.url),
            permalink=article_permalink(self.ctx.settings, card.article_id),
            rubric=rubric_rows(card.scores, weights) if card.scores else [],
            mean=f"{weighted_mean(card.scores, weights):.1f}" if card.scores else "",
            target=target,
            tr=card.translation,
            state=state,
            state_key=TRANSLATION_STATE_KEYS[state],
            can_translate=self.ctx.translator is not None,
        )

    def translation_state(self, card: ArticleCard, target: str, *, running: bool) -> str:
        """same, running, complete, partial, failed, pending or none: what the page says."""
        if card.lang and same_language(card.lang, target):
            return "same"
        if running:
            return "running"
        stored = card.translation
        if stored is not None and stored.status == "complete":
            return "complete"
        if (card.article_id, target) in self.jobs.failed:
            return "failed"
        return "none" if stored is None else stored.status

    def cross_site(self, request: Request) -> bool:
        """A browser POST from another site (translations spend LLM tokens: no CSRF)."""
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site not in ("same-origin", "none"):
            return True
        origin = request.headers.get("origin")
        if origin is None:  # not a browser: browsers send Origin on every POST
            return False
        # The configured address, never the Host header: a request names whatever host it likes.
        ours = urlsplit(self.ctx.settings.web.base_url)
        theirs = urlsplit(origin)  # "null" has no scheme or host: refused
        return (theirs.scheme, theirs.netloc.lower()) != (ours.scheme, ours.netloc.lower())

    async def request_translation(self, request: Request) -> Response:
        article_id = int(request.path_params["article_id"])
        if article_id > MAX_DB_ID:
            raise HTTPException(404)
        if self.cross_site(request):
            raise HTTPException(403, N_("err_origin"))
        if self.ctx.translator is None:
            raise HTTPException(400, N_("no_llm"))
        form = await request.form()
        target = translation_lang(str(form.get("lang", "")).strip())
        async with self.ctx.db.session() as session:
            if await article_card(session, article_id) is None:
                raise HTTPException(404)
        self.jobs.start(self.ctx, article_id, target)
        back = {"tl": target}
        if request.query_params.get("lang"):
            back["lang"] = request.query_params["lang"]
        return RedirectResponse(f"/a/{article_id}?{urlencode(back)}#translation", status_code=303)

    async def digest(self, request: Request) -> Response:
        kind = request.path_params.get("kind", "hn")
        if kind not in ("daily", "weekly", "hn"):
            raise HTTPException(404)
        day = parse_day(request.path_params["day"])
        lang, _ = self.ui_lang(request)
        the_kind: DigestKind = kind
        built = await digest_for(
            self.ctx, the_kind, day=day, tz=self.ctx.settings.digest.timezone, lang=lang
        )
        step = timedelta(days=7 if kind == "weekly" else 1)
        base = "/hn" if kind == "hn" else f"/digest/{kind}"
        return self.page(
            request,
            "digest.html",
            status_code=200 if built.items else 404,
            digest=built,
            title_key=DIGEST_TITLE_KEYS[kind],
            previous_href=f"{base}/{(day - step).isoformat()}",
            next_href=f"{base}/{(day + step).isoformat()}",
        )

    async def archive(self, request: Request) -> Response:
        async with self.ctx.db.session() as session:
            days = await article_days(session, self.ctx.settings.digest.timezone)
        return self.page(request, "archive.html", days=days[:120])

    async def tags(self, request: Request) -> Response:
        async with self.ctx.db.session() as session:
            counts = await tag_counts(session)
        return self.page(request, "tags.html", counts=counts[:300])

    async def tag(self, request: Request) -> Response:
        tag = request.path_params["tag"].strip().lower()
        if not tag or len(tag) > MAX_TAG_CHARS:
            raise HTTPException(404)
        async with self.ctx.db.session() as session:
            stories = await latest_stories(session, limit=PAGE_SIZE, tag=tag)
        if not stories:
            raise HTTPException(404)
        return self.page(
            request, "stories.html", stories=stories, heading_key=N_("tag_title"), heading_tag=tag
        )

    async def search(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()[:MAX_QUERY_CHARS]
        stories = []
        if query:
            async with self.ctx.db.session() as session:
                stories = await search_stories(session, query, limit=PAGE_SIZE)
        return self.page(
            request,
            "stories.html",
            stories=stories,
            heading_key=N_("search_results") if query else N_("search"),
            search_query=query,
        )

    async def feed(self, request: Request) -> Response:
        if request.query_params.get("tag"):
            return await SectionViews(self).tag_feed_of(_section_tag(request.query_params["tag"]))
        settings = self.ctx.settings
        minimum = settings.web.feed_min_importance
        lang = settings.enrich.lang
        t = UIText(lang)
        async with self.ctx.db.session() as session:
            stories = await latest_stories(session, limit=FEED_SIZE, min_importance=minimum)
        body = render_feed(
            settings,
            stories,
            title=t("feed_title"),
            description=t("feed_description", n=minimum),
            lang=lang,
            built_at=self.ctx.clock.now(),
        )
        return Response(body, media_type="application/rss+xml; charset=utf-8")

    async def healthz(self, request: Request) -> Response:
        """200 `{"status": "ok"}`, or 503 `{"status": "degraded", "reasons": [...]}`."""
        reasons = await health_problems(self.ctx)
        if reasons:
            return JSONResponse({"status": "degraded", "reasons": reasons}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def metrics(self, request: Request) -> Response:
        async with self.ctx.db.session() as session:
            snapshot = await store_metrics(session)
            ops = await ops_snapshot(session, self.ctx.clock.now())
        return Response(render_metrics(snapshot, ops), media_type=METRICS_CONTENT_TYPE)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home),
            Route("/a/{article_id:int}", self.article),
            Route("/a/{article_id:int}/translate", self.request_translation, methods=["POST"]),
            Route("/digest/{kind}/{day}", self.digest),
            Route("/hn/{day}", self.digest),
            Route("/archive", self.archive),
            Route("/tags", self.tags),
            *SectionViews(self).routes(),  # tools, videos, trends, companies, per-view feeds
            Route("/tags/{tag:path}", self.tag),
            Route("/search", self.search),
            Route("/sources", self.sources),
            Route("/feed.xml", self.feed),
            Route("/healthz", self.healthz),
            Route("/metrics", self.metrics),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ]


def create_web_app(ctx: AppContext, *, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The ASGI app of the web view; `extra_routes` (e.g. `/slack/events`) are matched first."""
    views = WebViews(ctx)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await views.jobs.aclose()

    app = Starlette(
        routes=[*extra_routes, *views.routes()],
        middleware=[Middleware(SecurityHeaders, error_page=views.crash_page)],
        exception_handlers={HTTPException: views.error_page},
        lifespan=lifespan,
    )
    app.state.web_views = views
    return app
