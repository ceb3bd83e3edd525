// Conturs board: confirmations, the overview's refresh and a job's live progress. No framework.
"use strict";

// Forms with data-confirm ask first.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});

// The overview's live section: re-fetched every few seconds while the tab is visible.
function startRefresh(element) {
  const url = element.dataset.refresh;
  const every = Math.max(2, Number(element.dataset.every || 5)) * 1000;
  setInterval(async () => {
    if (document.hidden) return;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (response.ok) element.innerHTML = await response.text();
    } catch (_) { /* offline for a moment: keep what is shown */ }
  }, every);
}

function formatCount(n) { return Number(n).toLocaleString("en-US"); }
function formatDuration(seconds) {
  if (seconds == null || !isFinite(seconds) || seconds < 0) return "–";
  if (seconds < 1) return Math.round(seconds * 1000) + " ms";
  const s = Math.round(seconds);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
}

// Badge colours by job status (format::job_tone on the server).
const TONES = {
  succeeded: "good", failed: "bad", dead: "bad", retrying: "warn", running: "busy",
  cancelled: "muted", pending: "info", queued: "info",
};

// A job's progress panel (the board's #progress, or a dashboard .progress-panel): follows
// the run's Server-Sent Events until it finishes.
function followProgress(panel) {
  const bar = panel.querySelector("progress");
  const field = (name) => panel.querySelector(`[data-field="${name}"]`);
  const source = new EventSource(panel.dataset.stream);
  const apply = (snapshot) => {
    if (snapshot.total && snapshot.total > 0) {
      bar.max = snapshot.total;
      bar.value = Math.min(snapshot.done, snapshot.total);
      const pct = Math.min(100, Math.round(snapshot.done / snapshot.total * 100));
      field("done").textContent = `${formatCount(snapshot.done)} of ${formatCount(snapshot.total)} (${pct}%)`;
    } else {
      bar.removeAttribute("value");
      field("done").textContent = formatCount(snapshot.done);
    }
    field("status").textContent = snapshot.status;
    field("phase").textContent = snapshot.phase || "–";
    field("rate").textContent = snapshot.rate != null ? `${Math.round(snapshot.rate)}/s` : "–";
    field("eta").textContent = formatDuration(snapshot.eta_seconds);
    panel.dataset.status = snapshot.status;
    // The board's job page badge shows the job's status; a dashboard card keeps its own words.
    const badge = panel.id === "progress" ? document.querySelector("p.lead .badge") : null;
    if (badge) {
      badge.textContent = snapshot.status;
      badge.className = "badge " + (TONES[snapshot.status] || "info");
    }
    panel.dataset.done = snapshot.done;
  };
  source.addEventListener("progress", (e) => apply(JSON.parse(e.data)));
  source.addEventListener("finished", (e) => {
    apply(JSON.parse(e.data));
    source.close();
    // The rest of the page (timeline, actions, error) changes too: show it.
    setTimeout(() => window.location.reload(), 600);
  });
  source.addEventListener("error", () => { /* EventSource reconnects by itself */ });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-refresh]").forEach(startRefresh);
  document.querySelectorAll("#progress[data-stream], .progress-panel[data-stream]").forEach(followProgress);
});
