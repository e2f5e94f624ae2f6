// codeact chat: rendering shared by the app and the read-only share page.
// Everything that comes from the model or the kernel is escaped before it is shown;
// the Markdown subset and the Python highlighter below build HTML from escaped text only.
"use strict";

const CA = (window.CA = window.CA || {});

CA.esc = function (s) {
  return String(s == null ? "" : s)
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
};

// ---------------------------------------------------------------- Python highlighter
const PY_KEYWORDS = new Set(("False None True and as assert async await break class continue " +
  "def del elif else except finally for from global if import in is lambda nonlocal not or " +
  "pass raise return try while with yield match case").split(" "));
const PY_BUILTINS = new Set(("print len range enumerate zip map filter sorted sum min max abs " +
  "open int float str list dict set tuple bool type isinstance hasattr getattr setattr " +
  "super object round any all iter next repr format input vars dir help id hash " +
  "Exception ValueError TypeError KeyError IndexError RuntimeError self").split(" "));
const PY_TOKEN = new RegExp([
  "(#[^\\n]*)",                                                     // 1 comment
  "((?:[rRbBuUfF]{0,2})(?:\"\"\"[\\s\\S]*?(?:\"\"\"|$)|'''[\\s\\S]*?(?:'''|$)" +
    "|\"(?:\\\\.|[^\"\\\\\\n])*(?:\"|$)|'(?:\\\\.|[^'\\\\\\n])*(?:'|$)))", // 2 string
  "(@[A-Za-z_][\\w.]*)",                                           // 3 decorator
  "(\\b(?:0[xX][0-9a-fA-F_]+|\\d[\\d_]*\\.?\\d*(?:[eE][+-]?\\d+)?j?)\\b)", // 4 number
  "([A-Za-z_]\\w*)",                                                // 5 name
  "(!.*)",                                                          // 6 shell line
].join("|"), "gm");

CA.highlightPython = function (code) {
  let out = "";
  let last = 0;
  let prevWord = "";
  PY_TOKEN.lastIndex = 0;
  let m;
  while ((m = PY_TOKEN.exec(code)) !== null) {
    if (m[0] === "") { PY_TOKEN.lastIndex++; continue; }
    out += CA.esc(code.slice(last, m.index));
    let cls = null;
    if (m[1]) cls = "tok-comment";
    else if (m[2]) cls = "tok-string";
    else if (m[3]) cls = "tok-decorator";
    else if (m[4]) cls = "tok-number";
    else if (m[5]) {
      const w = m[5];
      if (PY_KEYWORDS.has(w)) cls = "tok-keyword";
      else if (prevWord === "def" || prevWord === "class") cls = "tok-def";
      else if (PY_BUILTINS.has(w)) cls = "tok-builtin";
      prevWord = w;
    } else if (m[6]) {
      const lineStart = code.lastIndexOf("\n", m.index - 1) + 1;
      if (code.slice(lineStart, m.index).trim() === "") cls = "tok-shell";
    }
    if (!m[5]) prevWord = "";
    out += cls ? `<span class="${cls}">${CA.esc(m[0])}</span>` : CA.esc(m[0]);
    last = m.index + m[0].length;
  }
  return out + CA.esc(code.slice(last));
};

CA.codeBlock = function (code, lang, opts) {
  const o = opts || {};
  const isPy = !lang || /^(python|py|python3|ipython)$/i.test(lang);
  const body = isPy ? CA.highlightPython(code) : CA.esc(code);
  const label = o.label || (isPy ? "python" : lang);
  const copy = CA.interactive && !o.writing
    ? `<button class="copy-code" type="button" title="Copy the code">Copy</button>` : "";
  return `<div class="code-block${o.writing ? " writing" : ""}">` +
    `<div class="code-head"><span>${CA.esc(label)}</span>` +
    (o.writing ? `<span class="writing-dot">writing…</span>` : "") + copy + `</div>` +
    `<pre><code class="lang-${CA.esc(label)}">${body}</code></pre></div>`;
};

