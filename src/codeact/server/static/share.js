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
  timeline.load(data.items);
})();
