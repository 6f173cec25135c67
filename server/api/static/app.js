// Program Q&A chat page: plain JS, no build step. All text goes into the page as text, never as HTML.
"use strict";

const STORE = "pqa-chat-v1";
const $ = (id) => document.getElementById(id);
let state = load();

function load() {
  try { return JSON.parse(localStorage.getItem(STORE)) || { sessionId: null, messages: [] }; }
  catch { return { sessionId: null, messages: [] }; }
}
function save() { localStorage.setItem(STORE, JSON.stringify(state)); }

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function render() {
  const log = $("log");
  log.replaceChildren(...state.messages.map(messageNode));
  $("empty").hidden = state.messages.length > 0;
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
    node.append(el("ol", { class: "sources", "aria-label": "Sources" },
      ...p.citations.map((c) => el("li", { value: String(c.n) },
        el("button", { type: "button", class: "source", "data-n": String(c.n), onclick: () => showPassage(c) }, describe(c))))));
  }
  if (!p.answered && p.suggestions && p.suggestions.length) {
    node.append(el("ul", { class: "suggestions" },
      ...p.suggestions.map((q) => el("li", {}, el("button", { type: "button", class: "suggestion", onclick: () => ask(q) }, q)))));
  }
  if (p.query && p.query !== msg.question) node.append(el("p", { class: "query" }, "Searched: " + p.query));
  return node;
}

function describe(c) {
  return c.title + (c.section ? " › " + c.section : "") + (c.page ? ` (p. ${c.page})` : "");
}

function answerParagraph(p) {
  const para = el("p", { class: "answer" });
  const byN = new Map(p.citations.map((c) => [c.n, c]));
  const text = p.answered ? p.answer : p.answer.split(" You could ask:")[0];
  for (const part of text.split(/(\[\d+\])/)) {
    const m = part.match(/^\[(\d+)\]$/);
    const c = m && byN.get(Number(m[1]));
    if (c) para.append(el("button", { type: "button", class: "cite", "aria-label": "Source " + c.n + ": " + c.title, onclick: () => showPassage(c) }, `[${c.n}]`));
    else para.append(document.createTextNode(part));
  }
  return para;
}

function showPassage(c) {
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

async function ask(question) {
  question = question.trim();
  if (!question) return;
  state.messages.push({ role: "user", text: question });
  save();
  render();
  const pending = el("li", { class: "msg bot", "aria-busy": "true" }, el("p", { class: "label" }, "Answer"));
  const live = el("p", { class: "answer typing" });
  pending.append(live);
  $("log").append(pending);
  $("send").disabled = true;
  try {
    const res = await fetch("/api/chat/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(state.sessionId ? { message: question, session_id: state.sessionId } : { message: question }),
    });
    if (!res.ok) {
      let detail = res.statusText;
      try { detail = (await res.json()).detail; } catch { /* keep status text */ }
      throw new Error(detail);
    }
    const payload = await readStream(res, (piece) => { live.append(document.createTextNode(piece)); });
    state.sessionId = payload.session_id;
    state.messages.push({ role: "bot", question, payload });
  } catch (err) {
    state.messages.push({ role: "bot", error: "Sorry, that did not work: " + err.message });
  } finally {
    $("send").disabled = false;
    save();
    render();
  }
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
    const text = $("message").value;
    $("message").value = "";
    ask(text);
  });
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
  $("passage-close").addEventListener("click", () => { $("passage").hidden = true; $("message").focus(); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") $("passage").hidden = true; });
});
