"""The fake Slack refuses what Slack refuses, so a passing test means the real thing would pass."""

from __future__ import annotations

import httpx

from tests.fakes.slack_api import RESPONSE_URL_SECONDS, RESPONSE_URL_USES, FakeSlack


async def test_response_url_works_five_times_within_thirty_minutes(fake_slack: FakeSlack) -> None:
    used_up = fake_slack.response_url("five")
    expiring = fake_slack.response_url("late")
    async with httpx.AsyncClient() as http:
        statuses = [
            (await http.post(used_up, json={"text": f"part {n}"})).status_code
            for n in range(RESPONSE_URL_USES + 1)
        ]
        assert statuses == [200] * RESPONSE_URL_USES + [404]
        assert (await http.post(expiring, json={"text": "in time"})).status_code == 200
        fake_slack.clock_offset = RESPONSE_URL_SECONDS + 1
        late = await http.post(expiring, json={"text": "too late"})
    assert late.status_code == 404 and late.text == "expired_url"
