// codeact chat: the interactive app (conversation list, chat, streaming, files, share).
"use strict";

(function () {
  const CA = window.CA;
  CA.interactive = true; // message actions, copy buttons, approval panels
  const $ = (sel) => document.querySelector(sel);
  const state = {
    models: [], defaultModel: "", conversations: [], current: null, running: false,
    runId: null, stream: null, files: [], sending: false, branches: [], query: "",
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
    const q = state.query.trim();
    const data = q ? await api("GET", `/api/search?q=${encodeURIComponent(q)}`)
      : await api("GET", "/api/conversations");
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
      li.className = "conv" + (state.current && c.id === state.current.id ? " active" : "") +
        (c.pinned ? " pinned" : "");
      li.dataset.id = c.id;
      const snippet = c.match && c.match.snippet
        ? `<span class="conv-snippet">${CA.esc(c.match.snippet)}</span>` : "";
      li.innerHTML = (c.pinned ? `<span class="pin-mark" title="Pinned">★</span>` : "") +
        `<span class="conv-text"><span class="conv-title">${CA.esc(c.title)}</span>${snippet}</span>` +
        (c.running ? `<span class="dot" title="running"></span>` : "") +
        `<span class="conv-buttons">` +
        `<button class="conv-pin" type="button" title="${c.pinned ? "Unpin" : "Pin"}" aria-label="${c.pinned ? "Unpin" : "Pin"}">${c.pinned ? "Unpin" : "Pin"}</button>` +
        `<button class="conv-rename" type="button" title="Rename" aria-label="Rename">✎</button>` +
        `<button class="conv-del" type="button" title="Delete conversation" aria-label="Delete">×</button></span>`;
      li.addEventListener("click", (e) => {
        if (e.target.closest(".conv-buttons") || e.target.closest(".rename-input")) return;
        location.hash = `#/c/${c.id}`;
        document.body.classList.remove("drawer-open");
      });
      li.querySelector(".conv-title").addEventListener("dblclick", () => startRename(li, c));
      li.querySelector(".conv-rename").addEventListener("click", () => startRename(li, c));
      li.querySelector(".conv-pin").addEventListener("click", async () => {
        try {
          await api("PATCH", `/api/conversations/${c.id}`, { pinned: !c.pinned });
          loadConversations();
        } catch (err) { toast(err.message, "bad"); }
      });
      li.querySelector(".conv-del").addEventListener("click", () => deleteConversation(c));
      ul.appendChild(li);
    });
    if (!state.conversations.length && state.query.trim()) {
      ul.innerHTML = `<li class="conv none">No conversation matches.</li>`;
    }
  }

  // inline rename: Enter saves, Escape cancels
  function startRename(li, c) {
    const span = li.querySelector(".conv-title");
    const input = document.createElement("input");
    input.className = "rename-input";
    input.value = c.title;
    input.maxLength = 200;
    input.setAttribute("aria-label", "New title");
    span.replaceWith(input);
    input.focus();
    input.select();
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      if (save && title && title !== c.title) {
        try {
          await api("PATCH", `/api/conversations/${c.id}`, { title });
          if (state.current && state.current.id === c.id) $("#title").textContent = title;
        } catch (err) { toast(err.message, "bad"); }
      }
      loadConversations();
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); finish(true); }
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); finish(false); }
    });
    input.addEventListener("blur", () => finish(true));
  }

  // delete at once in the UI, with an Undo bar while the server keeps it restorable
  async function deleteConversation(c) {
    try { await api("DELETE", `/api/conversations/${c.id}`); } catch (err) { toast(err.message, "bad"); return; }
    if (state.current && state.current.id === c.id) location.hash = "";
    loadConversations();
    $("#undo-text").textContent = `Deleted “${c.title}”.`;
    $("#undo-bar").hidden = false;
    clearTimeout(deleteConversation.timer);
    deleteConversation.timer = setTimeout(() => { $("#undo-bar").hidden = true; }, 10000);
    $("#undo-btn").onclick = async () => {
      $("#undo-bar").hidden = true;
      try {
        await api("POST", `/api/conversations/${c.id}/restore`);
        await loadConversations();
        location.hash = `#/c/${c.id}`;
      } catch (err) { toast(err.message, "bad"); }
    };
  }

  let searchTimer = null;
  $("#search").addEventListener("input", (e) => {
    state.query = e.target.value;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => loadConversations().catch((err) => toast(err.message, "bad")), 200);
  });

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
    $("#share").hidden = $("#notebook").hidden = true;
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
    // the user went elsewhere while this loaded (e.g. New chat): drop the stale answer
    if (location.hash !== `#/c/${id}`) return;
    state.current = data.conversation;
    state.branches = data.branches || [];
    $("#title").textContent = state.current.title;
    $("#empty").hidden = data.items.length > 0;
    $("#share").hidden = $("#notebook").hidden = false;
    $("#model").value = state.current.model;
    timeline.branches = CA.branchGroups(data.items, state.branches, state.current.branch || 0);
    if (data.approval) {
      const it = data.items.find((x) => x.type === "code" && x.id === data.approval.code_action_id);
      if (it) it.approval = { code: data.approval.code };
    }
    timeline.load(data.items);
    markLastAnswer();
    renderFiles(data.files);
    setRunning(data.running);
    renderConversations();
    scrollDown(true);
    if (data.running) follow(data.run_id, data.cursor);
  }

  function markLastAnswer() {
    document.querySelectorAll("#timeline .last-answer").forEach((n) => n.classList.remove("last-answer"));
    const answers = document.querySelectorAll("#timeline .msg.assistant:not(.hidden)");
    if (answers.length) answers[answers.length - 1].classList.add("last-answer");
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
        if (ev.type === "approval") {
          const ta = document.querySelector(`.approval[data-code-action="${ev.code_action_id}"] .approval-code`);
          if (ta) ta.scrollIntoView({ block: "nearest" });
        }
        if (ev.type === "done" || ev.type === "idle") {
          setRunning(false);
          markLastAnswer();
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
        $("#share").hidden = $("#notebook").hidden = false;
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
      $("#share").hidden = $("#notebook").hidden = false;
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
  $("#share-new").addEventListener("click", async () => {
    if (!state.current) return;
    try {
      const c = await api("POST", `/api/conversations/${state.current.id}/share`);
      state.current.share_token = c.share_token;
      $("#share-url").value = `${location.origin}/r/${c.share_token}`;
      $("#share-url").select();
      toast("New link made: the old one no longer works");
    } catch (err) { toast(err.message, "bad"); }
  });
  $("#notebook").addEventListener("click", () => {
    // the route answers with Content-Disposition: attachment, so this downloads the file
    if (state.current) location.href = `/api/conversations/${state.current.id}/notebook`;
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

  // for extras.js (settings, shortcuts, drawer, theme)
  CA.app = { state, api, toast, stop, openConversation, loadConversations, showEmpty,
    timeline, focusInput: () => $("#input").focus() };

  (async function init() {
    try {
      await Promise.all([loadModels(), loadConversations()]);
    } catch (err) { toast(err.message, "bad"); }
    route();
  })();
})();
