"""The subscriber portal in headless Chromium: opened from a minted link, it edits, rotates and replays
for its own subscription, and shows attempts and payloads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import Page
from tests.browser.scenario import Scenario, attempts_of, build
from tests.e2e.conftest import LocalRuntime
from tests.support.fake_vendor import serve_vendor
from tests.support.receiver import serve_receiver
from tests.support.waiting import poll


@pytest.fixture(scope="module")
def scenario(local_runtime: LocalRuntime) -> Iterator[Scenario]:
    with serve_vendor() as vendor, serve_receiver() as receiver:
        vendor.expect_bearer("ghp_console")
        yield build(local_runtime, vendor.url, receiver)


def test_the_portal_link_manages_only_its_subscription(page: Page, scenario: Scenario) -> None:
    sid, eid = scenario.ids["subscriptionId"], scenario.ids["eventId"]
    session = scenario.call("POST", "/webhooks/portal-sessions", {"subscriptionIds": [sid], "expiresInSeconds": 900})
    page.driver.get(session["portalUrl"])
    page.wait(lambda: page.css("main").get_attribute("data-loaded") == "yes", "the portal rendering")
    assert "token=" not in page.driver.current_url  # the token left the address bar
    card = f'section.subscription[data-subscription-id="{sid}"]'
    shown = page.all(f"{card} table.attempts tbody tr[data-event-id]")
    assert len(shown) == len(scenario.get(f"/webhooks/subscriptions/{sid}/attempts?limit=20")["items"]) > 0
    page.screenshot("portal")

    row = f'{card} tr[data-event-id="{eid}"]'
    page.css(f"{row} button.view-payload").click()
    page.wait(lambda: '"amount": 5' in page.text(f"{card} .payload"), "the payload")

    before = len(attempts_of(scenario, eid))
    page.css(f"{row} button.replay").click()
    poll(lambda: len(attempts_of(scenario, eid)) > before, "the replay delivered")

    page.css(f"{card} button.rotate").click()
    page.wait(lambda: "whsec_" in page.text(f"{card} .new-secret"), "the new secret")
    secret = page.text(f"{card} .new-secret").split("(shown once): ")[1].split(";")[0]
    scenario.receiver.trust(secret)

    url = page.css(f"{card} input.endpoint-url")
    url.clear()
    url.send_keys(scenario.receiver.url + "?portal=1")
    types = page.css(f"{card} input.event-types")
    types.clear()
    types.send_keys("Invoice*, PullRequest*")
    page.css(f"{card} form.edit button[type=submit]").click()
    poll(lambda: scenario.get(f"/webhooks/subscriptions/{sid}")["eventTypes"] == ["Invoice*", "PullRequest*"], "saved")
    assert scenario.get(f"/webhooks/subscriptions/{sid}")["endpointUrl"].endswith("?portal=1")
    page.wait(lambda: page.css("main").get_attribute("data-loaded") == "yes" and page.all(card), "the re-render")
    page.screenshot("portal-edited")
    page.no_console_errors()


def test_the_portal_shows_an_aws_destination_by_its_arn_and_changes_only_its_event_types(
    page: Page, scenario: Scenario
) -> None:
    bus = scenario.get("/events/bus")["eventBusArn"]
    body = {"eventTypes": ["OrderShipped"], "destination": {"type": "eventbridge", "eventBusArn": bus}}
    sid = scenario.call("POST", "/webhooks/subscriptions", body)["subscriptionId"]
    session = scenario.call("POST", "/webhooks/portal-sessions", {"subscriptionIds": [sid], "expiresInSeconds": 900})
    page.driver.get(session["portalUrl"])  # in the tab the first portal test left open: only the fragment changes
    card = f'section.subscription[data-subscription-id="{sid}"]'
    page.wait(lambda: page.css("main").get_attribute("data-loaded") == "yes" and page.all(card), "the new link's page")
    assert page.text(f"{card} h2 .destination-type") == "eventbridge"
    assert page.text(f"{card} h2 .destination-target") == bus
    assert page.all(f"{card} input.endpoint-url") == []  # a portal may aim a subscription only at a webhook
    assert not page.css(f"{card} button.rotate").is_displayed()
    types = page.css(f"{card} input.event-types")
    types.clear()
    types.send_keys("Invoice*")
    page.css(f"{card} form.edit button[type=submit]").click()
    poll(lambda: scenario.get(f"/webhooks/subscriptions/{sid}")["eventTypes"] == ["Invoice*"], "saved")
    assert scenario.get(f"/webhooks/subscriptions/{sid}")["destination"] == body["destination"]
    page.screenshot("portal-eventbridge")
    page.no_console_errors()
