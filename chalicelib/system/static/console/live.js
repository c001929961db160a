// Live updates: the platform's WebSocket API (docs/live.md), with the page's own credential as ?token=
// (a browser's WebSocket cannot send headers). The state shows in #live; after a drop it reconnects with backoff.
import { apiRoot, credentials } from "./common.js";

const CONTROL = new Set(["subscribed", "unsubscribed", "pong", "error", "close"]);
const MAX_BACKOFF_MS = 30000;

export function liveUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${apiRoot}/ws`;
}

// connect(onEvent, badge): calls onEvent(frame) for every event frame; returns stop().
export function connect(onEvent, badge) {
  let socket = null;
  let backoff = 500;
  let timer = null;
  let stopped = false;

  const state = (name, text) => {
    badge.dataset.state = name;
    badge.textContent = text;
  };

  const open = () => {
    const creds = credentials();
    if (!creds || stopped) return;
    state(socket ? "reconnecting" : "connecting", socket ? "Reconnecting…" : "Connecting…");
    socket = new WebSocket(`${liveUrl()}?token=${encodeURIComponent(creds.value)}`);
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ action: "subscribe", id: "console" }));
    });
    socket.addEventListener("message", (message) => {
      const frame = JSON.parse(message.data);
      if (frame.type === "subscribed") {
        backoff = 500;
        state("connected", "● Live");
      } else if (frame.type === "close") {
        state("reconnecting", `Reconnecting… (${frame.data.reason})`);
      } else if (!CONTROL.has(frame.type)) {
        onEvent(frame);
      }
    });
    socket.addEventListener("close", () => {
      if (stopped) return;
      state("reconnecting", "Reconnecting…");
      timer = setTimeout(open, backoff * (0.8 + Math.random() * 0.4));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    });
  };

  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (socket) socket.close();
    state("off", "");
  };
}
