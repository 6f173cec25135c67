// The owners' page: plain JS, no build step. Reads the admin-token reports; all text goes in as text.
"use strict";

const TOKEN_STORE = "pqa-admin-token";
let pollTimer = null;

class Unauthorised extends Error {}

async function getJson(url) {
  const token = sessionStorage.getItem(TOKEN_STORE);
  const res = await fetch(url, { headers: token ? { Authorization: "Bearer " + token } : {} });
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (res.status === 401 || res.status === 403) throw new Unauthorised((body && body.detail) || res.statusText);
  if (!res.ok) throw new Error((body && body.detail) || res.statusText);
  return body;
}

function askToken(message) {
  sessionStorage.removeItem(TOKEN_STORE);
  $("report").hidden = true;
  $("token-form").hidden = false;
  $("token-error").textContent = message || "";
  $("token").focus();
}

function subject(group) {
  if (group.name) return `“${group.name}” (no document matches this name)`;
  if (group.documents.length) return group.documents.map((d) => d.title).join(" and ");
  return "No document named";
}

function renderFeedback(counts) {
  const reasons = Object.entries(counts.reasons).filter(([, n]) => n > 0)
    .map(([key, n]) => `${key.replace(/_/g, " ")}: ${n}`);
  $("feedback-counts").textContent = `Helpful: ${counts.up} · Not helpful: ${counts.down}` +
    (reasons.length ? ` (${reasons.join(", ")})` : "");
}

function renderUnanswered(report) {
  renderFeedback(report.feedback);
  const list = $("unanswered");
  if (!report.groups.length) {
    list.replaceChildren(el("li", { class: "none" }, `Nothing refused or rated down in the last ${report.days} days.`));
    return;
  }
  list.replaceChildren(...report.groups.map((g) => el("li", { class: "group" },
    el("span", { class: "what" }, `${subject(g)} · ${g.fact_label}`), " ",
    el("span", { class: "count" }, `${g.count} (${g.refused} refused, ${g.rated_down} rated not helpful)`),
    el("ul", {}, ...g.examples.map((e) => el("li", {}, `“${e}”`))))));
}

function showQuote(text, label) {
  const box = $("quote");
  box.textContent = `${label}: ${text}`;
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

function coverageTable(type, facts, documents) {
  const head = el("tr", {}, el("th", { scope: "col" }, type === "career" ? "Career page" : "Program page"),
    ...facts.map((f) => el("th", { scope: "col" }, f.label)));
  const rows = documents.map((d) => el("tr", {}, el("th", { scope: "row" }, d.title),
    ...d.cells.map((c) => el("td", {}, c.answered
      ? el("button", { type: "button", class: "cell", title: c.quote || "answered", "aria-label": `${c.label}: answered`,
        onclick: () => showQuote(c.quote || "answered", `${d.title} · ${c.label}`) }, "✓")
      : el("span", { class: "missing", title: "not stated", "aria-label": `${c.label}: not stated` }, "✗")))));
  return el("div", { class: "table-wrap" },
    el("table", { class: "coverage", "data-type": type }, el("thead", {}, head), el("tbody", {}, ...rows)));
}

function renderCoverage(report) {
  const tables = Object.entries(report.facts)
    .map(([type, facts]) => [type, facts, report.documents.filter((d) => d.type === type)])
    .filter(([, , docs]) => docs.length)
    .map(([type, facts, docs]) => coverageTable(type, facts, docs));
  $("coverage").replaceChildren(...tables);
  $("coverage-status").textContent = report.complete
    ? `Index version ${report.version}: ${report.documents.length} documents.`
    : `Measuring… ${report.documents.length} documents so far.`;
  clearTimeout(pollTimer);
  if (!report.complete) pollTimer = setTimeout(loadCoverage, 2000);
}

async function loadCoverage() {
  try { renderCoverage(await getJson("/api/insights/coverage")); }
  catch (err) { if (err instanceof Unauthorised) askToken(err.message); else $("coverage-status").textContent = "Not available: " + err.message; }
}

async function loadAll() {
  try {
    renderUnanswered(await getJson("/api/insights/unanswered?days=" + $("days").value));
  } catch (err) {
    if (err instanceof Unauthorised) { askToken(err.message); return; }
    $("unanswered").replaceChildren(el("li", { role: "alert" }, "Not available: " + err.message));
  }
  $("token-form").hidden = true;
  $("report").hidden = false;
  await loadCoverage();
}

document.addEventListener("DOMContentLoaded", () => {
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_STORE, $("token").value.trim());
    $("token").value = "";
    loadAll();
  });
  $("days").addEventListener("change", loadAll);
  if (sessionStorage.getItem(TOKEN_STORE)) loadAll();
  else askToken();
});
