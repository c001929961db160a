// The connections' views: each one's calls, health and checks, with its success-rate and latency plots.
import { ApiError, api, badge, el, isoHoursAgo, millis, percent, show, table, when } from "./common.js";
import { deliveryTable } from "./deliveries.js";
import { cell, enc, link, main, redraw, say } from "./page.js";
import { linePlot, sparkline } from "./plots.js";
import { runTable } from "./runs.js";

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

export async function connectionsView() {
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

export async function connectionView(id) {
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
    redraw();
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
