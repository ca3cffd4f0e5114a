// OneDoor demo portal: plain JavaScript over the public GraphQL API (no build step, no CDN).
// Everything shown comes from POST /graphql with the caller's token; data is inserted as text only.
"use strict";

const CENTRES = {
  MEDIATION: ["矛调中心", "#1565c0"], LEGAL_SERVICES: ["公共法律服务中心", "#2e7d32"],
  PETITIONS: ["信访中心", "#c62828"], LITIGATION: ["诉讼服务中心", "#6a1b9a"], GOVERNANCE: ["综治中心（网格）", "#ef6c00"],
};
const STATUS = { REGISTERED: "已登记", ACCEPTED: "已受理", IN_PROGRESS: "办理中", TRANSFERRED: "已转办",
  CLOSED: "已办结", REJECTED: "不予受理", TERMINATED: "已终止" };
const RELATIONS = { REFERRED_TO: "移送至", REFERRED_FROM: "来源于", CONFIRMED_BY: "司法确认", CONFIRMS: "确认协议",
  ESCALATED_TO: "转为信访", ESCALATED_FROM: "由纠纷转来", LEGAL_AID_FOR: "法律援助于", LEGAL_AID: "法律援助",
  PRE_LITIGATION_MEDIATION: "诉前调解", PRE_LITIGATION_OF: "诉前调解所属案件",
  TRANSFERRED_TO: "转办至", TRANSFERRED_FROM: "转办自", LITIGATED_AS: "调解不成起诉", LITIGATED_FROM: "起诉前调解未成" };
const KPIS = [["registered", "登记数"], ["accepted", "受理数"], ["forwarded", "转送"], ["assigned", "交办"],
  ["transferred", "流转"], ["closed", "办结数"], ["closedOnTime", "按期办结"], ["overdueOpen", "超期未结"],
  ["mediations", "调解受理"], ["agreements", "调解成功"],
  ["escalated", "纠纷转信访"], ["repeatPetitions", "重复信访"], ["acceptanceRate", "受理率"],
  ["transferRate", "转交办率"], ["closureRate", "办结率"], ["onTimeClosureRate", "按期办结率"],
  ["mediationSuccessRate", "调解成功率"]];
const FIGURES = KPIS.map(([k]) => k).join(" ");
const POLL_MS = 15000;  // no subscription needed: the timeline polls for status changes
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let tokens = {};
let dispatcherData = null;
let pollTimer = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "style") node.style.cssText = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

function status(id, text, error) {
  const node = $(id);
  node.textContent = text;
  node.className = error ? "status error" : "status";
}

async function gql(query, variables) {
  const token = $("token").value.trim();
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: "Bearer " + token } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && !body.data) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body;
}

function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }
function fmt(key, v) { return key.endsWith("Rate") ? pct(v) : String(v); }
function day(iso) { return iso ? iso.slice(0, 10) : ""; }

// ---- citizen view -------------------------------------------------------------------------
const MATTER = `centre reference category title status centreStatus receivedAt dueAt overdue id
  links { relation matter { id centre reference status } }`;
const CITIZEN_Q = `query($id: String!) { citizen(idNumber: $id) { name matters(first: 100) { totalCount nodes { ${MATTER} } } } }`;
const ME_Q = `query { me { name matters(first: 100) { totalCount nodes { ${MATTER} } } } }`;
// An 18-character code with a letter, or not a resident ID's shape, is a unified social credit code.
const ORG_Q = `query($code: String!) { organisation(creditCode: $code) { name matters(first: 100) { totalCount nodes { ${MATTER} } } } }`;
const RESIDENT_ID = /^(\d{17}[\dXx]|\d{15})$/;

async function loadCitizen() {
  const id = $("citizen-id").value.trim();
  status("citizen-status", "查询中…");
  try {
    const organisation = id && !RESIDENT_ID.test(id);
    const body = !id ? await gql(ME_Q, {}) : organisation ? await gql(ORG_Q, { code: id }) : await gql(CITIZEN_Q, { id });
    const person = !id ? body.data.me : organisation ? body.data.organisation : body.data.citizen;
    if (!person) {
      const why = (body.errors || []).map((e) => e.message).join("; ");
      status("citizen-status", why || (organisation ? "未找到该单位的可见事项" : "未找到该群众或无权查看"), true);
      return;
    }
    renderTimeline(person);
    const partial = body.errors ? `（部分中心暂不可用：${body.errors.length}）` : "";
    status("citizen-status", `${person.name ?? "（无户籍信息）"}：共 ${person.matters.totalCount} 件事项，最后更新 ` +
      new Date().toLocaleTimeString("zh-CN") + partial);
    document.body.dataset.state = "ready";
  } catch (err) {
    status("citizen-status", "查询失败：" + err.message, true);
    document.body.dataset.state = "error";
  }
}

