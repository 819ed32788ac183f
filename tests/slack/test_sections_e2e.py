"""The section commands in Slack: tools, videos (thumbnail accessories), trends (a chart uploaded
with files.uploadV2's three steps), company (aliases in three scripts) and related stories."""

from __future__ import annotations

from tests.fakes.slack_api import message_error
from tests.sections_seed import seed_sections
from tests.slack.conftest import CHANNEL, SlashDriver


def assert_all_accepted(driver: SlashDriver) -> None:
    assert driver.fake.rejected() == [], [(c.method, c.error) for c in driver.fake.rejected()]
    for call in driver.fake.posts():
        assert message_error(call.params) is None


async def test_tools_lists_repos_and_models_by_momentum(slack: SlashDriver) -> None:
    await seed_sections(slack.ctx)
    await slack.command("tools")
    text = slack.last_text()
    assert "AI tools" in text
    assert "exo-explore / exo" in text and "37,570 stars · +1,361 today" in text
    await slack.command("tools text-to-image")
    text = slack.last_text()
    assert "Tongyi-MAI/Z-Image-Turbo" in text and "exo-explore" not in text
    assert_all_accepted(slack)


async def test_videos_carry_thumbnail_accessories(slack: SlashDriver) -> None:
    await seed_sections(slack.ctx)
    await slack.command("videos")
    blocks = [b for call in slack.answers()[-3:] for b in call.params.get("blocks", [])]
    images = [b["accessory"] for b in blocks if b.get("accessory")]
    assert images and all(i["type"] == "image" for i in images)
    assert images[0]["image_url"].startswith("https://") and "ytimg.com" in images[0]["image_url"]
    assert all(1 <= len(i["alt_text"]) <= 2000 for i in images)
    assert "251,497 views" in slack.last_text() or any("251,497 views" in str(b) for b in blocks)
    assert_all_accepted(slack)


async def test_trends_answers_risers_and_uploads_a_chart(slack: SlashDriver) -> None:
    await seed_sections(slack.ctx)
    await slack.command("trends")
    await slack.wait_for(lambda: bool(slack.fake.files))
    text = slack.last_text()
    assert "Rising over the last 7 days" in text and "Anthropic" in text and "#agents" in text
    steps = [
        c.method
        for c in slack.fake.calls
        if c.method in ("files.getUploadURLExternal", "upload", "files.completeUploadExternal")
    ]
    assert steps == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    (uploaded,) = slack.fake.files
    assert uploaded["channel"] == CHANNEL
    assert uploaded["name"].startswith("ainews-trends-") and uploaded["name"].endswith(".png")
    assert uploaded["data"].startswith(b"\x89PNG\r\n\x1a\n")
    assert_all_accepted(slack)


async def test_trends_without_files_write_says_so(slack: SlashDriver) -> None:
    await seed_sections(slack.ctx)
    slack.fake.scopes.discard("files:write")
    await slack.command("trends")
    await slack.wait_for(lambda: any("files:write" in str(c.params) for c in slack.answers()))
    assert slack.fake.files == []


async def test_company_aliases_in_three_scripts_reach_one_page(slack: SlashDriver) -> None:
    await seed_sections(slack.ctx)
    answers = []
    for name in ("OpenAI", "openai", "オープンAI"):
        await slack.command(f"company {name}")
        answers.append(slack.last_text())
    heading = answers[0].split("\n", 1)[0]
    assert heading.startswith("OpenAI: ") and "stories in the last 90 days" in heading
    assert all(answer.split("\n", 1)[0] == heading for answer in answers)
    assert "GPT" in answers[0] and "ChatGPT" in answers[0]  # models and tools it owns
    await slack.command("company Claude")  # a product leads to its maker
    assert slack.last_text().startswith("Anthropic: ")
    await slack.command("company Nobody Labs")
    assert "No company or lab called" in slack.last_text()
    assert_all_accepted(slack)


async def test_summary_shows_related_stories_with_why(slack: SlashDriver) -> None:
    seed = await seed_sections(slack.ctx)
    await slack.command(f"summary {seed.gemma_article}")
    await slack.wait_for(lambda: "Related" in slack.last_text())
    text = slack.last_text()
    assert "Gemma 3 tops a small-model benchmark" in text and "also about Gemma" in text
    assert_all_accepted(slack)
