// Program Q&A chat page: plain JS, no build step. All text goes into the page as text, never as HTML.
"use strict";

const STORE = "pqa-chat-v1";
const KEY_STORE = "pqa-api-key";
let state = load();
let pending = false;     // one question at a time: Enter waits until the answer has arrived
let follow = true;       // keep the newest answer in view, unless the reader has scrolled up
let opener = null;       // the citation that opened the passage panel (focus returns to it)

function load() {
  try { return JSON.parse(localStorage.getItem(STORE)) || { sessionId: null, messages: [] }; }
  catch { return { sessionId: null, messages: [] }; }
}
function save() { localStorage.setItem(STORE, JSON.stringify(state)); }

function render() {
  const log = $("log");
  log.replaceChildren(...state.messages.map(messageNode));
  $("empty").hidden = state.messages.length > 0;
  reveal(log.lastElementChild);
}

function nearBottom() {
  return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
}

function reveal(node) {
  if (node && follow) node.scrollIntoView({ block: node.offsetHeight > window.innerHeight * 0.6 ? "start" : "end" });
}

function messageNode(msg) {
  if (msg.role === "user") return el("li", { class: "msg user" }, el("p", { class: "label" }, "You"), msg.text);
  if (msg.error) return el("li", { class: "msg bot", role: "alert" }, el("p", { class: "label" }, "Error"), msg.error);
  const p = msg.payload;
  const node = el("li", { class: "msg bot" + (p.answered ? "" : " abstained") });
  node.append(el("p", { class: "label" }, p.answered ? "Answer" : "Not in the documents"));
  node.append(answerParagraph(p));
  if (p.notice) node.append(el("p", { class: "notice" }, p.notice));
  if (p.citations.length) {
    const lines = distinctWhere(p.citations);
    node.append(el("ol", { class: "sources", "aria-label": "Sources" },
      ...p.citations.map((c, i) => el("li", {},
        el("button", { type: "button", class: "source", "data-n": String(c.n), onclick: (e) => showPassage(c, e.currentTarget) },
          el("span", { class: "n" }, `[${c.n}]`),
          el("span", { class: "src" }, el("span", { class: "title" }, shortTitle(c.title)), el("span", { class: "where" }, lines[i])))))));
  }
  if (!p.answered && p.suggestions && p.suggestions.length) {
    node.append(el("ul", { class: "suggestions" },
      ...p.suggestions.map((q) => el("li", {}, el("button", { type: "button", class: "suggestion", onclick: () => ask(q) }, q)))));
  }
  if (p.query && p.query !== msg.question) node.append(el("p", { class: "query" }, "Searched: " + p.query));
  if (p.turn) node.append(feedbackNode(msg));
  return node;
}

// Helpful / not helpful under each answer, with an optional reason; the rating is kept with the message.
const REASONS = [["wrong_figure", "Wrong figure"], ["wrong_school", "Wrong school"], ["not_asked", "Not what I asked"], ["outdated", "Outdated"]];

function feedbackNode(msg) {
  const box = el("div", { class: "feedback", role: "group", "aria-label": "Was this answer helpful?" });
  if (msg.rating) {
    box.append(el("p", { class: "rated", role: "status" },
      msg.rating === "up" ? "Thanks for rating this answer helpful." : "Thanks: the people who run these pages will see it."));
    return box;
  }
  box.append(el("span", { class: "ask-rating" }, "Helpful?"),
    el("button", { type: "button", class: "secondary rate", "data-rating": "up", onclick: () => rate(msg, box, "up") }, "Yes"),
    el("button", { type: "button", class: "secondary rate", "data-rating": "down", onclick: () => reasons(msg, box) }, "No"));
  return box;
}

