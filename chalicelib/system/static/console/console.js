// The operator console: hash-routed views over the public API, with the operator's own token or API key.
import {
  ApiError, api, apiRoot, badge, credentials, el, isoHoursAgo, json, millis, notice, percent, redactHeaders,
  show, signIn, signOut, table, when,
} from "./common.js";
import { destinationCells, newSubscriptionForm } from "./destinations.js";
import { connect as connectLive } from "./live.js";
import { linePlot, sparkline } from "./plots.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const flash = document.getElementById("flash");
const enc = encodeURIComponent;

function say(message) {
  flash.textContent = message;
  setTimeout(() => { if (flash.textContent === message) flash.textContent = ""; }, 4000);
}

const link = (hash, text) => el("a", { href: hash }, text);
const cell = (field, value, cls) => el("td", { dataset: { field }, class: cls }, value);

// ---- sign-in -------------------------------------------------------------------------------

async function devSignInAvailable() {
  try {
    const response = await fetch(`${apiRoot}/.well-known/dev-sign-in`, { headers: { Accept: "application/json" } });
    return response.ok;
  } catch {
    return false;
  }
}

async function signInView() {
  nav.hidden = true;
  const secret = el("input", { type: "password", id: "credential", autocomplete: "off", required: true });
  const kind = el("select", { id: "credential-kind" },
    el("option", { value: "bearer" }, "Bearer token"), el("option", { value: "apiKey" }, "API key"));
  const form = el("form", { class: "card", id: "sign-in" },
    el("h1", {}, "Sign in"),
    el("label", {}, "Credential kind ", kind),
    el("label", {}, "Token or key", secret),
    el("button", { type: "submit", class: "primary" }, "Sign in"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    signIn(kind.value, secret.value);
    location.hash = "#/connections";
    route();
  });
  show(main, form);
  if (await devSignInAvailable()) {
    const tenant = el("input", { type: "text", id: "dev-tenant", value: "acme" });
    const button = el("button", { type: "button", id: "dev-sign-in" }, "Development sign-in");
    button.addEventListener("click", async () => {
      const response = await fetch(`${apiRoot}/.well-known/dev-sign-in`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ tenant: tenant.value }),
      });
      if (!response.ok) return say("Development sign-in failed");
      signIn("bearer", (await response.json()).token);
      location.hash = "#/connections";
      route();
    });
    form.append(el("fieldset", {}, el("legend", {}, "Local runtime only"), el("label", {}, "Tenant", tenant), button));
  }
}

// ---- numbers -------------------------------------------------------------------------------

async function series(params) {
  try {
    return await api(`/metrics?${new URLSearchParams(params)}`);
  } catch (error) {
    if (error instanceof ApiError && [403, 404].includes(error.status)) return null; // no metrics here: degrade
    throw error;
  }
}

const successValues = (points) =>
  points.map((p) => (p.calls.total ? Math.round(((p.calls.total - p.calls.failed) / p.calls.total) * 1000) / 10 : null));
const latencyValues = (points) => points.map((p) => p.calls.averageLatencyMs ?? null);

// ---- views ---------------------------------------------------------------------------------

async function connectionsView() {
  const { items } = await api("/integrations/connections?limit=100");
  // Lists carry no numbers (they would cost a read per item); each row reads its connection.
  const rows = await Promise.all(items.map(async (listed) => {
    const c = await api(`/integrations/connections/${enc(listed.connectionId)}`);
    const s = c.stats || {};
    const m = await series({ connectionId: c.connectionId, granularity: "hour", from: isoHoursAgo(24) });
    const trend = m ? sparkline(m.points.map((p) => p.calls.total), { label: `calls per hour, ${c.displayName}` }) : "–";
    return el("tr", { dataset: { connectionId: c.connectionId } },
      el("td", {}, link(`#/connections/${enc(c.connectionId)}`, c.displayName)),
      cell("providerId", c.providerId),
      el("td", {}, badge(c.status)),
      el("td", {}, badge(c.health)),
      cell("totalCalls", s.totalCalls ?? "–", "num"),
      cell("successRate", percent(s.successRate), "num"),
      cell("averageResponseTimeMs", millis(s.averageResponseTimeMs), "num"),
      cell("lastUsedAt", when(s.lastUsedAt)),
      el("td", {}, trend));
  }));
  show(main, el("h1", {}, "Connections"),
    table(["Name", "Provider", "Status", "Health", "Calls", "Success", "Avg time", "Last used", "Calls, 24 h"], rows,
      { id: "connections" }));
}