function renderTimeline(person) {
  const list = $("timeline");
  list.replaceChildren();
  const nodes = [...person.matters.nodes].sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  for (const m of nodes) {
    const [name, colour] = CENTRES[m.centre] || [m.centre, "#888"];
    const links = el("div", { class: "links" });
    for (const l of m.links) {
      const target = l.matter;
      if (!target) continue;
      links.append(el("a", { href: "#m-" + target.id }, `${RELATIONS[l.relation] || l.relation} → `
        + `${(CENTRES[target.centre] || [target.centre])[0]} ${target.reference}（${STATUS[target.status] || target.status}）`));
    }
    list.append(el("li", { id: "m-" + m.id, style: "--c:" + colour, "data-centre": m.centre },
      el("span", { class: "centre" }, name), el("span", {}, day(m.receivedAt) + " "), el("strong", {}, m.title),
      el("div", {}, `${m.reference} · ${m.category} · ${STATUS[m.status] || m.status}（${m.centreStatus}）`,
        m.dueAt ? ` · 时限 ${day(m.dueAt)}` : "", m.overdue ? el("span", { class: "overdue" }, " · 已超期") : ""),
      links));
  }
}

// ---- dispatcher view ----------------------------------------------------------------------
const DISPATCH_Q = `query($r: String!, $f: Date!, $t: Date!) {
  byRegion: statistics(regionCode: $r, from: $f, to: $t, groupBy: [REGION]) {
    regionName totals { ${FIGURES} } groups { regionCode regionName figures { ${FIGURES} } }
    sources { centre source records } missingCentres }
  byMonth: statistics(regionCode: $r, from: $f, to: $t, groupBy: [MONTH]) { groups { month figures { ${FIGURES} } } }
  overdue(regionCode: $r) { centre reference category regionName deadlineKind daysOverdue statute dueAt dayCount }
}`;

async function loadDispatcher() {
  status("dispatcher-status", "统计中…");
  try {
    const body = await gql(DISPATCH_Q, { r: $("region").value.trim(), f: $("from").value, t: $("to").value });
    if (!body.data || !body.data.byRegion) throw new Error((body.errors || []).map((e) => e.message).join("; "));
    dispatcherData = body.data;
    renderDispatcher(body.data);
    const via = body.data.byRegion.sources.map((s) => `${CENTRES[s.centre][0]}:${s.source === "PUSH_DOWN" ? "中心汇总" : "网关计算"}`);
    status("dispatcher-status", `${body.data.byRegion.regionName} · 口径：${via.join("，")}`);
    document.body.dataset.state = "ready";
  } catch (err) {
    status("dispatcher-status", "统计失败：" + err.message, true);
    document.body.dataset.state = "error";
  }
}

function barChart(rows, label) {
  const ns = "http://www.w3.org/2000/svg";
  const w = Math.max(320, rows.length * 46 + 40), h = 200, max = Math.max(1, ...rows.map((r) => r.figures.registered));
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", w); svg.setAttribute("height", h + 40); svg.setAttribute("role", "img");
  rows.forEach((r, i) => {
    [["registered", "#90caf9"], ["closed", "#1565c0"]].forEach(([key, colour], j) => {
      const bh = (r.figures[key] / max) * h;
      const rect = document.createElementNS(ns, "rect");
      Object.entries({ x: 30 + i * 46 + j * 18, y: h - bh + 10, width: 16, height: bh, fill: colour })
        .forEach(([k, v]) => rect.setAttribute(k, v));
      const tip = document.createElementNS(ns, "title");
      tip.textContent = `${label(r)} ${key === "registered" ? "登记" : "办结"} ${r.figures[key]}`;
      rect.append(tip); svg.append(rect);
    });
    const text = document.createElementNS(ns, "text");
    Object.entries({ x: 30 + i * 46, y: h + 28, "font-size": 10 }).forEach(([k, v]) => text.setAttribute(k, v));
    text.textContent = label(r).slice(0, 5); svg.append(text);
  });
  return svg;
}

function table(node, head, rows) {
  node.replaceChildren(el("tr", {}, ...head.map((h) => el("th", {}, h))));
  for (const row of rows) node.append(el("tr", {}, ...row.map((c, i) => el("td", i === 0 ? { class: "text" } : {}, c))));
}

