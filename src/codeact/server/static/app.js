// codeact chat: the interactive app (conversation list, chat, streaming, files, share).
"use strict";

(function () {
  const CA = window.CA;
  const $ = (sel) => document.querySelector(sel);
  const state = {
    models: [], defaultModel: "", conversations: [], current: null, running: false,
    runId: null, stream: null, files: [], sending: false,
  };
  const timeline = new CA.Timeline($("#timeline"),
    (id) => `/api/conversations/${state.current.id}/images/${id}`);

  async function api(method, url, body) {
    const opts = { method, headers: {} };
    if (body instanceof FormData) opts.body = body;
    else if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(url, opts);
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail || detail; } catch (e) { /* not json */ }
      const err = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
      err.status = r.status;
      throw err;
    }
    return r.status === 204 ? null : r.json();
  }

  function toast(text, kind) {
    const t = $("#toast");
    t.textContent = text;
    t.className = `toast show ${kind || ""}`;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.className = "toast"; }, 4000);
  }

  function fmtSize(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  // the selected model, or none (the server's default) while the model list is loading
  function newConversationBody() {
    const model = $("#model").value;
    return model ? { model } : {};
  }

  // ------------------------------------------------------------ conversation list
  async function loadConversations() {
    const data = await api("GET", "/api/conversations");
    state.conversations = data.conversations;
    const cur = state.current && state.conversations.find((c) => c.id === state.current.id);
    if (cur) { state.current.title = cur.title; $("#title").textContent = cur.title; }
    renderConversations();
  }

  function renderConversations() {
    const ul = $("#conversations");
    ul.innerHTML = "";
    state.conversations.forEach((c) => {
      const li = document.createElement("li");
      li.className = "conv" + (state.current && c.id === state.current.id ? " active" : "");
      li.dataset.id = c.id;
      li.innerHTML = `<span class="conv-title">${CA.esc(c.title)}</span>` +
        (c.running ? `<span class="dot" title="running"></span>` : "") +
        `<button class="conv-del" title="Delete conversation" aria-label="Delete">×</button>`;
      li.addEventListener("click", (e) => {
        if (e.target.classList.contains("conv-del")) return;
        location.hash = `#/c/${c.id}`;
      });
      li.querySelector(".conv-del").addEventListener("click", async () => {
        if (!confirm(`Delete "${c.title}"? Its messages and files are removed.`)) return;
        await api("DELETE", `/api/conversations/${c.id}`);
        if (state.current && state.current.id === c.id) location.hash = "";
        loadConversations();
      });
      ul.appendChild(li);
    });
  }

  // ------------------------------------------------------------ models
  async function loadModels() {
    const data = await api("GET", "/api/models");
    state.models = data.models;
    state.defaultModel = data.default;
    const sel = $("#model");
    sel.innerHTML = state.models.map((m) => `<option value="${CA.esc(m)}">${CA.esc(m)}</option>`).join("");
    sel.value = state.defaultModel;
  }

  $("#model").addEventListener("change", async (e) => {
    if (!state.current) return;
    try {
      state.current = await api("PATCH", `/api/conversations/${state.current.id}`, { model: e.target.value });
      toast(`Model: ${state.current.model}`);
    } catch (err) { toast(err.message, "bad"); }
  });

  // ------------------------------------------------------------ one conversation
  function stopStream() {
    if (state.stream) { state.stream.abort(); state.stream = null; }
  }

  function setRunning(running) {
    state.running = running;
    document.body.classList.toggle("running", running);
    $("#send").hidden = running;
    $("#stop").hidden = !running;
    $("#stop").disabled = false;
  }

  function showEmpty() {
    stopStream();
    state.current = null;
    timeline.clear();
    $("#title").textContent = "New chat";
    $("#empty").hidden = false;
    $("#share").hidden = true;
    $("#files-list").innerHTML = "";
    $("#model").value = state.defaultModel;
    setRunning(false);
    renderConversations();
    $("#input").focus();
  }

  async function openConversation(id) {
    stopStream();
    let data;
    try {
      data = await api("GET", `/api/conversations/${id}`);
    } catch (err) {
      toast(err.message, "bad");
      location.hash = "";
      return;
    }
    state.current = data.conversation;
    $("#title").textContent = state.current.title;
    $("#empty").hidden = data.items.length > 0;
    $("#share").hidden = false;
    $("#model").value = state.current.model;
    timeline.load(data.items);
    renderFiles(data.files);
    setRunning(data.running);
    renderConversations();
    scrollDown(true);
    if (data.running) follow(data.run_id, data.cursor);
  }

  function nearBottom() {
    const m = $("#main-scroll");
    return m.scrollHeight - m.scrollTop - m.clientHeight < 120;
  }
  let stick = true; // follow the bottom while the user has not scrolled up
  function scrollDown(force) {
    const m = $("#main-scroll");
    if (force || stick) requestAnimationFrame(() => { m.scrollTop = m.scrollHeight; stick = true; });
  }
  $("#main-scroll").addEventListener("scroll", () => { stick = nearBottom(); });
  // images arrive after their event: keep following the bottom when they load
  $("#timeline").addEventListener("load", () => scrollDown(false), true);

  async function follow(runId, after) {
    stopStream();
    const ctrl = new AbortController();
    state.stream = ctrl;
    const cid = state.current.id;
    let last = after - 1;
    let stale = false;
    try {
      const r = await fetch(`/api/conversations/${cid}/events?after=${after}&run_id=${runId}`,
        { signal: ctrl.signal, headers: { Accept: "text/event-stream" } });
      if (!r.ok) throw new Error(`events: ${r.status}`);
      await CA.readSSE(r, (ev) => {
        if (!state.current || state.current.id !== cid) return;
        if (ev.i !== undefined) last = ev.i;
        if (!timeline.apply(ev)) stale = true;
        if (ev.type === "item") $("#empty").hidden = true;
        if (ev.type === "files") renderFiles(ev.files);
        if (ev.type === "error") toast(ev.message, "bad");
        if (ev.type === "done" || ev.type === "idle") {
          setRunning(false);
          loadConversations();
        }
        scrollDown(false);
      }, ctrl.signal);
    } catch (err) {
      if (ctrl.signal.aborted) return;
      // connection lost: reload the conversation (it resubscribes if still running)
      setTimeout(() => { if (state.current && state.current.id === cid) openConversation(cid); }, 1000);
      return;
    } finally {
      if (state.stream === ctrl) state.stream = null;
    }
    if (stale && state.current && state.current.id === cid) openConversation(cid);
    else if (state.running && state.current && state.current.id === cid) {
      // the stream ended without "done" (server restart?): look again
      setTimeout(() => openConversation(cid), 500);
    }
    void last;
  }

  async function send() {
    const input = $("#input");
    const text = input.value;
    if (!text.trim() || state.running || state.sending) return;
    state.sending = true;
    try {
      if (!state.current) {
        const conv = await api("POST", "/api/conversations", newConversationBody());
        state.current = conv;
        history.replaceState(null, "", `#/c/${conv.id}`);
        $("#share").hidden = false;
        $("#title").textContent = conv.title;
      }
      const res = await api("POST", `/api/conversations/${state.current.id}/messages`, { content: text });
      input.value = "";
      autosize();
      $("#empty").hidden = true;
      res.items.forEach((it) => timeline.add(it));
      setRunning(true);
      scrollDown(true);
      loadConversations();
      follow(res.run_id, 0);
    } catch (err) {
      if (err.status === 503) toast("Busy, try again in a moment: every sandboxed kernel is in use.", "bad");
      else toast(err.message, "bad");
    } finally {
      state.sending = false;
    }
  }

  async function stop() {
    if (!state.current) return;
    $("#stop").disabled = true;
    try { await api("POST", `/api/conversations/${state.current.id}/stop`); } catch (err) { toast(err.message, "bad"); }
  }

  // ------------------------------------------------------------ files
  function renderFiles(files) {
    state.files = files || [];
    const ul = $("#files-list");
    ul.innerHTML = "";
    $("#files-count").textContent = state.files.length ? String(state.files.length) : "";
    if (!state.current) return;
    state.files.forEach((f) => {
      const li = document.createElement("li");
      const href = `/api/conversations/${state.current.id}/files/` +
        f.name.split("/").map(encodeURIComponent).join("/");
      li.innerHTML = `<a href="${CA.esc(href)}" download="${CA.esc(f.name.split("/").pop())}">` +
        `${CA.esc(f.name)}</a><span class="size">${fmtSize(f.size)}</span>` +
        `<span class="src">${f.source === "agent" ? "written by the agent" : "uploaded"}</span>`;
      ul.appendChild(li);
    });
    if (!state.files.length) ul.innerHTML = `<li class="none">No files yet. Upload one, or ask the agent to write one.</li>`;
  }

  async function upload(fileList) {
    if (!fileList || !fileList.length) return;
    if (!state.current) {
      state.current = await api("POST", "/api/conversations", newConversationBody());
      history.replaceState(null, "", `#/c/${state.current.id}`);
      $("#share").hidden = false;
      loadConversations();
    }
    for (const f of fileList) {
      const fd = new FormData();
      fd.append("file", f, f.name);
      try {
        await api("POST", `/api/conversations/${state.current.id}/files`, fd);
        toast(`Uploaded ${f.name}`);
      } catch (err) { toast(`${f.name}: ${err.message}`, "bad"); }
    }
    const data = await api("GET", `/api/conversations/${state.current.id}/files`);
    renderFiles(data.files);
  }

  // ------------------------------------------------------------ wiring
  function autosize() {
    const t = $("#input");
    t.style.height = "auto";
    t.style.height = Math.min(t.scrollHeight, 240) + "px";
  }

  $("#input").addEventListener("input", autosize);
  $("#input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  $("#composer").addEventListener("submit", (e) => { e.preventDefault(); send(); });
  $("#stop").addEventListener("click", stop);
  $("#new-chat").addEventListener("click", () => {
    if (location.hash) location.hash = ""; else showEmpty();
  });
  $("#upload-btn").addEventListener("click", () => $("#upload").click());
  $("#upload").addEventListener("change", (e) => { upload([...e.target.files]); e.target.value = ""; });
  $("#files-toggle").addEventListener("click", () => $("#files").classList.toggle("open"));
  $("#share").addEventListener("click", () => {
    if (!state.current) return;
    const url = `${location.origin}/r/${state.current.share_token}`;
    $("#share-url").value = url;
    $("#share-box").hidden = !$("#share-box").hidden;
    $("#share-url").select();
  });
  $("#share-copy").addEventListener("click", async () => {
    try { await navigator.clipboard.writeText($("#share-url").value); toast("Link copied"); }
    catch (e) { $("#share-url").select(); document.execCommand("copy"); toast("Link copied"); }
  });
  const main = $("#main-scroll");
  main.addEventListener("dragover", (e) => { e.preventDefault(); main.classList.add("drop"); });
  main.addEventListener("dragleave", () => main.classList.remove("drop"));
  main.addEventListener("drop", (e) => {
    e.preventDefault(); main.classList.remove("drop"); upload([...e.dataTransfer.files]);
  });
  document.querySelectorAll(".example").forEach((b) => b.addEventListener("click", () => {
    $("#input").value = b.dataset.prompt; autosize(); $("#input").focus();
  }));

  function route() {
    const m = location.hash.match(/^#\/c\/([0-9a-f]{32})$/);
    $("#share-box").hidden = true;
    if (m) openConversation(m[1]); else showEmpty();
  }
  window.addEventListener("hashchange", route);

  (async function init() {
    try {
      await Promise.all([loadModels(), loadConversations()]);
    } catch (err) { toast(err.message, "bad"); }
    route();
  })();
})();