async function connectionView(id) {
  const [c, health] = await Promise.all([
    api(`/integrations/connections/${enc(id)}`),
    api(`/integrations/connections/${enc(id)}/health`),
  ]);
  const [day, week, runs, deliveries] = await Promise.all([
    series({ connectionId: id, granularity: "hour", from: isoHoursAgo(24) }),
    series({ connectionId: id, granularity: "day", from: isoHoursAgo(24 * 7) }),
    api(`/integrations/runs?connectionId=${enc(id)}&limit=20`),
    api(`/webhooks/deliveries?connectionId=${enc(id)}&limit=20`),
  ]);
  const hm = health.metrics || {};
  const checks = (health.checks || []).map((k) => el("tr", {},
    el("td", {}, k.name), el("td", {}, badge(k.status)), cell("latencyMs", millis(k.latencyMs), "num"), el("td", {}, k.message)));
  const plots = el("div", { class: "plots", id: "plots" });
  for (const [label, m] of [["24 h", day], ["7 d", week]]) {
    if (!m) continue;
    const first = when(m.from), last = when(m.to);
    plots.append(linePlot(successValues(m.points), { title: `Success rate, ${label}`, max: 100, unit: "%", first, last }));
    plots.append(linePlot(latencyValues(m.points), { title: `Latency, ${label}`, unit: " ms", first, last }));
  }
  const check = el("button", { type: "button", id: "check-now" }, "Check now");
  check.addEventListener("click", async () => {
    await api(`/integrations/connections/${enc(id)}/health/check`, { method: "POST" });
    say("Health checked");
    route();
  });
  show(main,
    el("h1", {}, c.displayName, " ", badge(c.status), " ", badge(c.health)),
    el("dl", { class: "facts" },
      el("dt", {}, "Connection"), el("dd", {}, c.connectionId),
      el("dt", {}, "Provider"), el("dd", {}, c.providerId),
      el("dt", {}, "Last check"), el("dd", {}, when(health.lastCheck)),
      el("dt", {}, "Message"), el("dd", {}, health.message ?? "–"),
      el("dt", {}, "Success rate, 24 h"), el("dd", { dataset: { field: "successRate24h" } }, percent(hm.successRate24h)),
      el("dt", {}, "Average latency"), el("dd", { dataset: { field: "averageLatencyMs" } }, millis(hm.averageLatencyMs)),
      el("dt", {}, "Calls, 24 h"), el("dd", { dataset: { field: "totalCalls24h" } }, hm.totalCalls24h ?? "–")),
    el("h2", {}, "Checks ", check),
    table(["Check", "Status", "Latency", "Message"], checks, { id: "checks" }),
    el("h2", {}, "Success rate and latency"),
    day || week ? plots : el("p", { class: "notice" }, "No metrics for this caller."),
    el("h2", {}, "Recent runs"), runTable(runs.items),
    el("h2", {}, "Inbound deliveries"), deliveryTable(deliveries.items));
}

function runTable(items) {
  return table(["Run", "Operation", "Status", "Attempts", "Created"], items.map((r) => el("tr", {},
    el("td", {}, link(`#/runs/${enc(r.runId)}`, r.runId)), el("td", {}, r.operation), el("td", {}, badge(r.status)),
    cell("attempts", r.attempts, "num"), el("td", {}, when(r.createdAt)))), { class: "runs" });
}