// ---------------------------------------------------------------- Markdown (a safe subset)
function inline(text) {
  // text is raw; escape, then re-introduce a few constructs
  const codes = [];
  let s = text.replace(/`([^`\n]+)`/g, (_, c) => { codes.push(c); return `\u0000${codes.length - 1}\u0000`; });
  s = CA.esc(s);
  s = s.replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*\w])\*([^*\n]+)\*(?!\w)/g, "$1<em>$2</em>")
    .replace(/(^|[^_\w])_([^_\n]+)_(?!\w)/g, "$1<em>$2</em>")
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g,
      '<a href="$2" target="_blank" rel="noopener noreferrer">$1</a>');
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => `<code>${CA.esc(codes[+i])}</code>`);
}

CA.markdown = function (src) {
  const lines = String(src || "").replace(/\r\n?/g, "\n").split("\n");
  let html = "";
  let i = 0;
  let para = [];
  const flush = () => {
    if (para.length) { html += `<p>${para.map(inline).join("<br>")}</p>`; para = []; }
  };
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(/^\s*```\s*([\w+-]*)\s*$/);
    if (fence) {
      flush();
      const body = [];
      i++;
      let closed = false;
      while (i < lines.length) {
        if (/^\s*```\s*$/.test(lines[i])) { closed = true; i++; break; }
        body.push(lines[i]); i++;
      }
      html += CA.codeBlock(body.join("\n"), fence[1] || "", { writing: !closed && CA._streaming });
      continue;
    }
    const h = line.match(/^(#{1,6})\s+(.*)$/);
    if (h) { flush(); html += `<h${h[1].length}>${inline(h[2])}</h${h[1].length}>`; i++; continue; }
    if (/^\s*([-*+])\s+/.test(line) || /^\s*\d+[.)]\s+/.test(line)) {
      flush();
      const ordered = /^\s*\d+[.)]\s+/.test(line);
      const tag = ordered ? "ol" : "ul";
      html += `<${tag}>`;
      while (i < lines.length && (ordered ? /^\s*\d+[.)]\s+/ : /^\s*[-*+]\s+/).test(lines[i])) {
        html += `<li>${inline(lines[i].replace(/^\s*(?:[-*+]|\d+[.)])\s+/, ""))}</li>`;
        i++;
      }
      html += `</${tag}>`;
      continue;
    }
    if (/^>\s?/.test(line)) {
      flush();
      const q = [];
      while (i < lines.length && /^>\s?/.test(lines[i])) { q.push(lines[i].replace(/^>\s?/, "")); i++; }
      html += `<blockquote>${CA.markdown(q.join("\n"))}</blockquote>`;
      continue;
    }
    if (/^\s*(---|\*\*\*)\s*$/.test(line)) { flush(); html += "<hr>"; i++; continue; }
    if (line.trim() === "") { flush(); i++; continue; }
    para.push(line);
    i++;
  }
  flush();
  return html;
};

// ---------------------------------------------------------------- assistant text
// Splits the model's raw text into prose, <execute> code and <solution> parts.
CA.splitAssistant = function (text) {
  const parts = [];
  const re = /<(execute|solution)>([\s\S]*?)(?:<\/\1>|(?=<execute>|<solution>)|$)/g;
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) parts.push({ kind: "prose", text: text.slice(last, m.index) });
    const closed = m[0].endsWith(`</${m[1]}>`);
    parts.push({ kind: m[1], text: m[2], closed });
    last = m.index + m[0].length;
    if (m[0] === "") re.lastIndex++;
  }
  if (last < text.length) {
    // hide a half-written opening tag at the very end ("<exec")
    let rest = text.slice(last);
    const partial = rest.match(/<\/?[a-z]{0,8}$/);
    if (partial && ("<execute>".startsWith(partial[0]) || "<solution>".startsWith(partial[0])))
      rest = rest.slice(0, partial.index);
    parts.push({ kind: "prose", text: rest });
  }
  return parts;
};

CA.renderAssistant = function (text, streaming) {
  CA._streaming = !!streaming;
  let html = "";
  const parts = CA.splitAssistant(text);
  parts.forEach((p, idx) => {
    const lastPart = idx === parts.length - 1;
    if (p.kind === "prose") {
      if (p.text.trim()) html += `<div class="prose">${CA.markdown(p.text)}</div>`;
    } else if (p.kind === "execute") {
      const code = p.text.replace(/^\s*```[\w+-]*\s*\n/, "").replace(/\n?\s*```\s*$/, "")
        .replace(/^\n+/, "").replace(/\s+$/, "");
      html += CA.codeBlock(code, "python", { writing: streaming && lastPart && !p.closed });
    } else if (p.kind === "solution") {
      html += `<div class="answer">${CA.markdown(p.text.trim())}</div>`;
    }
  });
  CA._streaming = false;
  return html;
};

// ---------------------------------------------------------------- observations
// `%pip install` lines ("installing six ... done: six 1.17.0", done by the host) are
// shown as their own steps, apart from the cell's other output.
CA.INSTALL_RE = /^installing (.+?) \.\.\. ?(done: .*|failed: .*)?$/;
CA.splitInstalls = function (stdout) {
  const steps = [];
  const rest = [];
  stdout.split("\n").forEach((line) => {
    const m = CA.INSTALL_RE.exec(line);
    if (!m) { rest.push(line); return; }
    const state = !m[2] ? "running" : m[2].startsWith("done") ? "ok" : "bad";
    steps.push({ text: m[2] ? `installing ${m[1]} ... ${m[2]}` : `installing ${m[1]} ...`, state });
  });
  return { steps, rest: rest.join("\n").replace(/^\n+/, "") };
};

CA.renderObservation = function (obs, imageUrl, running) {
  if (!obs) return "";
  let status = "";
  let cls = "ok";
  if (running || obs.status === "running") { status = "running…"; cls = "running"; }
  else if (obs.timed_out) { status = "timed out"; cls = "bad"; }
  else if (obs.restarted) { status = "kernel restarted"; cls = "bad"; }
  else if (obs.error) { status = CA.esc(obs.error.name); cls = "bad"; }
  else if (obs.text === "(interrupted)") { status = "interrupted"; cls = "bad"; }
  else status = `done in ${(obs.duration || 0).toFixed(2)} s`;
  let html = `<div class="obs-head ${cls}"><span>Output</span><span class="obs-status">${status}</span></div>`;
  const out = CA.splitInstalls(obs.stdout || "");
  out.steps.forEach((st) => {
    html += `<div class="install ${st.state}">${CA.esc(st.text)}</div>`;
  });
  if (out.rest) html += `<pre class="stdout">${CA.esc(out.rest)}</pre>`;
  if (obs.stderr) html += `<pre class="stderr">${CA.esc(obs.stderr)}</pre>`;
  if (obs.result != null && obs.result !== "") html += `<pre class="result">${CA.esc(obs.result)}</pre>`;
  if (obs.error) {
    html += `<pre class="traceback">${CA.esc(obs.error.traceback || (obs.error.name + ": " + obs.error.message))}</pre>`;
  }
  if (obs.restarted && obs.restart_reason) html += `<div class="note">${CA.esc(obs.restart_reason)}</div>`;
  if (obs.truncated) html += `<div class="note">Output was truncated.</div>`;
  (obs.images || []).forEach((id) => {
    html += `<img class="plot" alt="figure" src="${CA.esc(imageUrl(id))}">`;
  });
  if (!obs.stdout && !obs.stderr && !obs.result && !obs.error && !(obs.images || []).length &&
      obs.status !== "running") {
    html += `<div class="note">(no output)</div>`;
  }
  return html;
};

// Approval mode: the code waiting for Run / Edit / Skip (buttons wired by app.js).
CA.approvalPanel = function (d) {
  return `<div class="approval" data-code-action="${d.id}">` +
    `<div class="approval-head">This code has not run yet. Run it, edit it, or skip it?</div>` +
    `<textarea class="approval-code" spellcheck="false" aria-label="Code to run" readonly>` +
    `${CA.esc(d.approval.code)}</textarea>` +
    `<div class="approval-buttons"><button class="primary approve-run" type="button">Run</button>` +
    `<button class="approve-edit" type="button">Edit</button>` +
    `<button class="approve-skip" type="button">Skip</button></div></div>`;
};

// ---------------------------------------------------------------- timeline
// A Timeline keeps items by key and their DOM nodes, in seq order, and applies events.
CA.Timeline = class {
  constructor(root, imageUrl) {
    this.root = root;
    this.imageUrl = imageUrl;
    this.items = new Map(); // key -> {data, el}
    this.pending = new Set();
    this.frame = null;
    this.branches = new Map(); // user message id -> {members: [branch numbers], current}
  }
  key(item) { return (item.type === "code" ? "c" : "m") + item.id; }
  clear() { this.items.clear(); this.root.innerHTML = ""; }
  load(items) { this.clear(); items.forEach((it) => this.add(it)); }
  add(item) {
    const key = this.key(item);
    if (this.items.has(key)) return this.items.get(key);
    const el = document.createElement("div");
    el.dataset.seq = item.seq;
    el.dataset.key = key;
    const entry = { data: item, el };
    this.items.set(key, entry);
    // insert in seq order (almost always at the end)
    let before = null;
    for (let n = this.root.lastElementChild; n; n = n.previousElementSibling) {
      if (+n.dataset.seq > item.seq) before = n; else break;
    }
    this.root.insertBefore(el, before);
    this.render(entry);
    return entry;
  }
  schedule(entry) {
    this.pending.add(entry);
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      const list = [...this.pending];
      this.pending.clear();
      list.forEach((e) => this.render(e));
    });
  }
  prevItem(entry) {
    const prev = entry.el.previousElementSibling;
    return prev ? this.items.get(prev.dataset.key) : null;
  }
  render(entry) {
    const d = entry.data;
    const el = entry.el;
    if (d.type === "code") {
      const owner = d.message_id != null ? this.items.get("m" + d.message_id) : null;
      const shown = owner && /<execute>|```/.test(owner.data.content || "");
      el.className = "item exec";
      let code = shown ? "" : CA.codeBlock(d.code, "python");
      const obsText = (d.observation && d.observation.text) || "";
      if (d.edited || obsText.includes("The user edited your code")) code = CA.codeBlock(d.code, "python", { label: "python (edited by you)" });
      const skipped = obsText.includes("The user declined to run this code");
      el.innerHTML = code +
        (d.approval && CA.interactive ? CA.approvalPanel(d) : "") +
        (skipped ? `<div class="obs skipped"><div class="obs-head"><span>Output</span>` +
          `<span class="obs-status">skipped</span></div>` +
          `<div class="note">Not run: the user skipped this code.</div></div>`
          : `<div class="obs">${CA.renderObservation(d.observation, this.imageUrl)}</div>`);
      return;
    }
    const last = el.classList.contains("last-answer"); // set by the app; kept
    el.className = `item msg ${d.role} kind-${d.kind}` + (last ? " last-answer" : "");
    if (d.role === "user") {
      el.innerHTML = `<div class="bubble">${CA.esc(d.content)}</div>` + this.actions(d);
    } else if (d.kind === "text") {
      const streaming = d.status === "streaming";
      el.innerHTML = `<div class="bubble">${CA.renderAssistant(d.content, streaming)}` +
        (streaming ? `<span class="caret"></span>` : "") + `</div>` +
        (streaming ? "" : this.actions(d));
    } else if (d.kind === "answer") {
      const prev = this.prevItem(entry);
      const dup = d.role === "assistant" && prev && prev.data.type === "message" &&
        prev.data.kind === "text" && /<solution>/.test(prev.data.content || "");
      el.classList.toggle("hidden", !!dup);
      const body = /<execute>|<solution>/.test(d.content) ? CA.renderAssistant(d.content, false)
        : CA.markdown(d.content);
      el.innerHTML = `<div class="bubble answer">${body}</div>` + this.actions(d);
    } else {
      el.innerHTML = `<div class="system-line">${CA.esc(d.content)}</div>`;
    }
  }
  // message actions (the app only: a share page has nothing to click)
  actions(d) {
    if (!CA.interactive) return "";
    let html = `<div class="msg-actions">`;
    const b = d.role === "user" ? this.branches.get(d.id) : null;
    if (b && b.members.length > 1) {
      const i = b.members.indexOf(b.current);
      html += `<span class="branch-switch"><button class="act-branch-prev" type="button" ` +
        `title="Previous version" aria-label="Previous version"${i <= 0 ? " disabled" : ""}>‹</button>` +
        `<span class="branch-pos">${i + 1} / ${b.members.length}</span>` +
        `<button class="act-branch-next" type="button" title="Next version" aria-label="Next version"` +
        `${i >= b.members.length - 1 ? " disabled" : ""}>›</button></span>`;
    }
    html += `<button class="act-copy" type="button" title="Copy the message">Copy</button>`;
    if (d.role === "user") html += `<button class="act-edit" type="button" title="Edit and resend">Edit</button>`;
    else html += `<button class="act-regen" type="button" title="Regenerate the last answer">Regenerate</button>`;
    return html + `</div>`;
  }
  // offsets count UTF-16 units, which is what JavaScript string lengths are
  applyText(id, offset, text) {
    const e = this.items.get("m" + id);
    if (!e) return false;
    const cur = e.data.content || "";
    if (offset > cur.length) return false;
    if (offset + text.length > cur.length) e.data.content = cur + text.slice(cur.length - offset);
    this.schedule(e);
    return true;
  }
  applyOutput(codeId, stream, offset, text) {
    const e = this.items.get("c" + codeId);
    if (!e || !e.data.observation) return false;
    const obs = e.data.observation;
    const cur = obs[stream] || "";
    if (offset > cur.length) return false;
    if (offset + text.length > cur.length) obs[stream] = cur + text.slice(cur.length - offset);
    this.schedule(e);
    return true;
  }
  // returns false when the event shows the local state is out of date (reload needed)
  apply(ev) {
    switch (ev.type) {
      case "item": this.add(ev.item); return true;
      case "text": return this.applyText(ev.message_id, ev.offset, ev.text);
      case "output": return this.applyOutput(ev.code_action_id, ev.stream, ev.offset, ev.text);
      case "message_done": {
        const e = this.items.get("m" + ev.id);
        if (e) { e.data.status = "done"; this.schedule(e); }
        this.items.forEach((x) => { if (x.data.type === "code") this.schedule(x); });
        return true;
      }
      case "message_kind": {
        const e = this.items.get("m" + ev.id);
        if (e) { e.data.kind = ev.kind; this.schedule(e); }
        return true;
      }
      case "observation": {
        const e = this.items.get("c" + ev.code_action_id);
        if (e) { e.data.observation = ev.observation; this.schedule(e); }
        return true;
      }
      case "approval": {
        const e = this.items.get("c" + ev.code_action_id);
        if (!e) return false;
        e.data.approval = { code: ev.code };
        this.render(e);
        return true;
      }
      case "approval_done": {
        const e = this.items.get("c" + ev.code_action_id);
        if (e) {
          delete e.data.approval;
          if (ev.action === "edit" && ev.code != null) { e.data.code = ev.code; e.data.edited = true; }
          if (ev.action === "skip") e.data.skipped = true;
          this.render(e);
        }
        return true;
      }
      default: return true;
    }
  }
};

// Reads a text/event-stream response body, calling onEvent(json) per data line.
CA.readSSE = async function (response, onEvent, signal) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    if (signal && signal.aborted) { reader.cancel(); return; }
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let idx;
    while ((idx = buf.indexOf("\n\n")) >= 0) {
      const chunk = buf.slice(0, idx);
      buf = buf.slice(idx + 2);
      const data = chunk.split("\n").filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, "")).join("\n");
      if (data) onEvent(JSON.parse(data));
    }
  }
};
