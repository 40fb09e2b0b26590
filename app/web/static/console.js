// The console's only script, served as a file so a strict Content-Security-Policy
// (script-src 'self', no inline code) allows it. It refreshes each [data-fragment]
// section in place: at once when the server's event stream (/ui/events) says a
// section changed, and by polling — every 3 s while the stream is down, every 30 s
// as a safety net while it is up. It also asks before submitting a form marked
// data-confirm. <body data-live> says which mode is on: "sse" or "polling".
"use strict";

document.addEventListener("submit", (e) => {
  const question = e.target.dataset && e.target.dataset.confirm;
  if (question && !window.confirm(question)) e.preventDefault();
});

async function refresh(el) {
  try {
    const r = await fetch("/ui/fragments/" + el.dataset.fragment, { credentials: "same-origin" });
    if (r.status === 401) { location.href = "/ui/login"; return; }
    // Leave a section alone while someone types or clicks in it.
    if (r.ok && !el.contains(document.activeElement)) el.innerHTML = await r.text();
  } catch (e) { /* keep the last content */ }
}

const sections = Array.from(document.querySelectorAll("[data-fragment]"));
const named = (...names) => sections.filter((el) => names.includes(el.dataset.fragment.split("?")[0]));
const POLL_MS = 3000, SAFETY_MS = 30000;
let live = false, lastPoll = 0;

function setLive(on) {
  live = on;
  document.body.dataset.live = on ? "sse" : "polling";
}

function poll() {
  const now = Date.now();
  if (now - lastPoll >= (live ? SAFETY_MS : POLL_MS)) {
    lastPoll = now;
    sections.forEach(refresh);
  }
}

function listen() {
  if (!window.EventSource) return;
  const stream = new EventSource("/ui/events");
  stream.addEventListener("ready", () => setLive(true));
  stream.addEventListener("flags", () => named("flags", "timeline").forEach(refresh));
  stream.addEventListener("executions", () => named("executions", "approvals").forEach(refresh));
  // The server ends each stream after a minute and EventSource reconnects; until it
  // does (or for good, if it cannot), polling takes over.
  stream.onerror = () => setLive(false);
}

if (sections.length) {
  setLive(false);
  sections.forEach(refresh);
  lastPoll = Date.now();
  setInterval(poll, 1000);
  listen();
}