function deliveryTable(items, extra) {
  return table(["Delivery", "Event", "Status", "Received", "Event id", ""], items.map((d) => el("tr", { dataset: { deliveryId: d.deliveryId } },
    el("td", {}, link(`#/deliveries/${enc(d.deliveryId)}`, d.deliveryId)), el("td", {}, d.normalizedEventType),
    el("td", {}, badge(d.status)), el("td", {}, when(d.receivedAt)),
    el("td", {}, d.eventId ? link(`#/events/${enc(d.eventId)}`, d.eventId) : "–"),
    el("td", {}, extra ? extra(d) : ""))), { class: "deliveries" });
}

async function allDeliveries() {
  const { items } = await api("/integrations/connections?limit=100");
  const pages = await Promise.all(items.map((c) => api(`/webhooks/deliveries?connectionId=${enc(c.connectionId)}&limit=50`)));
  return pages.flatMap((p) => p.items);
}

async function deliveriesView() {
  show(main, el("h1", {}, "Inbound deliveries"), deliveryTable(await allDeliveries()));
}

async function deliveryView(id) {
  const d = await api(`/webhooks/deliveries/${enc(id)}`);
  const event = d.eventId ? await api(`/events/${enc(d.eventId)}`).catch(() => null) : null;
  show(main,
    el("h1", {}, "Delivery ", d.deliveryId, " ", badge(d.status)),
    el("dl", { class: "facts" },
      el("dt", {}, "Connection"), el("dd", {}, link(`#/connections/${enc(d.connectionId)}`, d.connectionId)),
      el("dt", {}, "Vendor event"), el("dd", {}, d.eventName),
      el("dt", {}, "Received"), el("dd", {}, when(d.receivedAt)),
      el("dt", {}, "Failure"), el("dd", {}, d.failureReason ?? "–")),
    el("h2", {}, "Headers (signatures redacted)"), el("div", { id: "headers" }, json(redactHeaders(d.headers))),
    el("h2", {}, "Payload"), el("div", { id: "payload" }, json(d.payload)),
    el("h2", {}, "The event it became"),
    event ? el("div", {}, link(`#/events/${enc(event.eventId)}`, event.eventId), " ", event.type) : el("p", {}, "none yet"));
}

const RECENT_EVENT_PAGES = 5;

