// codeact chat: dark mode toggle, the drawer on narrow screens, keyboard shortcuts with
// their help dialog, and the settings dialog (per conversation, or the defaults).
"use strict";

(function () {
  const CA = window.CA;
  const app = CA.app;
  const $ = (sel) => document.querySelector(sel);
  const root = document.documentElement;

  // ------------------------------------------------------------ dark mode
  const systemDark = window.matchMedia("(prefers-color-scheme: dark)");
  function effectiveTheme() {
    return root.dataset.theme || (systemDark.matches ? "dark" : "light");
  }
  function showTheme() {
    const dark = effectiveTheme() === "dark";
    $("#theme-toggle").setAttribute("aria-pressed", String(dark));
    $("#theme-toggle").title = dark ? "Switch to light mode" : "Switch to dark mode";
  }
  $("#theme-toggle").addEventListener("click", () => {
    const next = effectiveTheme() === "dark" ? "light" : "dark";
    // back to "follow the system" when the choice matches the system again
    const system = systemDark.matches ? "dark" : "light";
    try {
      if (next === system) localStorage.removeItem("codeact-theme");
      else localStorage.setItem("codeact-theme", next);
    } catch (e) { /* storage blocked: this page only */ }
    if (next === system) delete root.dataset.theme; else root.dataset.theme = next;
    showTheme();
  });
  systemDark.addEventListener("change", showTheme);
  showTheme();

  // ------------------------------------------------------------ drawer (below 800 px)
  function setDrawer(open) {
    document.body.classList.toggle("drawer-open", open);
    $("#menu").setAttribute("aria-expanded", String(open));
  }
  $("#menu").addEventListener("click", () => setDrawer(!document.body.classList.contains("drawer-open")));
  $("#drawer-close").addEventListener("click", () => setDrawer(false));
  $("#scrim").addEventListener("click", () => setDrawer(false));
  $("#new-chat").addEventListener("click", () => setDrawer(false));

  // ------------------------------------------------------------ shortcuts and help
  const help = $("#help-dialog");
  $("#help-btn").addEventListener("click", () => help.showModal());
  function typing(e) {
    const t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" ||
      t.isContentEditable);
  }
  document.addEventListener("keydown", (e) => {
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.shiftKey && (e.key === "O" || e.key === "o")) {
      e.preventDefault();
      setDrawer(false);
      if (location.hash) location.hash = ""; else app.showEmpty();
      return;
    }
    if (e.key === "Escape" && app.state.running && !document.querySelector("dialog[open]")) {
      e.preventDefault();
      app.stop();
      return;
    }
    if (typing(e) || mod || e.altKey) return;
    if (e.key === "/") { e.preventDefault(); app.focusInput(); }
    else if (e.key === "?") { e.preventDefault(); help.showModal(); }
  });

  // ------------------------------------------------------------ settings
  const dialog = $("#settings-dialog");
  const fields = {
    temperature: $("#set-temperature"), max_turns: $("#set-max-turns"),
    max_new_tokens: $("#set-max-new-tokens"),
  };
  let info = null; // GET /api/settings

  function fill(values, model) {
    $("#set-model").innerHTML = info.models.map((m) =>
      `<option value="${CA.esc(m)}">${CA.esc(m)}</option>`).join("");
    $("#set-model").value = model || info.default_model;
    $("#set-prompt").innerHTML = `<option value="">default</option>` + info.prompts.map((p) =>
      `<option value="${CA.esc(p)}">${CA.esc(p)}</option>`).join("");
    $("#set-prompt").value = values.prompt || "";
    Object.entries(fields).forEach(([k, el]) => { el.value = values[k] != null ? values[k] : ""; });
    $("#set-approval").checked = !!values.approval;
  }

  function read() {
    const out = {};
    Object.entries(fields).forEach(([k, el]) => {
      out[k] = el.value === "" ? null : Number(el.value);
    });
    out.prompt = $("#set-prompt").value || null;
    out.approval = $("#set-approval").checked;
    return out;
  }

  $("#settings-btn").addEventListener("click", async () => {
    try { info = await app.api("GET", "/api/settings"); } catch (err) { app.toast(err.message, "bad"); return; }
    const cur = app.state.current;
    $("#settings-scope").textContent = cur
      ? `For “${cur.title}”. Changes apply from the next message.`
      : "New chats start with the defaults.";
    $("#settings-save").hidden = !cur;
    fill(cur ? { ...info.defaults, ...cur.settings } : info.defaults,
      cur ? cur.model : info.defaults.model);
    dialog.showModal();
  });

  $("#settings-save").addEventListener("click", async () => {
    const cur = app.state.current;
    if (!cur) return;
    try {
      const conv = await app.api("PATCH", `/api/conversations/${cur.id}`,
        { model: $("#set-model").value, settings: read() });
      app.state.current = { ...cur, ...conv };
      $("#model").value = conv.model;
      dialog.close();
      app.toast("Settings saved for this chat");
    } catch (err) { app.toast(err.message, "bad"); }
  });

  $("#settings-defaults").addEventListener("click", async () => {
    const values = read();
    const body = { model: $("#set-model").value };
    Object.entries(values).forEach(([k, v]) => { if (v !== null) body[k] = v; });
    try {
      await app.api("PUT", "/api/settings", body);
      dialog.close();
      app.toast("Saved as defaults for new chats");
    } catch (err) { app.toast(err.message, "bad"); }
  });
})();
