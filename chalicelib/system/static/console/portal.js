// The subscriber portal: a tenant's customer manages only the subscriptions its portal token lists.
// The token arrives in the URL fragment (never sent to a server), moves to sessionStorage, and leaves the address bar.
import { api, badge, credentials, el, json, millis, notice, show, signIn, table, when } from "./common.js";
import { destinationCells, destinationOf } from "./destinations.js";

const main = document.getElementById("main");
const flash = document.getElementById("flash");
const enc = encodeURIComponent;

function say(message) {
  flash.textContent = message;
  setTimeout(() => { if (flash.textContent === message) flash.textContent = ""; }, 4000);
}

window.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  say(event.reason instanceof Error ? event.reason.message : String(event.reason));
});

function claims(token) {
  const part = token.split(".")[1] || "";
  return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=")));
}

async function endpointCard(id) {
  const s = await api(`/webhooks/subscriptions/${enc(id)}`);
  const attempts = await api(`/webhooks/subscriptions/${enc(id)}/attempts?limit=20`);
  // A portal may point a subscription only at a webhook URL (the platform writes AWS destinations as the tenant):
  // a queue, topic, bus or stream is shown, and only its event types can change here.
  const webhook = destinationOf(s).type === "webhook";
  const url = webhook ? el("input", { type: "text", class: "endpoint-url", value: s.endpointUrl }) : null;
  const types = el("input", { type: "text", class: "event-types", value: s.eventTypes.join(", ") });
  const edit = el("form", { class: "card edit" },
    webhook ? el("label", {}, "Endpoint URL", url) : null,
    el("label", {}, "Event types (comma-separated, * for all)", types),
    el("button", { type: "submit", class: "primary" }, "Save"));
  edit.addEventListener("submit", async (e) => {
    e.preventDefault();
    const eventTypes = types.value.split(",").map((t) => t.trim()).filter(Boolean);
    const where = webhook ? { endpointUrl: url.value.trim() } : {};
    await api(`/webhooks/subscriptions/${enc(id)}`, { method: "PATCH", body: { ...where, eventTypes } });
    say("Saved");
    render();
  });
  const secret = el("output", { class: "new-secret" });
  const rotate = el("button", { type: "button", class: "rotate", hidden: !webhook }, "Rotate signing secret");
  rotate.addEventListener("click", async () => {
    const rotated = await api(`/webhooks/subscriptions/${enc(id)}/rotate-secret`, { method: "POST" });
    secret.textContent = rotated.signingSecret
      ? `New secret (shown once): ${rotated.signingSecret}; the old one signs until ${when(rotated.previousSecretExpiresAt)}`
      : "Rotated";
  });
  const payload = el("div", { class: "payload" });
  const rows = attempts.items.map((a) => {
    const view = el("button", { type: "button", class: "view-payload" }, "Payload");
    view.addEventListener("click", async () => {
      const event = await api(`/events/${enc(a.eventId)}`);
      payload.replaceChildren(el("h3", {}, event.type, " ", event.eventId), json(event.data));
    });
    const replay = el("button", { type: "button", class: "replay" }, "Replay");
    replay.addEventListener("click", async () => {
      await api(`/events/${enc(a.eventId)}/redeliver`, { method: "POST", body: { subscriptionId: id } });
      say("Replay queued");
    });
    return el("tr", { dataset: { eventId: a.eventId } },
      el("td", {}, a.eventId), el("td", {}, a.eventType), el("td", { class: "num" }, a.attempt), el("td", {}, badge(a.status)),
      el("td", {}, a.statusCode ?? "–"), el("td", { class: "num" }, millis(a.latencyMs)), el("td", {}, when(a.attemptedAt)),
      el("td", {}, view, " ", replay));
  });
  return el("section", { class: "subscription", dataset: { subscriptionId: id } },
    el("h2", {}, destinationCells(s), " ", badge(s.status)),
    edit, el("p", {}, rotate, " ", secret),
    el("h3", {}, "Attempts"),
    table(["Event", "Type", "#", "Status", "HTTP", "Latency", "At", ""], rows, { class: "attempts" }),
    payload);
}

async function render() {
  const creds = credentials();
  if (!creds) return notice(main, "This page needs a portal link from the service you subscribe to.");
  let ids;
  try {
    const c = claims(creds.value);
    ids = c.subscription_ids || [];
    document.getElementById("expiry").textContent = `· link valid until ${when(new Date(c.exp * 1000).toISOString())}`;
  } catch {
    return notice(main, "This portal link is malformed.");
  }
  try {
    show(main, await Promise.all(ids.map(endpointCard)));
  } catch (error) {
    notice(main, error.status === 401 ? "This portal link has expired; ask for a new one." : error.message);
  } finally {
    main.dataset.loaded = "yes";
  }
}

// A link opened in a tab already on the portal only changes the fragment (no reload): take its token then too.
function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) {
    signIn("bearer", fragment.get("token"));
    history.replaceState(null, "", location.pathname);
  }
}

window.addEventListener("hashchange", () => { takeToken(); main.dataset.loaded = ""; render(); });
takeToken();
render();
