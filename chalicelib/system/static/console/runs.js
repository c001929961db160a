// The runs' views: the list, one run's parameters, result and error; and the table the connection view reuses.
import { api, badge, el, json, show, table, when } from "./common.js";
import { cell, enc, link, main } from "./page.js";

export function runTable(items) {
  return table(["Run", "Operation", "Status", "Attempts", "Created"], items.map((r) => el("tr", {},
    el("td", {}, link(`#/runs/${enc(r.runId)}`, r.runId)), el("td", {}, r.operation), el("td", {}, badge(r.status)),
    cell("attempts", r.attempts, "num"), el("td", {}, when(r.createdAt)))), { class: "runs" });
}

export async function runsView() {
  const { items } = await api("/integrations/runs?limit=100");
  show(main, el("h1", {}, "Runs"), runTable(items));
}

export async function runView(id) {
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
