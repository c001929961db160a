"""The operator console in headless Chromium: every page loads with no console error, shows the API's numbers,
and its actions (redeliver, disable/enable, recover, redrive) change what the API then answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import Page
from tests.browser.scenario import Scenario, attempts_of, build, inbound_delivery, live_sockets
from tests.e2e.conftest import LocalRuntime
from tests.support.fake_vendor import serve_vendor
from tests.support.receiver import serve_receiver
from tests.support.waiting import poll

NONE = "\u2013"  # the en dash the pages show for "no value"


def percent(rate: float | None) -> str:
    return NONE if rate is None else f"{rate * 100:.1f}%"


def millis(value: int | None) -> str:
    return NONE if value is None else f"{value} ms"


@pytest.fixture(scope="module")
def scenario(local_runtime: LocalRuntime) -> Iterator[Scenario]:
    with serve_vendor() as vendor, serve_receiver() as receiver:
        vendor.expect_bearer("ghp_console")
        yield build(local_runtime, vendor.url, receiver)


@pytest.fixture
def console(page: Page, scenario: Scenario) -> Page:
    """Signed in as the scenario's tenant through the page's own development sign-in."""
    page.open("/console", "#/connections")
    page.wait(lambda: page.all("#sign-in") or page.all("#connections"), "the console loading")
    if page.all("#sign-in"):
        dev_sign_in(page, scenario)
    return page


def dev_sign_in(page: Page, scenario: Scenario) -> None:
    page.wait(lambda: page.all("#dev-sign-in"), "the development sign-in button")
    tenant = page.css("#dev-tenant")
    tenant.clear()
    tenant.send_keys(scenario.tenant)
    page.screenshot("console-sign-in")
    page.css("#dev-sign-in").click()
    page.wait(lambda: page.css("main").get_attribute("data-loaded") == "#/connections", "signed in")


def test_connections_show_status_health_numbers_and_a_sparkline(console: Page, scenario: Scenario) -> None:
    console.route("#/connections")
    cid = scenario.ids["connectionId"]
    api = scenario.get(f"/integrations/connections/{cid}")
    row = f'tr[data-connection-id="{cid}"]'
    assert console.text(f"{row} td:first-child") == "Repo <hooks> & co"  # text, never markup
    assert console.text(f'{row} [data-field="totalCalls"]') == str(api["stats"]["totalCalls"])
    assert console.text(f'{row} [data-field="successRate"]') == percent(api["stats"]["successRate"])
    assert console.text(f'{row} [data-field="averageResponseTimeMs"]') == millis(api["stats"]["averageResponseTimeMs"])
    assert api["stats"]["totalCalls"] >= 2  # the health check and the run
    assert console.all(f"{row} svg.sparkline path.line")
    console.screenshot("console-connections")
    console.no_console_errors()


def test_one_connection_shows_checks_plots_runs_and_deliveries(console: Page, scenario: Scenario) -> None:
    cid = scenario.ids["connectionId"]
    console.route(f"#/connections/{cid}")
    health = scenario.get(f"/integrations/connections/{cid}/health")
    assert len(console.all("#checks tbody tr")) == len(health["checks"]) > 0
    assert console.text('[data-field="successRate24h"]') == percent(health["metrics"]["successRate24h"])
    assert console.text('[data-field="totalCalls24h"]') == str(health["metrics"]["totalCalls24h"])
    plots = console.all("#plots svg.plot")
    assert len(plots) == 4  # success rate and latency, over 24 h and over 7 d
    assert all(int(p.get_attribute("data-points")) >= 1 for p in plots)
    assert scenario.ids["runId"] in console.text("table.runs")
    assert scenario.ids["deliveryId"] in console.text("table.deliveries")
    console.screenshot("console-connection")
    console.no_console_errors()


def test_a_delivery_shows_its_payload_with_signatures_redacted_and_its_event(console: Page, scenario: Scenario) -> None:
    did = scenario.ids["deliveryId"]
    console.route(f"#/deliveries/{did}")
    delivery = scenario.get(f"/webhooks/deliveries/{did}")
    assert "sha256=" not in console.driver.page_source  # the page redacts whatever the API leaves in
    assert '"x-hub-signature-256": "[redacted]"' in console.text("#headers").lower()
    assert "<b>not markup</b>" in console.text("#payload")
    assert delivery["eventId"] in console.text("main")
    console.screenshot("console-delivery")
    console.route("#/deliveries")
    assert did in console.text("table.deliveries")
    console.no_console_errors()


def test_an_event_shows_each_subscriptions_status_and_redelivers(console: Page, scenario: Scenario) -> None:
    console.route("#/events")
    assert scenario.ids["eventId"] in console.text("#events")
    eid, sid = scenario.ids["eventId"], scenario.ids["subscriptionId"]
    console.route(f"#/events/{eid}")
    status = next(d for d in scenario.get(f"/events/{eid}")["deliveries"] if d["subscriptionId"] == sid)
    row = f'#event-deliveries tr[data-subscription-id="{sid}"]'
    assert console.text(f'{row} [data-field="attempts"]') == str(status["attempts"])
    console.screenshot("console-event")
    before = len(attempts_of(scenario, eid))
    console.css(f"{row} button.redeliver").click()
    poll(lambda: len(attempts_of(scenario, eid)) > before, "the redelivery attempted")
    console.no_console_errors()


def test_subscriptions_disable_enable_recover_and_attempts(console: Page, scenario: Scenario) -> None:
    sid = scenario.ids["subscriptionId"]
    console.route("#/subscriptions")
    row = f'#subscriptions tr[data-subscription-id="{sid}"]'
    api = scenario.get(f"/webhooks/subscriptions/{sid}")
    assert console.text(f'{row} [data-field="totalCalls"]') == str(api["stats"]["totalCalls"])
    console.screenshot("console-subscriptions")
    console.css(f"{row} button.toggle").click()
    poll(lambda: scenario.get(f"/webhooks/subscriptions/{sid}")["active"] is False, "disabled")
    console.wait(lambda: console.text(f"{row} button.toggle") == "Enable", "the Enable button")
    console.css(f"{row} button.toggle").click()
    poll(lambda: scenario.get(f"/webhooks/subscriptions/{sid}")["active"] is True, "enabled again")
    console.wait(lambda: console.text(f"{row} button.toggle") == "Disable", "the Disable button")
    console.css(f"{row} form.recover button").click()
    console.wait(lambda: "Recovery queued" in console.text("#flash"), "the recovery acknowledged")
    console.route(f"#/subscriptions/{sid}")
    shown = console.all("#attempts tbody tr[data-event-id]")
    assert len(shown) == len(scenario.get(f"/webhooks/subscriptions/{sid}/attempts?limit=50")["items"]) > 0
    console.screenshot("console-subscription")
    console.no_console_errors()


def test_subscriptions_show_their_destination_and_the_form_creates_any_type(console: Page, scenario: Scenario) -> None:
    from selenium.webdriver.support.select import Select

    sid = scenario.ids["subscriptionId"]
    console.route("#/subscriptions")
    webhook = f'#subscriptions tr[data-subscription-id="{sid}"] td.destination'
    assert console.text(f"{webhook} .destination-type") == "webhook"
    assert console.text(f"{webhook} .destination-target") == scenario.receiver.url

    bus = scenario.get("/events/bus")["eventBusArn"]
    Select(console.css("#new-destination-type")).select_by_value("eventbridge")
    console.css("#use-platform-bus").click()
    target = console.css("#new-destination-target")
    console.wait(lambda: target.get_attribute("value") == bus, "the platform bus's ARN filled in")
    types = console.css("#new-event-types")
    types.clear()
    types.send_keys("OrderShipped")
    console.css("#new-subscription button[type=submit]").click()
    console.wait(lambda: "Created sub-" in console.text("#flash"), "the subscription created")
    created = console.text("#flash").split("Created ")[1].strip()
    assert scenario.get(f"/webhooks/subscriptions/{created}")["destination"] == {
        "type": "eventbridge",
        "eventBusArn": bus,
    }
    row = f'#subscriptions tr[data-subscription-id="{created}"] td.destination'
    console.wait(lambda: console.text(f"{row} .destination-type") == "eventbridge", "the new row")
    assert console.text(f"{row} .destination-target") == bus
    assert console.text("#new-signing-secret") == ""  # only a webhook is signed
    console.screenshot("console-subscriptions-destinations")
    console.route(f"#/subscriptions/{created}")
    assert console.text("#destination") == f"eventbridge {bus}"
    console.no_console_errors()

    console.route("#/subscriptions")
    Select(console.css("#new-destination-type")).select_by_value("sqs")
    console.css("#new-destination-target").send_keys(bus)  # an EventBridge ARN is no queue: the API's 400
    console.css("#new-subscription button[type=submit]").click()
    console.wait(lambda: "queue" in console.text("#flash"), "the refusal shown")
    assert all("400" in error for error in console.console_errors())


def test_runs_show_parameters_result_and_attempts(console: Page, scenario: Scenario) -> None:
    console.route("#/runs")
    assert scenario.ids["runId"] in console.text("table.runs")
    console.route(f"#/runs/{scenario.ids['runId']}")
    run = scenario.get(f"/integrations/runs/{scenario.ids['runId']}")
    assert console.text('[data-field="attempts"]') == str(run["attempts"])
    assert '"owner": "octo"' in console.text("#parameters")
    assert '"name": "hello"' in console.text("#result")
    console.screenshot("console-run")
    console.no_console_errors()


def test_dead_letters_are_listed_and_redriven(console: Page, scenario: Scenario) -> None:
    did = scenario.ids["failedDeliveryId"]
    console.route("#/dead-letters")
    row = f'tr[data-delivery-id="{did}"]'
    assert console.all(row)
    console.screenshot("console-dead-letters")
    console.css(f"{row} button.redrive").click()
    poll(lambda: scenario.get(f"/webhooks/deliveries/{did}").get("redriveCount") == 1, "the redrive")
    console.wait(lambda: not console.all(row), "the row leaving the dead letters")
    console.no_console_errors()


def test_signed_out_the_sign_in_page_shows_no_navigation(console: Page) -> None:
    console.css("#sign-out").click()
    console.wait(lambda: console.all("#sign-in"), "the sign-in form")
    assert not console.css("#nav").is_displayed() and not console.css("#sign-out").is_displayed()
    console.screenshot("console-signed-out")
    console.no_console_errors()


def test_a_call_after_sign_out_is_refused_in_the_page_not_sent(console: Page) -> None:
    """A view still loading when Sign out is clicked goes on to its next call: with no credential the API would
    answer 401, which the browser logs as a failed load (seen on a loaded machine), so the page asks nothing."""
    console.css("#sign-out").click()
    console.wait(lambda: console.all("#sign-in"), "the sign-in form")
    status = console.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import(new URL('console/common.js', location.href).href)"
        ".then((m) => m.api('/metrics?granularity=hour')).then(() => done('sent'), (e) => done(e.status));"
    )
    assert status == 401
    console.no_console_errors()


def test_an_api_key_signs_in_too(console: Page, scenario: Scenario) -> None:
    scopes = ["integration.connections.read", "metrics.read", "events.read"]  # events.read: live updates too
    key = scenario.call("POST", "/auth/api-keys", {"name": "console", "scopes": scopes})
    console.css("#sign-out").click()
    console.wait(lambda: console.all("#sign-in"), "the sign-in form")
    console.css("#credential-kind option[value=apiKey]").click()
    console.css("#credential").send_keys(key["apiKey"])
    console.css("#sign-in button[type=submit]").click()
    console.wait(lambda: scenario.ids["connectionId"] in console.driver.page_source, "connections by API key")
    console.wait(lambda: console.css("#live").get_attribute("data-state") == "connected", "live by ?token=<API key>")
    console.no_console_errors()


@pytest.mark.parametrize("page_route", ["#/deliveries", "#/events"])
def test_a_new_inbound_webhook_appears_without_a_reload(console: Page, scenario: Scenario, page_route: str) -> None:
    """The live socket (docs/live.md): the page shows it is connected, and renders the new row by itself."""
    console.css("#sign-out").click()  # a token with every scope, whoever signed in before
    dev_sign_in(console, scenario)
    console.route(page_route)
    console.wait(lambda: console.css("#live").get_attribute("data-state") == "connected", "the live badge connected")
    assert console.text("#live") == "\u25cf Live"
    console.driver.execute_script("window.notReloaded = true")
    delivery_id = inbound_delivery(scenario, scenario.connection, 100 + len(page_route))
    event_id = scenario.get(f"/webhooks/deliveries/{delivery_id}")["eventId"]
    shown = delivery_id if page_route == "#/deliveries" else event_id
    console.wait(lambda: shown in console.text("main table"), "the new row")
    assert console.driver.execute_script("return window.notReloaded") is True
    console.screenshot(f"console-live-{page_route.strip('#/')}")
    console.no_console_errors()


def test_a_dropped_socket_shows_reconnecting_and_comes_back(console: Page, scenario: Scenario) -> None:
    """The platform closes the console's socket (as API Gateway's DeleteConnection does): the header says so, then
    the page is live again by itself."""
    console.css("#sign-out").click()
    dev_sign_in(console, scenario)
    console.wait(lambda: console.css("#live").get_attribute("data-state") == "connected", "the live badge connected")
    console.driver.execute_script(
        "window.liveStates = [];"
        "new MutationObserver(() => window.liveStates.push(document.getElementById('live').dataset.state))"
        ".observe(document.getElementById('live'), {attributes: true});"
    )
    socket = poll(lambda: len(found := live_sockets(scenario)) == 1 and found[0], "the console's one socket")
    closed = scenario.runtime.send("DELETE", f"/@connections/{socket}", None, {})
    assert closed.status == 204, closed.body
    console.wait(lambda: "reconnecting" in console.driver.execute_script("return window.liveStates"), "reconnecting")
    console.wait(lambda: console.css("#live").get_attribute("data-state") == "connected", "live again")
    assert live_sockets(scenario) != [socket]
    console.no_console_errors()
