// codeact chat: message actions (copy, copy code, regenerate, edit and resend, switch
// between versions) and the approval panel's Run / Edit / Skip. Uses CA.app (app.js).
"use strict";

(function () {
  const CA = window.CA;
  const app = CA.app;
  const state = app.state;
  const api = app.api;
  const toast = app.toast;
  const timeline = app.timeline;
  const $ = (sel) => document.querySelector(sel);
  const openConversation = app.openConversation;
  const loadConversations = app.loadConversations;

  // user message id -> {members, current}: the versions of that message (edits) or of the
  // answer to it (regenerations) the user can switch between
  CA.branchGroups = function (items, branches, active) {
    const byNum = new Map(branches.map((b) => [b.number, b]));
    const chain = []; // the shown branch first, then its ancestors
    for (let n = active; n != null && !chain.includes(n); n = (byNum.get(n) || {}).parent) chain.push(n);
    const firstUser = new Map(); // branch -> its first user message (seq)
    items.forEach((it) => {
      if (it.type === "message" && it.role === "user" && !firstUser.has(it.branch)) firstUser.set(it.branch, it.seq);
    });
    const out = new Map();
    items.forEach((it) => {
      if (it.type !== "message" || it.role !== "user") return;
      const members = new Set();
      const add = (parent, anchor) => {
        const kids = branches.filter((b) => b.parent === parent && b.anchor_seq === anchor);
        if (kids.length) { members.add(parent); kids.forEach((b) => members.add(b.number)); }
      };
      // edits share the key (branch owning the first version, its seq), see Store.fork;
      // regenerations of this message are keyed by it: all listed as its versions
      const own = byNum.get(it.branch);
      if (own && own.kind === "edit" && firstUser.get(it.branch) === it.seq) add(own.parent, own.anchor_seq);
      add(it.branch, it.seq);
      if (members.size > 1) {
        const list = [...members].sort((a, b) => a - b);
        out.set(it.id, { members: list, current: chain.find((n) => members.has(n)) });
      }
    });
    return out;
  };

  // regenerate / edit-and-resend / switch branch: the timeline changes, so reload it
  async function restart(promise, message) {
    try {
      await promise;
      if (message) toast(message);
      await openConversation(state.current.id);
      loadConversations();
    } catch (err) { toast(err.message, "bad"); }
  }

  function itemOf(el) {
    const node = el.closest("[data-key]");
    return node ? timeline.items.get(node.dataset.key) : null;
  }

  async function copyText(text) {
    try { await navigator.clipboard.writeText(text); }
    catch (e) {
      const ta = document.createElement("textarea");
      ta.value = text; document.body.appendChild(ta); ta.select();
      document.execCommand("copy"); ta.remove();
    }
    toast("Copied");
  }

  function startEdit(entry) {
    const el = entry.el;
    const bubble = el.querySelector(".bubble");
    if (!bubble || el.querySelector(".edit-box")) return;
    const box = document.createElement("div");
    box.className = "edit-box";
    box.innerHTML = `<textarea class="edit-input" aria-label="Edited message"></textarea>` +
      `<div class="edit-note">Sending starts a new branch from here: the Python kernel restarts, so variables are reset. The current version stays available.</div>` +
      `<div class="edit-buttons"><button class="primary edit-send" type="button">Send</button>` +
      `<button class="edit-cancel" type="button">Cancel</button></div>`;
    box.querySelector(".edit-input").value = entry.data.content;
    bubble.hidden = true;
    el.appendChild(box);
    const input = box.querySelector(".edit-input");
    input.focus();
    box.querySelector(".edit-cancel").addEventListener("click", () => { box.remove(); bubble.hidden = false; });
    box.querySelector(".edit-send").addEventListener("click", () => {
      const text = input.value;
      if (!text.trim()) return;
      restart(api("POST", `/api/conversations/${state.current.id}/messages/${entry.data.id}/edit`, { content: text }));
    });
  }

  async function answerApproval(panel, action) {
    const id = +panel.dataset.codeAction;
    const body = { action, code_action_id: id };
    if (action === "edit") body.code = panel.querySelector(".approval-code").value;
    panel.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try { await api("POST", `/api/conversations/${state.current.id}/approval`, body); }
    catch (err) { toast(err.message, "bad"); panel.querySelectorAll("button").forEach((b) => { b.disabled = false; }); }
  }

  $("#timeline").addEventListener("click", (e) => {
    const t = e.target.closest("button");
    if (!t || !state.current) return;
    const entry = itemOf(t);
    if (t.classList.contains("copy-code")) copyText(t.closest(".code-block").querySelector("pre").innerText);
    else if (t.classList.contains("act-copy") && entry) copyText(entry.data.content);
    else if (t.classList.contains("act-edit") && entry) startEdit(entry);
    else if (t.classList.contains("act-regen")) {
      if (state.running) return;
      restart(api("POST", `/api/conversations/${state.current.id}/regenerate`));
    } else if ((t.classList.contains("act-branch-prev") || t.classList.contains("act-branch-next")) && entry) {
      const b = timeline.branches.get(entry.data.id);
      if (!b || state.running) return;
      const i = b.members.indexOf(b.current) + (t.classList.contains("act-branch-next") ? 1 : -1);
      if (i < 0 || i >= b.members.length) return;
      restart(api("POST", `/api/conversations/${state.current.id}/branch`, { branch: b.members[i] }),
        "Switched version: the Python kernel restarted, so variables were reset.");
    } else if (t.closest(".approval")) {
      const panel = t.closest(".approval");
      if (t.classList.contains("approve-run")) answerApproval(panel, "run");
      else if (t.classList.contains("approve-skip")) answerApproval(panel, "skip");
      else if (t.classList.contains("approve-edit")) {
        const ta = panel.querySelector(".approval-code");
        if (ta.readOnly) {
          ta.readOnly = false; ta.focus();
          t.textContent = "Run edited";
          t.classList.add("primary");
          panel.querySelector(".approve-run").hidden = true;
        } else answerApproval(panel, "edit");
      }
    }
  });

})();