function reasons(msg, box) {
  box.replaceChildren(el("span", { class: "ask-rating" }, "What was wrong?"),
    ...REASONS.map(([key, text]) => el("button", { type: "button", class: "secondary reason", "data-reason": key, onclick: () => rate(msg, box, "down", key) }, text)),
    el("button", { type: "button", class: "secondary reason", "data-reason": "", onclick: () => rate(msg, box, "down") }, "Just not helpful"));
  box.querySelector("button").focus();
}

async function rate(msg, box, rating, reason) {
  const body = { session_id: msg.payload.session_id, turn: msg.payload.turn, rating };
  if (reason) body.reason = reason;
  try {
    const res = await post("/api/feedback", body);
    if (!res.ok) {
      let detail = res.statusText;
      try { detail = (await res.json()).detail; } catch { /* keep status text */ }
      throw new Error(detail);
    }
    msg.rating = rating;
    save();
    box.replaceWith(feedbackNode(msg));
  } catch (err) {
    box.replaceChildren(el("p", { class: "notice", role: "alert" }, "The rating was not saved: " + err.message));
  }
}

function shortTitle(title) {
  return title.split(/\s+[-–—|]\s+|:\s+/)[0];
}

// Two citations of one answer that would read the same (one page, one section) are told apart by the
// start of the sentence each quotes.
function distinctWhere(citations) {
  const lines = citations.map(where);
  const seen = new Map();
  citations.forEach((c, i) => {
    const key = shortTitle(c.title) + " " + lines[i];
    seen.set(key, (seen.get(key) || 0) + 1);
  });
  return citations.map((c, i) => {
    if (seen.get(shortTitle(c.title) + " " + lines[i]) < 2) return lines[i];
    const [start, end] = (c.quotes && c.quotes[0]) || [0, 0];
    const quoted = (c.text || "").slice(start, end).replace(/\s+/g, " ").trim();
    const words = quoted.split(" ").slice(0, 6).join(" ");
    return words ? `${lines[i]} · “${words}${quoted.length > words.length ? "…" : ""}”` : lines[i];
  });
}

function where(c) {
  const parts = [];
  const leaf = (c.section || "").split(" › ").pop();
  if (leaf) parts.push(leaf);
  if (c.page) parts.push(`p. ${c.page}`);
  const host = /^https?:\/\/([^/]+)/i.exec(c.source || "");
  parts.push(host ? host[1].replace(/^www\./, "") : (c.source || "").split("/").pop());
  return parts.join(" · ");
}

function answerParagraph(p) {
  const para = el("p", { class: "answer" });
  const byN = new Map(p.citations.map((c) => [c.n, c]));
  const text = p.answered ? p.answer : p.answer.split(" You could ask:")[0];
  for (const part of text.split(/(\[\d+\])/)) {
    const m = part.match(/^\[(\d+)\]$/);
    const c = m && byN.get(Number(m[1]));
    if (c) para.append(el("button", { type: "button", class: "cite", "aria-label": "Source " + c.n + ": " + c.title, onclick: (e) => showPassage(c, e.currentTarget) }, `[${c.n}]`));
    else para.append(document.createTextNode(part));
  }
  return para;
}

function showPassage(c, from) {
  opener = from || null;
  $("passage-title").textContent = `[${c.n}] ${c.title}`;
  $("passage-where").textContent = (c.section || "") + (c.page ? ` · page ${c.page}` : "");
  const quote = $("passage-text");
  quote.replaceChildren();
  let pos = 0;
  for (const [start, end] of [...(c.quotes || [])].sort((a, b) => a[0] - b[0])) {
    if (start < pos) continue;
    quote.append(document.createTextNode(c.text.slice(pos, start)), el("mark", {}, c.text.slice(start, end)));
    pos = end;
  }
  quote.append(document.createTextNode(c.text.slice(pos)));
  const link = $("passage-link");
  if (/^https?:\/\//i.test(c.source)) {
    const first = (c.quotes && c.quotes[0]) ? c.text.slice(c.quotes[0][0], c.quotes[0][1]) : "";
    const words = first.replace(/\s+/g, " ").trim().split(" ").slice(0, 8).join(" ");
    link.href = c.source.split("#")[0] + (words ? "#:~:text=" + encodeURIComponent(words) : "");
    link.hidden = false;
  } else {
    link.hidden = true;
  }
  $("passage").hidden = false;
  $("passage").focus();
}

