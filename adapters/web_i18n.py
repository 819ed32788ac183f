"""Japanese and English UI strings of the web view, and the choice of language per request."""

from __future__ import annotations

from collections.abc import Mapping

UI_LANGS: tuple[str, ...] = ("ja", "en")

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "site_title": "ainews",
        "tagline": "AI news, scored and summarised",
        "nav_latest": "Latest",
        "nav_today": "Today",
        "nav_week": "This week",
        "nav_hn": "Hacker News",
        "nav_archive": "Archive",
        "nav_tags": "Tags",
        "nav_feed": "RSS",
        "search": "Search",
        "search_placeholder": "Search stories",
        "search_results": "Results for “{q}”",
        "search_prompt": "Type words to search titles, summaries and tags.",
        "latest_title": "Latest stories",
        "no_stories": "No stories yet.",
        "nav_sources": "Sources",
        "sources_title": "Source health",
        "state_ok": "ok",
        "state_failing": "failing",
        "state_disabled": "disabled",
        "state_never": "not fetched yet",
        "col_source": "Source",
        "col_state": "State",
        "col_articles": "Articles",
        "col_last_checked": "Last checked",
        "col_last_error": "Last error",
        "never": "never",
        "onboard_title": "Getting started",
        "onboard_empty": (
            "Nothing is stored yet. `ainews run` fetches every source within "
            "a minute and scores what arrives; this page fills in as it does."
        ),
        "onboard_demo": (
            "To look around first, load the bundled sample: `ainews demo --into-store`."
        ),
        "onboard_counts": (
            "{total} sources: {ok} ok, {failing} failing, {disabled} disabled, "
            "{never} not fetched yet."
        ),
        "onboard_failing": (
            "A failing source shows its last error below. Check the URL, "
            "or remove it: `ainews sources remove <id>` (or `/ainews sources "
            "remove <id>` in chat)."
        ),
        "onboard_no_sources": (
            "No sources are configured: add [[sources]] to config.toml, `ainews "
            "sources add <name> <url>`, or `ainews sources import-opml <file>`."
        ),
        "importance": "Importance",
        "importance_label": "Importance {n} of 5",
        "unscored": "unscored",
        "sources": "Sources",
        "source": "Source",
        "published": "Published",
        "reading": "Reading time",
        "reading_time": "{n} min",
        "tags": "Tags",
        "tldr": "TL;DR",
        "key_points": "Key points",
        "impact": "Impact",
        "editorial": "Editor's note",
        "rubric": "Score breakdown",
        "dimension": "Dimension",
        "score": "Score",
        "weight": "Weight",
        "reason": "Reason",
        "depth": "Depth",
        "relevance": "Relevance",
        "practicality": "Practicality",
        "innovation": "Innovation",
        "weighted_mean": "Weighted mean {mean} → importance {importance}",
        "not_enriched": "Not scored yet.",
        "original": "Original",
        "translation": "Translation",
        "translation_into": "Translation ({lang})",
        "status_complete": "Translation complete",
        "status_partial": "Partial translation: {done} of {total} parts",
        "status_failed": "Translation failed",
        "status_pending": "Translation queued",
        "status_none": "Not translated yet",
        "status_running": "Translation in progress — reload this page in a moment.",
        "same_lang": "The original is already in this language.",
        "request_translation": "Translate into {lang}",
        "retry_translation": "Retry the translation into {lang}",
        "no_llm": "Translation needs an LLM; none is configured.",
        "open_original": "Open the original article",
        "related": "Related coverage",
        "digest_daily": "Daily digest — {day}",
        "digest_weekly": "Weekly digest — week ending {day}",
        "digest_hn": "Hacker News — {day}",
        "rising_tags": "Rising tags",
        "previous": "← Previous",
        "next": "Next →",
        "no_digest": "No stories for this day.",
        "archive_title": "Archive",
        "archive_intro": "Days with stories",
        "archive_daily": "Daily",
        "archive_weekly": "Week to date",
        "archive_hn": "HN",
        "tag_title": "Tag: {tag}",
        "tags_title": "Tags",
        "points": "{points} points",
        "comments": "{comments} comments",
        "not_found": "Not found",
        "not_found_text": "There is nothing at this address.",
        "bad_request": "Bad request",
        "err_date": "Dates are written YYYY-MM-DD, e.g. 2026-11-28.",
        "err_lang": "Unknown language code.",
        "err_origin": "This form can only be sent from this site.",
        "server_error": "Something went wrong",
        "server_error_text": "The error has been logged.",
        "back_home": "Back to the latest stories",
        "language": "Language",
        "feed_title": "ainews — important AI stories",
        "feed_description": "AI news stories at importance {n} or higher",
    },
    "ja": {
        "site_title": "ainews",
        "tagline": "AIニュースを採点・要約",
        "nav_latest": "最新",
        "nav_today": "今日",
        "nav_week": "今週",
        "nav_hn": "Hacker News",
        "nav_archive": "アーカイブ",
        "nav_tags": "タグ",
        "nav_feed": "RSS",
        "search": "検索",
        "search_placeholder": "記事を検索",
        "search_results": "「{q}」の検索結果",
        "search_prompt": "タイトル・要約・タグを検索します。",
        "latest_title": "最新の記事",
        "no_stories": "記事はまだありません。",
        "nav_sources": "ソース",
        "sources_title": "ソースの状態",
        "state_ok": "正常",
        "state_failing": "失敗中",
        "state_disabled": "停止",
        "state_never": "未取得",
        "col_source": "ソース",
        "col_state": "状態",
        "col_articles": "記事数",
        "col_last_checked": "最終確認",
        "col_last_error": "最後のエラー",
        "never": "なし",
        "onboard_title": "はじめに",
        "onboard_empty": (
            "まだ記事がありません。`ainews run` は1分以内に全ソースを取得して"
            "採点し、このページは取得に合わせて埋まっていきます。"
        ),
        "onboard_demo": (
            "先に中身を見たい場合は、同梱のサンプルを読み込みます: `ainews demo --into-store`。"
        ),
        "onboard_counts": (
            "ソース {total} 件: 正常 {ok}、失敗中 {failing}、停止 {disabled}、未取得 {never}。"
        ),
        "onboard_failing": (
            "失敗中のソースには最後のエラーを下に表示します。URL を確認するか削除し"
            "てください: `ainews sources "
            "remove <id>`（チャットでは `/ainews sources remove <id>`）。"
        ),
        "onboard_no_sources": (
            "ソースが設定されていません: config.toml に [[sources]] を追加するか、`ainews sour"
            "ces add <名前> <url>` または `ainews sources import-opml <ファイル>` "
            "を使います。"
        ),
        "importance": "重要度",
        "importance_label": "重要度 {n}/5",
        "unscored": "未採点",
        "sources": "情報源",
        "source": "情報源",
        "published": "公開日時",
        "reading": "読了時間",
        "reading_time": "約{n}分",
        "tags": "タグ",
        "tldr": "要約",
        "key_points": "要点",
        "impact": "影響",
        "editorial": "編集部コメント",
        "rubric": "採点の内訳",
        "dimension": "観点",
        "score": "点数",
        "weight": "重み",
        "reason": "理由",
        "depth": "深さ",
        "relevance": "関連性",
        "practicality": "実用性",
        "innovation": "新規性",
        "weighted_mean": "加重平均 {mean} → 重要度 {importance}",
        "not_enriched": "まだ採点されていません。",
        "original": "原文",
        "translation": "翻訳",
        "translation_into": "翻訳（{lang}）",
        "status_complete": "翻訳済み",
        "status_partial": "部分翻訳: {total}件中{done}件",
        "status_failed": "翻訳に失敗しました",
        "status_pending": "翻訳待ち",
        "status_none": "未翻訳",
        "status_running": "翻訳中です。しばらくしてから再読み込みしてください。",
        "same_lang": "原文がすでにこの言語です。",
        "request_translation": "{lang}に翻訳する",
        "retry_translation": "{lang}への翻訳を再試行",
        "no_llm": "翻訳にはLLMの設定が必要です。",
        "open_original": "元の記事を開く",
        "related": "関連報道",
        "digest_daily": "デイリーダイジェスト — {day}",
        "digest_weekly": "週間ダイジェスト — {day}までの1週間",
        "digest_hn": "Hacker News — {day}",
        "rising_tags": "注目のタグ",
        "previous": "← 前へ",
        "next": "次へ →",
        "no_digest": "この日の記事はありません。",
        "archive_title": "アーカイブ",
        "archive_intro": "記事のある日",
        "archive_daily": "デイリー",
        "archive_weekly": "直近1週間",
        "archive_hn": "HN",
        "tag_title": "タグ: {tag}",
        "tags_title": "タグ一覧",
        "points": "{points}ポイント",
        "comments": "コメント{comments}件",
        "not_found": "見つかりません",
        "not_found_text": "このアドレスには何もありません。",
        "bad_request": "不正なリクエスト",
        "err_date": "日付は YYYY-MM-DD（例: 2026-11-28）で指定してください。",
        "err_lang": "不明な言語コードです。",
        "err_origin": "このフォームはこのサイトからのみ送信できます。",
        "server_error": "エラーが発生しました",
        "server_error_text": "エラーは記録されました。",
        "back_home": "最新の記事に戻る",
        "language": "言語",
        "feed_title": "ainews — 重要なAIニュース",
        "feed_description": "重要度{n}以上のAIニュース",
    },
}

LANG_NAMES: Mapping[str, Mapping[str, str]] = {
    "en": {"ja": "Japanese", "en": "English", "zh": "Chinese", "ko": "Korean"},
    "ja": {"ja": "日本語", "en": "英語", "zh": "中国語", "ko": "韓国語"},
}


def accepted_langs(header: str) -> list[str]:
    """Primary language subtags of an Accept-Language header, best first (q=0 dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and quality > 0:
            weighted.append((-quality, position, primary))
    return [primary for _, _, primary in sorted(weighted)]


def choose_lang(query_lang: str | None, accept_language: str, default: str) -> str:
    """`?lang=` first, then the browser's Accept-Language, then the configured default."""
    if query_lang in UI_LANGS:
        return str(query_lang)
    for primary in accepted_langs(accept_language):
        if primary in UI_LANGS:
            return primary
    return default if default in UI_LANGS else "en"


class UIText:
    """Looks up UI strings of one language; an unknown key is a bug, so it raises."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in UI_LANGS else "en"
        self._messages = MESSAGES[self.lang]

    def __call__(self, key: str, **values: object) -> str:
        text = self._messages[key]
        return text.format(**values) if values else text

    def lang_name(self, code: str) -> str:
        return LANG_NAMES[self.lang].get(code, code)
