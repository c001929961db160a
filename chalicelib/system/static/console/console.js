// The operator console: hash-routed views over the public API, with the operator's own token or API key. This
// module is the shell (sign-in, live updates, routing); the views live in a module per concern.
import { ApiError, api, apiRoot, credentials, el, notice, show, signIn, signOut } from "./common.js";
import { connectionView, connectionsView } from "./connections.js";
import { deadLettersView, deliveriesView, deliveryView } from "./deliveries.js";
import { connect as connectLive } from "./live.js";
import { eventView, eventsView, subscriptionView, subscriptionsView } from "./outbound.js";
import { enc, main, say, setRedraw } from "./page.js";
import { runView, runsView } from "./runs.js";

const nav = document.getElementById("nav");

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
setRedraw(route);
window.addEventListener("hashchange", route);
route();