function closePassage() {
  if ($("passage").hidden) return;
  $("passage").hidden = true;
  if (opener && opener.isConnected) opener.focus();
  else $("message").focus();
  opener = null;
}

function apiKeyHeaders() {
  const key = sessionStorage.getItem(KEY_STORE);
  return key ? { Authorization: "Bearer " + key } : {};
}

async function post(url, body) {
  const send = () => fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...apiKeyHeaders() },
    body: JSON.stringify(body),
  });
  let res = await send();
  if (res.status === 401) {
    // The server was started with API keys (PQA_API_KEYS): ask once, keep it for this tab only.
    const key = window.prompt("This server needs an API key to answer. Key:");
    if (key) {
      sessionStorage.setItem(KEY_STORE, key.trim());
      res = await send();
    }
  }
  return res;
}

async function ask(question) {
  question = question.trim();
  if (!question || pending) return false;
  pending = true;
  follow = true;
  state.messages.push({ role: "user", text: question });
  save();
  render();
  const waiting = el("li", { class: "msg bot", "aria-busy": "true" }, el("p", { class: "label" }, "Answer"));
  const live = el("p", { class: "answer typing" });
  waiting.append(live);
  $("log").append(waiting);
  reveal(waiting);
  $("send").disabled = true;
  $("ask").setAttribute("aria-busy", "true");
  try {
    const res = await post("/api/chat/stream",
      state.sessionId ? { message: question, session_id: state.sessionId } : { message: question });
    if (!res.ok) {
      let detail = res.statusText;
      try { detail = (await res.json()).detail; } catch { /* keep status text */ }
      throw new Error(detail);
    }
    const payload = await readStream(res, (piece) => { live.append(document.createTextNode(piece)); reveal(waiting); });
    state.sessionId = payload.session_id;
    state.messages.push({ role: "bot", question, payload });
  } catch (err) {
    state.messages.push({ role: "bot", error: "Sorry, that did not work: " + err.message });
  } finally {
    pending = false;
    $("send").disabled = false;
    $("ask").removeAttribute("aria-busy");
    save();
    render();
  }
  return true;
}

async function readStream(res, onDelta) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let final = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = (block.match(/^event: (.*)$/m) || [])[1];
      const data = (block.match(/^data: (.*)$/m) || [])[1];
      if (!data) continue;
      const parsed = JSON.parse(data);
      if (event === "delta") onDelta(parsed.text);
      if (event === "final") final = parsed;
    }
  }
  if (!final) throw new Error("the answer stream ended early");
  return final;
}

document.addEventListener("DOMContentLoaded", () => {
  render();
  $("ask").addEventListener("submit", (e) => {
    e.preventDefault();
    if (pending) return; // the text stays in the box until the current answer has arrived
    const text = $("message").value;
    $("message").value = "";
    ask(text);
  });
  window.addEventListener("scroll", () => { follow = nearBottom(); }, { passive: true });
  const bar = $("ask");
  const setBar = () => document.documentElement.style.setProperty("--ask-h", bar.offsetHeight + "px");
  new ResizeObserver(setBar).observe(bar);
  setBar();
  $("message").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("ask").requestSubmit();
    }
  });
  for (const button of document.querySelectorAll("#suggestions .suggestion")) {
    button.addEventListener("click", () => ask(button.textContent));
  }
  $("new-chat").addEventListener("click", () => {
    state = { sessionId: null, messages: [] };
    save();
    render();
    $("passage").hidden = true;
    $("message").focus();
  });
  $("passage-close").addEventListener("click", closePassage);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closePassage(); });
});