function renderDispatcher(data) {
  const totals = data.byRegion.totals;
  $("kpis").replaceChildren(...KPIS.map(([k, name]) => el("div", { class: "kpi" }, el("b", {}, fmt(k, totals[k])), name)));
  $("chart-region").replaceChildren(barChart(data.byRegion.groups, (g) => g.regionName));
  $("chart-month").replaceChildren(barChart(data.byMonth.groups, (g) => g.month.slice(2)));
  table($("kpi-table"), ["区划", ...KPIS.map(([, n]) => n)],
    data.byRegion.groups.map((g) => [g.regionName, ...KPIS.map(([k]) => fmt(k, g.figures[k]))]));
  $("overdue-count").textContent = `（${data.overdue.length} 件）`;
  table($("overdue-table"), ["编号", "中心", "类别", "区划", "超期天数", "时限届满", "依据", "计日"],
    data.overdue.slice(0, 200).map((o) => [o.reference, CENTRES[o.centre][0], o.category, o.regionName,
      o.daysOverdue, day(o.dueAt), o.statute, DAY_COUNTS[o.dayCount] ?? o.dayCount]));
}

// How each deadline is counted (民法典 Art.201-203 for days and months; the centre's own instant otherwise).
const DAY_COUNTS = { CALENDAR_DAYS: "按日", CALENDAR_MONTHS: "按月", ELAPSED_TIME: "按时计" };

function csv(filename, head, rows) {
  const quote = (v) => `"${String(v ?? "").replace(/"/g, '""')}"`;
  const text = "\ufeff" + [head, ...rows].map((r) => r.map(quote).join(",")).join("\r\n");
  const a = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" })), download: filename });
  document.body.append(a); a.click(); a.remove();
}

function exportKpis() {
  if (!dispatcherData) return;
  const head = ["区划代码", "区划", ...KPIS.map(([, n]) => n)];
  csv("kpi.csv", head, dispatcherData.byRegion.groups.map((g) => [g.regionCode, g.regionName,
    ...KPIS.map(([k]) => g.figures[k] ?? "")]));
}

function exportOverdue() {
  if (!dispatcherData) return;
  csv("overdue.csv", ["编号", "中心", "类别", "区划", "超期天数", "时限届满", "依据"],
    dispatcherData.overdue.map((o) => [o.reference, CENTRES[o.centre][0], o.category, o.regionName, o.daysOverdue,
      o.dueAt, o.statute]));
}

// ---- wiring -------------------------------------------------------------------------------
function show(view) {
  for (const s of document.querySelectorAll(".view")) s.hidden = s.id !== view;
  for (const b of document.querySelectorAll("nav button")) b.classList.toggle("active", b.dataset.view === view);
  clearInterval(pollTimer);
  if (view === "citizen") pollTimer = setInterval(() => { if ($("timeline").children.length) loadCitizen(); }, POLL_MS);
}

async function fetchDemoTokens() {
  const response = await fetch("/portal/demo-tokens");
  if (!response.ok) { status("citizen-status", "演示令牌不可用", true); return; }
  const body = await response.json();
  tokens = body.tokens;
  $("persona").replaceChildren(...Object.keys(tokens).map((k) => el("option", { value: k }, k)));
  if (body.samples && body.samples.length && !$("citizen-id").value) $("citizen-id").value = body.samples[0];
  $("token").value = tokens[document.querySelector("#dispatcher").hidden ? "portal" : "analyst"] || "";
}

function init() {
  const today = new Date();
  const yearAgo = new Date(today.getTime() - 365 * 86400000);
  $("to").value = params.get("to") || today.toISOString().slice(0, 10);
  $("from").value = params.get("from") || yearAgo.toISOString().slice(0, 10);
  if (params.get("region")) $("region").value = params.get("region");
  if (params.get("id")) $("citizen-id").value = params.get("id");
  if (params.get("token")) $("token").value = params.get("token");
  document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => show(b.dataset.view)));
  $("citizen-form").addEventListener("submit", (e) => { e.preventDefault(); loadCitizen(); });
  $("dispatcher-form").addEventListener("submit", (e) => { e.preventDefault(); loadDispatcher(); });
  $("csv-kpi").addEventListener("click", exportKpis);
  $("csv-overdue").addEventListener("click", exportOverdue);
  $("demo-tokens").addEventListener("click", fetchDemoTokens);
  $("persona").addEventListener("change", () => { $("token").value = tokens[$("persona").value] || ""; });
  const view = params.get("view") === "dispatcher" ? "dispatcher" : "citizen";
  show(view);
  if (params.get("token")) (view === "dispatcher" ? loadDispatcher : loadCitizen)();
}

init();
