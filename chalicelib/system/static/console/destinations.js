// A subscription's destination (docs/webhooks-outbound.md "Destinations"), shown the same way in the console and the
// portal: its type as a tag, then its URL or ARN; and the console's form that creates a subscription of any type.
import { api, el } from "./common.js";

// Each type and the one field of its wire shape that names the target.
export const DESTINATION_FIELDS = { webhook: "url", sqs: "queueArn", sns: "topicArn", eventbridge: "eventBusArn", kinesis: "streamArn" };

const TARGET_HINTS = {
  webhook: "https://example.com/hooks",
  sqs: "arn:aws:sqs:<region>:<account>:<queue>",
  sns: "arn:aws:sns:<region>:<account>:<topic>",
  eventbridge: "arn:aws:events:<region>:<account>:event-bus/<name>",
  kinesis: "arn:aws:kinesis:<region>:<account>:stream/<name>",
};

export function destinationOf(subscription) {
  const d = subscription.destination || { type: "webhook", url: subscription.endpointUrl };
  return { type: d.type, target: d[DESTINATION_FIELDS[d.type]] ?? "" };
}

export function destinationCells(subscription) {
  const { type, target } = destinationOf(subscription);
  return [el("span", { class: "destination-type", dataset: { type } }, type), " ", el("span", { class: "destination-target" }, target)];
}

// The request's destination for a type and the URL or ARN typed in.
function destinationBody(type, target) {
  return { type, [DESTINATION_FIELDS[type]]: target.trim() };
}

// Creates a subscription of any type; the platform's own bus is one click away (GET /events/bus names it).
// A webhook's signing secret is shown once, after the view has been drawn again by ``redraw``.
export function newSubscriptionForm(say, redraw) {
  const type = el("select", { id: "new-destination-type" }, Object.keys(DESTINATION_FIELDS).map((t) => el("option", { value: t }, t)));
  const target = el("input", { type: "text", id: "new-destination-target", required: true, placeholder: TARGET_HINTS.webhook });
  const types = el("input", { type: "text", id: "new-event-types", value: "*" });
  const platformBus = el("button", { type: "button", id: "use-platform-bus", hidden: true }, "The platform's bus");
  type.addEventListener("change", () => {
    target.placeholder = TARGET_HINTS[type.value];
    platformBus.hidden = type.value !== "eventbridge";
  });
  platformBus.addEventListener("click", async () => { target.value = (await api("/events/bus")).eventBusArn; });
  const form = el("form", { class: "card", id: "new-subscription" },
    el("label", {}, "Destination", type),
    el("label", {}, "URL or ARN", target, platformBus),
    el("label", {}, "Event types (comma-separated, * for all)", types),
    el("button", { type: "submit", class: "primary" }, "Create"),
    el("output", { id: "new-signing-secret" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const eventTypes = types.value.split(",").map((t) => t.trim()).filter(Boolean);
    // A webhook as endpointUrl, which every platform version reads; the others by their destination.
    const where = type.value === "webhook" ? { endpointUrl: target.value.trim() } : { destination: destinationBody(type.value, target.value) };
    const body = { eventTypes, ...where };
    const created = await api("/webhooks/subscriptions", { method: "POST", body });
    say(`Created ${created.subscriptionId}`);
    await redraw();
    if (created.signingSecret) {  // only a webhook is signed
      document.getElementById("new-signing-secret").textContent =
        `Signing secret of ${created.subscriptionId} (shown once): ${created.signingSecret}`;
    }
  });
  return form;
}
