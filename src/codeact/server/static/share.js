// codeact chat: the read-only page behind a share link (/r/<token>).
"use strict";

(async function () {
  const CA = window.CA;
  const token = location.pathname.split("/").filter(Boolean).pop();
  const timeline = new CA.Timeline(document.getElementById("timeline"),
    (id) => `/api/share/${encodeURIComponent(token)}/images/${id}`);
  const r = await fetch(`/api/share/${encodeURIComponent(token)}`);
  if (!r.ok) {
    document.getElementById("title").textContent = "This shared conversation does not exist.";
    return;
  }
  const data = await r.json();
  document.getElementById("title").textContent = data.conversation.title;
  document.title = `${data.conversation.title} · codeact`;
  document.getElementById("model-name").textContent = data.conversation.model;
  const set = data.conversation.settings || {};
  const parts = [];
  if (set.temperature != null) parts.push(`temperature ${set.temperature}`);
  if (set.max_turns != null) parts.push(`max turns ${set.max_turns}`);
  if (set.max_new_tokens != null) parts.push(`max new tokens ${set.max_new_tokens}`);
  if (set.prompt) parts.push(`prompt ${set.prompt}`);
  if (set.approval) parts.push("approval on");
  document.getElementById("settings-summary").textContent = parts.join(" · ");
  timeline.load(data.items);
})();
