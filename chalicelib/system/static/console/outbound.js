// The outbound views: recent events and each one's delivery to every subscription, the subscriptions with their
// switches, recovery and attempts, and the redelivery of one event to one subscription.
import { api, badge, el, isoHoursAgo, json, millis, percent, show, table, when } from "./common.js";
import { destinationCells, newSubscriptionForm } from "./destinations.js";
import { cell, enc, link, main, redraw, say } from "./page.js";

const RECENT_EVENT_PAGES = 5;

export async function eventsView() {
  // The events recorded in the last 24 hours (oldest first from the API, shown newest first), at most five pages.
  const recent = [];
  let cursor = "";
  for (let page = 0; page < RECENT_EVENT_PAGES; page += 1) {
    const query = new URLSearchParams({ since: isoHoursAgo(24), limit: "100", ...(cursor ? { cursor } : {}) });
    const listed = await api(`/events?${query}`);
    recent.push(...listed.items);
    cursor = listed.nextCursor;
    if (!cursor) break;
  }
  const find = el("input", { type: "text", id: "event-id", placeholder: "evt-…" });
  const form = el("form", { class: "inline" }, find, el("button", { type: "submit" }, "Open event"));
  form.addEventListener("submit", (e) => { e.preventDefault(); location.hash = `#/events/${enc(find.value.trim())}`; });
  show(main, el("h1", {}, "Events"), form, el("h2", {}, "Recorded in the last 24 hours"),
    table(["Event", "Type", "Source", "Recorded"], recent.reverse().map((e) => el("tr", { dataset: { eventId: e.eventId } },
      el("td", {}, link(`#/events/${enc(e.eventId)}`, e.eventId)), el("td", {}, e.type), el("td", {}, e.source),
      el("td", {}, when(e.timestamp)))),
    { id: "events" }));
}

export async function eventView(id) {
  const e = await api(`/events/${enc(id)}`);
  const rows = e.deliveries.map((d) => el("tr", { dataset: { subscriptionId: d.subscriptionId } },
    el("td", {}, link(`#/subscriptions/${enc(d.subscriptionId)}`, d.subscriptionId)), el("td", {}, badge(d.status)),
    cell("attempts", d.attempts, "num"), el("td", {}, d.statusCode ?? "–"), el("td", {}, when(d.lastAttemptAt)),
    el("td", {}, d.error ?? ""), el("td", {}, redeliverButton(e.eventId, d.subscriptionId))));
  show(main, el("h1", {}, "Event ", e.eventId),
    el("dl", { class: "facts" }, el("dt", {}, "Type"), el("dd", {}, e.type), el("dt", {}, "Source"), el("dd", {}, e.source ?? "–")),
    el("h2", {}, "Data"), json(e.data),
    el("h2", {}, "Delivery to each subscription"),
    table(["Subscription", "Status", "Attempts", "HTTP", "Last attempt", "Error", ""], rows, { id: "event-deliveries" }));
}

function redeliverButton(eventId, subscriptionId) {
  const button = el("button", { type: "button", class: "redeliver" }, "Redeliver");
  button.addEventListener("click", async () => {
    const queued = await api(`/events/${enc(eventId)}/redeliver`, { method: "POST", body: { subscriptionId } });
    say(`Redelivery queued (${queued.queued})`);
  });
  return button;
}

export async function subscriptionsView() {
  const { items: listed } = await api("/webhooks/subscriptions?limit=100");
  const items = await Promise.all(listed.map((s) => api(`/webhooks/subscriptions/${enc(s.subscriptionId)}`)));
  const rows = items.map((s) => {
    const toggle = el("button", { type: "button", class: "toggle" }, s.active ? "Disable" : "Enable");
    toggle.addEventListener("click", async () => {
      await api(`/webhooks/subscriptions/${enc(s.subscriptionId)}`, { method: "PATCH", body: { active: !s.active } });
      say(s.active ? "Disabled" : "Enabled");
      redraw();
    });
    const since = el("input", { type: "text", class: "since", value: isoHoursAgo(24), size: 20 });
    const recover = el("form", { class: "inline recover" }, since, el("button", { type: "submit" }, "Recover since"));
    recover.addEventListener("submit", async (e) => {
      e.preventDefault();
      const queued = await api(`/webhooks/subscriptions/${enc(s.subscriptionId)}/recover`, { method: "POST", body: { since: since.value } });
      say(`Recovery queued ${queued.queued} event(s)`);
    });
    const st = s.stats || {};
    return el("tr", { dataset: { subscriptionId: s.subscriptionId } },
      el("td", {}, link(`#/subscriptions/${enc(s.subscriptionId)}`, s.subscriptionId)),
      el("td", { class: "destination" }, destinationCells(s)), el("td", {}, badge(s.status)),
      cell("failingSince", when(s.failingSince)),
      cell("totalCalls", st.totalCalls ?? "–", "num"), cell("successRate", percent(st.successRate), "num"),
      el("td", {}, toggle, " ", recover));
  });
  show(main, el("h1", {}, "Subscriptions"),
    table(["Subscription", "Destination", "Status", "Failing since", "Attempts", "Success", "Actions"], rows, { id: "subscriptions" }),
    el("h2", {}, "New subscription"), newSubscriptionForm(say, redraw));
}

export async function subscriptionView(id) {
  const [s, attempts] = await Promise.all([
    api(`/webhooks/subscriptions/${enc(id)}`),
    api(`/webhooks/subscriptions/${enc(id)}/attempts?limit=50`),
  ]);
  const rows = attempts.items.map((a) => el("tr", { dataset: { eventId: a.eventId } },
    el("td", {}, link(`#/events/${enc(a.eventId)}`, a.eventId)), el("td", {}, a.eventType), cell("attempt", a.attempt, "num"),
    el("td", {}, badge(a.status)), el("td", {}, a.statusCode ?? "–"), cell("latencyMs", millis(a.latencyMs), "num"),
    el("td", {}, when(a.attemptedAt)), el("td", {}, a.error ?? ""), el("td", {}, redeliverButton(a.eventId, id))));
  show(main, el("h1", {}, "Subscription ", s.subscriptionId, " ", badge(s.status)),
    el("dl", { class: "facts" },
      el("dt", {}, "Destination"), el("dd", { id: "destination" }, destinationCells(s)),
      el("dt", {}, "Event types"), el("dd", {}, s.eventTypes.join(", ")),
      el("dt", {}, "Failing since"), el("dd", {}, when(s.failingSince)),
      el("dt", {}, "Disabled"), el("dd", {}, s.disabledReason ?? "–")),
    el("h2", {}, "Attempts"),
    table(["Event", "Type", "#", "Status", "HTTP", "Latency", "At", "Error", ""], rows, { id: "attempts" }));
}
