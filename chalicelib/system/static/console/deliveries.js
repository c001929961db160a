// The inbound deliveries' views: every connection's deliveries, one delivery and the event it became, the dead
// letters with their redrive; and the table the connection view reuses.
import { api, badge, el, json, redactHeaders, show, table, when } from "./common.js";
import { enc, link, main, redraw, say } from "./page.js";

export function deliveryTable(items, extra) {
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

export async function deliveriesView() {
  show(main, el("h1", {}, "Inbound deliveries"), deliveryTable(await allDeliveries()));
}

export async function deliveryView(id) {
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

export async function deadLettersView() {
  const failed = (await allDeliveries()).filter((d) => d.status === "Failed");
  show(main, el("h1", {}, "Dead letters"),
    el("p", {}, "Inbound deliveries whose processing never succeeded. Redrive puts one back to the consumer."),
    deliveryTable(failed, (d) => {
      const button = el("button", { type: "button", class: "redrive" }, "Redrive");
      button.addEventListener("click", async () => {
        await api(`/webhooks/deliveries/${enc(d.deliveryId)}/redrive`, { method: "POST" });
        say("Redriven");
        redraw();
      });
      return button;
    }));
}
