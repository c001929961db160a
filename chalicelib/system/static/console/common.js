// Shared by the console and the portal: credentials, API calls, safe DOM building, formatting.
// Nothing from the API is ever parsed as HTML: every value goes in through textContent or an attribute.

// One per page (console, portal): a portal link opened in a tab never replaces the operator's sign-in there.
const STORE_KEY = `ip.credentials${location.pathname}`;

// The API's root: the page lives at <root>/console or <root>/portal (a deployed stage adds a prefix).
export const apiRoot = location.pathname.replace(/\/(console|portal)\/?$/, "");

export function credentials() {
  const raw = sessionStorage.getItem(STORE_KEY);
  return raw ? JSON.parse(raw) : null;
}

export function signIn(kind, value) {
  sessionStorage.setItem(STORE_KEY, JSON.stringify({ kind, value: value.trim() }));
}

export function signOut() {
  sessionStorage.removeItem(STORE_KEY);
}

// Its message says why: the error's message, then each field's (a 400 names the field and what is wrong with it).
function explain(status, body) {
  const error = body && body.error;
  if (!error || !error.message) return `HTTP ${status}`;
  const details = (error.details || []).map((d) => `${d.field}: ${d.message}`);
  return details.length ? `${error.message} ${details.join("; ")}` : error.message;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(explain(status, body));
    this.status = status;
    this.body = body;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const creds = credentials();
  // Signed out (a view still loading when Sign out was clicked): the API would answer 401, so ask nothing.
  if (!creds) throw new ApiError(401, { error: { message: "Signed out." } });
  if (creds.kind === "apiKey") headers["X-API-Key"] = creds.value;
  else headers.Authorization = `Bearer ${creds.value}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(apiRoot + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

// el("td", {class: "num", dataset: {k: "v"}, onclick: f}, "text", child, ...)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function table(headings, rows, attrs = {}) {
  return el(
    "table",
    attrs,
    el("thead", {}, el("tr", {}, headings.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.length ? rows : [el("tr", {}, el("td", { colspan: headings.length, class: "empty" }, "none"))]),
  );
}

export function show(root, ...nodes) {
  root.replaceChildren(...nodes.flat());
}

export function notice(root, message, kind = "error") {
  root.replaceChildren(el("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, message));
}

// Success rates come as fractions (0.9731); the page shows percent with one decimal.
export function percent(rate) {
  return rate === null || rate === undefined ? "–" : `${(rate * 100).toFixed(1)}%`;
}

export function millis(value) {
  return value === null || value === undefined ? "–" : `${value} ms`;
}

export function when(text) {
  return text ? text.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC") : "–";
}

export function json(value) {
  return el("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

export function badge(text) {
  return el("span", { class: `badge ${String(text).toLowerCase()}` }, text);
}

// Headers that prove or grant something: shown by name, never by value.
const SECRET_HEADER = /signature|authorization|token|secret|api-key|cookie|x-hub|x-twilio|x-slack/i;

export function redactHeaders(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers || {})) out[name] = SECRET_HEADER.test(name) ? "[redacted]" : value;
  return out;
}

export function isoHoursAgo(hours) {
  return new Date(Date.now() - hours * 3600 * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}