async function eventsView() {
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

async function eventView(id) {
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

async function subscriptionsView() {
  const { items: listed } = await api("/webhooks/subscriptions?limit=100");
  const items = await Promise.all(listed.map((s) => api(`/webhooks/subscriptions/${enc(s.subscriptionId)}`)));
  const rows = items.map((s) => {
    const toggle = el("button", { type: "button", class: "toggle" }, s.active ? "Disable" : "Enable");
    toggle.addEventListener("click", async () => {
      await api(`/webhooks/subscriptions/${enc(s.subscriptionId)}`, { method: "PATCH", body: { active: !s.active } });
      say(s.active ? "Disabled" : "Enabled");
      route();
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
    el("h2", {}, "New subscription"), newSubscriptionForm(say, route));
}

async function subscriptionView(id) {
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

async function runsView() {
  const { items } = await api("/integrations/runs?limit=100");
  show(main, el("h1", {}, "Runs"), runTable(items));
}

async function runView(id) {
  const r = await api(`/integrations/runs/${enc(id)}`);
  show(main, el("h1", {}, "Run ", r.runId, " ", badge(r.status)),
    el("dl", { class: "facts" },
      el("dt", {}, "Connection"), el("dd", {}, link(`#/connections/${enc(r.connectionId)}`, r.connectionId)),
      el("dt", {}, "Operation"), el("dd", {}, r.operation),
      el("dt", {}, "Attempts"), el("dd", { dataset: { field: "attempts" } }, r.attempts),
      el("dt", {}, "Created"), el("dd", {}, when(r.createdAt)),
      el("dt", {}, "Completed"), el("dd", {}, when(r.completedAt))),
    el("h2", {}, "Parameters"), el("div", { id: "parameters" }, json(r.parameters ?? {})),
    el("h2", {}, "Result"), el("div", { id: "result" }, json(r.result ?? null)),
    el("h2", {}, "Error"), el("div", { id: "error" }, json(r.error ?? null)));
}

async function deadLettersView() {
  const failed = (await allDeliveries()).filter((d) => d.status === "Failed");
  show(main, el("h1", {}, "Dead letters"),
    el("p", {}, "Inbound deliveries whose processing never succeeded. Redrive puts one back to the consumer."),
    deliveryTable(failed, (d) => {
      const button = el("button", { type: "button", class: "redrive" }, "Redrive");
      button.addEventListener("click", async () => {
        await api(`/webhooks/deliveries/${enc(d.deliveryId)}/redrive`, { method: "POST" });
        say("Redriven");
        route();
      });
      return button;
    }));
}

// ---- live updates --------------------------------------------------------------------------

// Which pages an event frame changes: they render again (once for a burst), other pages stay as they are.
const RUN_TYPES = new Set(["RunStarted", "RunCompleted", "RunFailed", "run.progress"]);
const LIVE_PAGES = [
  [/^#\/deliveries(\/.+)?$/, (f) => f.data.deliveryId !== undefined || f.type === "DeliveryFailed"],
  [/^#\/runs(\/.+)?$/, (f) => RUN_TYPES.has(f.type)],
  [/^#\/events$/, (f) => f.type !== "delivery.attempt"],
  [/^#\/events\/(.+)$/, (f, hash) => f.type === "delivery.attempt" && hash === `#/events/${enc(f.id)}`],
  [/^#\/connections(\/.+)?$/, (f) => f.data.connectionId !== undefined || f.type.startsWith("Connection")],
];
let stopLive = null;
let pending = null;

function onLiveEvent(frame) {
  const hash = location.hash || "#/connections";
  const page = LIVE_PAGES.find(([pattern]) => pattern.test(hash));
  if (!page || !page[1](frame, hash) || pending) return;
  pending = setTimeout(() => { pending = null; if (location.hash === hash) route(); }, 300);
}

async function startLive() {
  if (stopLive) return;
  stopLive = () => {};
  const badge = document.getElementById("live");
  try {
    await api(`/events?${new URLSearchParams({ since: new Date().toISOString(), limit: "1" })}`);
  } catch (error) {
    // A socket needs events.read, as this list does: without it the page stays as it is, and says so.
    badge.dataset.state = "off";
    badge.textContent = error instanceof ApiError && error.status === 403 ? "Live updates need events.read" : "";
    return;
  }
  if (stopLive) stopLive = connectLive(onLiveEvent, badge);
}

function stopLiveUpdates() {
  if (stopLive) stopLive();
  stopLive = null;
}

// ---- routing -------------------------------------------------------------------------------

const ROUTES = [
  [/^#\/connections\/(.+)$/, connectionView],
  [/^#\/connections$/, connectionsView],
  [/^#\/deliveries\/(.+)$/, deliveryView],
  [/^#\/deliveries$/, deliveriesView],
  [/^#\/events\/(.+)$/, eventView],
  [/^#\/events$/, eventsView],
  [/^#\/subscriptions\/(.+)$/, subscriptionView],
  [/^#\/subscriptions$/, subscriptionsView],
  [/^#\/runs\/(.+)$/, runView],
  [/^#\/runs$/, runsView],
  [/^#\/dead-letters$/, deadLettersView],
];

async function route() {
  if (!credentials()) {
    stopLiveUpdates();
    return signInView();
  }
  nav.hidden = false;
  startLive();
  const hash = location.hash || "#/connections";
  const found = ROUTES.find(([pattern]) => pattern.test(hash));
  if (!found) return notice(main, "No such page.");
  const [pattern, view] = found;
  const arg = decodeURIComponent(hash.match(pattern)[1] ?? "");
  main.dataset.loaded = "";
  try {
    await view(arg);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      signOut();
      stopLiveUpdates();
      return signInView();
    }
    notice(main, error.message);
  } finally {
    main.dataset.loaded = hash;
  }
}

// A failed action says why in the page instead of leaving an uncaught rejection in the console.
window.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  say(event.reason instanceof Error ? event.reason.message : String(event.reason));
});
document.getElementById("sign-out").addEventListener("click", () => { signOut(); stopLiveUpdates(); route(); });
window.addEventListener("hashchange", route);
route();
