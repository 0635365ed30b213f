"use strict";
function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
}
const SVG_NS = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
}
function setAttrs(el, attrs) {
    if (!attrs)
        return;
    for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false)
            continue;
        if (typeof v === "function") {
            el.addEventListener(k.slice(2), v);
        }
        else if (v === true) {
            el.setAttribute(k, "");
        }
        else {
            el.setAttribute(k, String(v));
        }
    }
}
function append(el, children) {
    for (const c of children) {
        if (c === null || c === undefined || c === false)
            continue;
        el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
}
function fill(el, ...children) {
    el.replaceChildren();
    append(el, children);
}
function byId(id) {
    const el = document.getElementById(id);
    if (!el)
        throw new Error(`#${id} missing`);
    return el;
}
function fmtInt(n) {
    return n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en-US");
}
function fmtMs(n) {
    if (n === null || n === undefined)
        return "–";
    if (n >= 10000)
        return `${(n / 1000).toFixed(1)} s`;
    if (n > 0 && n < 10 && !Number.isInteger(n))
        return `${n.toFixed(1)} ms`;
    return `${Math.round(n)} ms`;
}
function fmtUsd(n) {
    if (n === null || n === undefined)
        return "–";
    if (n === 0)
        return "$0";
    const a = Math.abs(n);
    return `$${n.toFixed(a < 0.01 ? 6 : a < 1 ? 4 : 2)}`;
}
function pad2(n) {
    return n < 10 ? `0${n}` : String(n);
}
function fmtClock(ms) {
    const d = new Date(ms);
    const millis = String(d.getMilliseconds()).padStart(3, "0");
    return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${millis}`;
}
function fmtDateTime(ms) {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
        `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}
function fmtBucket(ms, bucket) {
    const d = new Date(ms);
    if (bucket === "day")
        return `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
    return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}
function statusClass(status) {
    if (status >= 200 && status < 400)
        return "ok";
    if (status >= 400 && status < 500)
        return "warn";
    return "bad";
}
function statusBadge(status, error) {
    const label = error ? `${status} ${error}` : String(status);
    return h("span", { class: `badge ${statusClass(status)}`, title: label }, String(status));
}
async function copyText(text) {
    try {
        await navigator.clipboard.writeText(text);
        return true;
    }
    catch {
        return false;
    }
}
class ApiError extends Error {
    constructor(status, message, code = null) {
        super(message);
        this.status = status;
        this.code = code;
    }
}
let onUnauthorized = () => { };
function setUnauthorizedHandler(f) {
    onUnauthorized = f;
}
const CONSOLE_HEADER = "x-switchyard-console";
async function errorOf(r) {
    let message = `HTTP ${r.status}`;
    let code = null;
    try {
        const body = (await r.json());
        if (body.error?.message)
            message = body.error.message;
        if (body.error?.code)
            code = body.error.code;
    }
    catch {
    }
    return new ApiError(r.status, message, code);
}
async function call(method, path, body, opts = {}) {
    const headers = { [CONSOLE_HEADER]: "1", accept: "application/json" };
    const init = { method, credentials: "same-origin", headers };
    if (body !== undefined) {
        headers["content-type"] = "application/json";
        init.body = JSON.stringify(body);
    }
    let r;
    try {
        r = await fetch(path, init);
    }
    catch (e) {
        throw new ApiError(0, `network error: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!r.ok) {
        const err = await errorOf(r);
        if (r.status === 401 && !opts.quiet401)
            onUnauthorized();
        throw err;
    }
    if (r.status === 204)
        return null;
    return (await r.json());
}
function qs(params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
        if (v !== null && v !== undefined && String(v).trim() !== "")
            u.set(k, String(v).trim());
    }
    const s = u.toString();
    return s ? `?${s}` : "";
}
const api = {
    session: () => call("GET", "/console/session", undefined, { quiet401: true }),
    login: (adminKey) => call("POST", "/console/login", { admin_key: adminKey }, { quiet401: true }),
    logout: () => call("POST", "/console/logout", undefined, { quiet401: true }),
    info: () => call("GET", "/admin/info"),
    logs: (filter) => call("GET", `/admin/logs${qs(filter)}`),
    analytics: (p) => call("GET", `/admin/analytics${qs(p)}`),
    keys: () => call("GET", "/admin/keys"),
    teams: () => call("GET", "/admin/teams"),
    usage: () => call("GET", "/admin/usage?limit=10000"),
    createKey: (body) => call("POST", "/admin/keys", body),
    revokeKey: (id) => call("DELETE", `/admin/keys/${encodeURIComponent(id)}`),
    circuits: () => call("GET", "/admin/circuits"),
};
const PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569", "#ea580c"];
const W = 640;
const M = { top: 12, right: 14, bottom: 26, left: 66 };
function niceMax(v) {
    if (!(v > 0))
        return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10])
        if (m * p >= v)
            return m * p;
    return 10 * p;
}
function colorOf(s, i) {
    return s.color ?? PALETTE[i % PALETTE.length];
}
function sortedXs(opts) {
    if (opts.xs && opts.xs.length)
        return opts.xs;
    const set = new Set();
    for (const s of opts.series)
        for (const p of s.points)
            set.add(p.x);
    return [...set].sort((a, b) => a - b);
}
function swatch(color, dashed) {
    return s("svg", { class: "swatch", viewBox: "0 0 18 8", width: 18, height: 8, "aria-hidden": "true" }, s("line", { x1: 1, x2: 17, y1: 4, y2: 4, stroke: color, "stroke-width": 3, "stroke-dasharray": dashed ? "4 3" : null }));
}
function frame(opts, yMax, xs, xPos) {
    const H = opts.height ?? 220;
    const svg = s("svg", {
        viewBox: `0 0 ${W} ${H}`,
        class: "chart-svg",
        role: "img",
        "aria-label": opts.title,
        preserveAspectRatio: "none",
    });
    const plotH = H - M.top - M.bottom;
    const yPos = (y) => M.top + plotH - (y / yMax) * plotH;
    const ticks = 4;
    for (let i = 0; i <= ticks; i++) {
        const v = (yMax * i) / ticks;
        const y = yPos(v);
        svg.appendChild(s("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, class: i === 0 ? "axis" : "grid" }));
        svg.appendChild(s("text", { x: M.left - 6, y: y + 4, class: "tick", "text-anchor": "end" }, opts.yFormat(v)));
    }
    svg.appendChild(s("line", { x1: M.left, x2: M.left, y1: M.top, y2: M.top + plotH, class: "axis" }));
    const every = Math.max(1, Math.ceil(xs.length / 7));
    xs.forEach((x, i) => {
        if (i % every !== 0)
            return;
        const px = xPos(x);
        svg.appendChild(s("line", { x1: px, x2: px, y1: M.top + plotH, y2: M.top + plotH + 4, class: "axis" }));
        svg.appendChild(s("text", { x: px, y: H - 8, class: "tick", "text-anchor": "middle" }, opts.xFormat(x)));
    });
    const legend = h("ul", { class: "legend" });
    opts.series.forEach((se, i) => {
        legend.appendChild(h("li", null, swatch(colorOf(se, i), !!se.dashed), se.name));
    });
    const fig = h("figure", { class: "chart", "data-test": opts.testId, id: opts.testId }, h("figcaption", null, opts.title), svg, legend);
    return { fig, svg, yPos, plotH, H };
}
function empty(opts) {
    return h("figure", { class: "chart empty", "data-test": opts.testId, id: opts.testId }, h("figcaption", null, opts.title), h("p", { class: "muted" }, "No data in this window."));
}
function lineChart(opts) {
    const xs = sortedXs(opts);
    if (!xs.length || !opts.series.length)
        return empty(opts);
    const max = niceMax(Math.max(0, ...opts.series.flatMap((se) => se.points.map((p) => p.y))));
    const x0 = xs[0];
    const x1 = xs[xs.length - 1];
    const plotW = W - M.left - M.right;
    const xPos = (x) => (x1 === x0 ? M.left + plotW / 2 : M.left + ((x - x0) / (x1 - x0)) * plotW);
    const { fig, svg, yPos } = frame(opts, max, xs, xPos);
    opts.series.forEach((se, i) => {
        const color = colorOf(se, i);
        const pts = [...se.points].sort((a, b) => a.x - b.x);
        if (pts.length > 1) {
            const d = pts.map((p, j) => `${j ? "L" : "M"}${xPos(p.x).toFixed(1)},${yPos(p.y).toFixed(1)}`).join(" ");
            svg.appendChild(s("path", { d, fill: "none", stroke: color, "stroke-width": 2, "stroke-dasharray": se.dashed ? "5 4" : null, class: "line" }));
        }
        for (const p of pts) {
            svg.appendChild(s("circle", { cx: xPos(p.x).toFixed(1), cy: yPos(p.y).toFixed(1), r: 3, fill: color, class: "dot" }, s("title", null, `${se.name} · ${opts.xFormat(p.x)}: ${opts.yFormat(p.y)}`)));
        }
    });
    return fig;
}
function barChart(opts) {
    const xs = sortedXs(opts);
    if (!xs.length || !opts.series.length)
        return empty(opts);
    const totals = new Map();
    for (const se of opts.series)
        for (const p of se.points)
            totals.set(p.x, (totals.get(p.x) ?? 0) + p.y);
    const max = niceMax(Math.max(0, ...totals.values()));
    const plotW = W - M.left - M.right;
    const slot = plotW / xs.length;
    const index = new Map(xs.map((x, i) => [x, i]));
    const xPos = (x) => M.left + slot * ((index.get(x) ?? 0) + 0.5);
    const { fig, svg, yPos } = frame(opts, max, xs, xPos);
    const bw = Math.max(1, Math.min(28, slot * 0.7));
    const base = new Map();
    opts.series.forEach((se, i) => {
        const color = colorOf(se, i);
        for (const p of se.points) {
            if (!(p.y > 0))
                continue;
            const b = base.get(p.x) ?? 0;
            const yTop = yPos(b + p.y);
            const yBot = yPos(b);
            base.set(p.x, b + p.y);
            svg.appendChild(s("rect", { x: (xPos(p.x) - bw / 2).toFixed(1), y: yTop.toFixed(1), width: bw.toFixed(1), height: Math.max(0.5, yBot - yTop).toFixed(1), fill: color, class: "bar" }, s("title", null, `${se.name} · ${opts.xFormat(p.x)}: ${opts.yFormat(p.y)}`)));
        }
    });
    return fig;
}
function hbarChart(title, testId, items) {
    if (!items.length) {
        return h("figure", { class: "chart empty", "data-test": testId, id: testId }, h("figcaption", null, title), h("p", { class: "muted" }, "No data in this window."));
    }
    const rowH = 22;
    const H = items.length * rowH + 8;
    const labelW = 180;
    const barW = W - labelW - 150;
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img", "aria-label": title });
    items.forEach((it, i) => {
        const y = 4 + i * rowH;
        const frac = it.max > 0 ? Math.min(1, it.value / it.max) : 0;
        svg.appendChild(s("text", { x: labelW - 8, y: y + 14, class: "tick", "text-anchor": "end" }, it.label.length > 28 ? `${it.label.slice(0, 27)}…` : it.label));
        svg.appendChild(s("rect", { x: labelW, y: y + 3, width: barW, height: rowH - 8, class: "track" }));
        svg.appendChild(s("rect", { x: labelW, y: y + 3, width: Math.max(frac > 0 ? 1 : 0, frac * barW).toFixed(1), height: rowH - 8, fill: PALETTE[i % PALETTE.length], class: "bar" }, s("title", null, `${it.label}: ${it.note}`)));
        svg.appendChild(s("text", { x: labelW + barW + 8, y: y + 14, class: "tick" }, it.note));
    });
    return h("figure", { class: "chart", "data-test": testId, id: testId }, h("figcaption", null, title), svg);
}
const GUARDRAIL_NOTES = {
    446: "refused by a guardrail (446): a deny check failed",
    246: "a guardrail check failed but did not deny (246): the answer is flagged",
};
function closeTimeline() {
    const panel = byId("timeline");
    panel.hidden = true;
    panel.replaceChildren();
}
async function openTimelineByTrace(traceId, fallback) {
    const panel = byId("timeline");
    panel.hidden = false;
    panel.dataset.trace = traceId;
    if (fallback)
        renderTimeline(fallback);
    else
        fill(panel, h("p", { class: "muted pad" }, `Loading ${traceId}…`));
    const current = () => !panel.hidden && panel.dataset.trace === traceId;
    for (let i = 0; i < 5; i++) {
        try {
            const page = await api.logs({ trace_id: traceId, limit: 1 });
            if (page.data.length) {
                if (current())
                    renderTimeline(page.data[0]);
                return;
            }
        }
        catch (e) {
            if (!fallback && current())
                fill(panel, h("p", { class: "error pad" }, e instanceof Error ? e.message : String(e)));
            return;
        }
        await new Promise((r) => setTimeout(r, 800));
    }
    if (!fallback && current())
        fill(panel, h("p", { class: "muted pad" }, `No logged request with trace id ${traceId}.`));
}
function renderTimeline(row) {
    const panel = byId("timeline");
    panel.hidden = false;
    panel.dataset.trace = row.trace_id;
    const close = h("button", { type: "button", class: "icon", "data-test": "timeline-close", "aria-label": "Close the timeline", onclick: () => closeTimeline() }, "×");
    fill(panel, h("header", { class: "panel-head" }, h("div", null, h("h2", null, "Request timeline"), h("code", { "data-test": "timeline-trace" }, row.trace_id)), close), summary(row), h("h3", null, "Upstream tries"), tries(row), h("h3", null, "Outcome"), outcome(row), notes(row), row.request_body ? h("details", null, h("summary", null, "Request body"), h("pre", { class: "body" }, row.request_body)) : null);
    close.focus();
}
function dl(pairs, testId) {
    const list = h("dl", { class: "facts", "data-test": testId ?? null });
    for (const [k, v] of pairs)
        list.append(h("dt", null, k), h("dd", null, v));
    return list;
}
function summary(row) {
    const status = h("span", null, statusBadge(row.status, row.error), row.error ? ` ${row.error}` : "");
    const model = row.model_sent && row.model_sent !== row.model ? `${row.model ?? "–"} → ${row.model_sent}` : row.model ?? "–";
    return dl([
        ["Time", fmtDateTime(row.time)],
        ["Status", status],
        ["Operation", `${row.op}${row.stream ? " (stream)" : ""}`],
        ["Route", row.route ?? "–"],
        ["Model", model],
        ["Provider", row.provider ?? "–"],
        ["Key / team", `${row.key_id ?? "–"} / ${row.team_id ?? "–"}`],
    ], "timeline-summary");
}
function tries(row) {
    if (!row.targets.length) {
        return h("p", { class: "muted", "data-test": "timeline-tries" }, "No upstream was called (answered by the gateway: cache, guardrail or a refusal).");
    }
    const total = Math.max(1, row.latency_ms, row.targets.reduce((a, t) => a + t.elapsed_ms, 0));
    const W = 600;
    const label = 230;
    const scale = (W - label - 10) / total;
    const rowH = 24;
    const n = row.targets.length + 1;
    const svg = s("svg", { viewBox: `0 0 ${W} ${n * rowH + 18}`, class: "timeline-svg", role: "img", "aria-label": "Upstream tries drawn to scale" });
    let t0 = 0;
    let prevTarget = "";
    const list = h("ol", { class: "tries", "data-test": "timeline-tries" });
    row.targets.forEach((t, i) => {
        const y = i * rowH;
        const ok = t.status !== null && t.status < 400 && !t.error;
        const kind = t.retry > 0 ? `retry ${t.retry}` : i > 0 && t.target !== prevTarget ? "fallback" : "first try";
        prevTarget = t.target;
        const outcomeText = t.error ? `${t.status ?? "no response"} ${t.error}` : String(t.status ?? "no response");
        svg.appendChild(s("text", { x: label - 8, y: y + 16, class: "tick", "text-anchor": "end" }, `${t.target} · ${t.provider}`));
        svg.appendChild(s("rect", { x: (label + t0 * scale).toFixed(1), y: y + 4, width: Math.max(2, t.elapsed_ms * scale).toFixed(1), height: rowH - 8, rx: 2, class: ok ? "try ok" : "try bad" }, s("title", null, `${t.target} (${t.provider}), ${kind}: ${outcomeText}, ${t.elapsed_ms} ms`)));
        t0 += t.elapsed_ms;
        list.appendChild(h("li", { "data-test": "timeline-try", class: ok ? "ok" : "bad" }, h("span", { class: "try-target" }, t.target), " ", h("span", { class: "muted" }, `${t.provider} · ${kind}`), " ", t.status !== null ? statusBadge(t.status, t.error) : h("span", { class: "badge bad" }, "—"), t.error ? ` ${t.error}` : "", " ", h("span", { class: "num" }, fmtMs(t.elapsed_ms))));
    });
    const y = row.targets.length * rowH;
    const up = Math.min(row.upstream_ms, row.latency_ms);
    svg.appendChild(s("text", { x: label - 8, y: y + 16, class: "tick strong", "text-anchor": "end" }, "request total"));
    svg.appendChild(s("rect", { x: label, y: y + 4, width: Math.max(2, up * scale).toFixed(1), height: rowH - 8, rx: 2, class: "try upstream" }, s("title", null, `waiting for upstream heads: ${row.upstream_ms} ms`)));
    svg.appendChild(s("rect", { x: (label + up * scale).toFixed(1), y: y + 4, width: Math.max(1, (row.latency_ms - up) * scale).toFixed(1), height: rowH - 8, rx: 2, class: "try overhead" }, s("title", null, `gateway overhead and body transfer: ${row.overhead_ms} ms`)));
    const ay = n * rowH + 2;
    svg.appendChild(s("line", { x1: label, x2: W - 10, y1: ay, y2: ay, class: "axis" }));
    for (let i = 0; i <= 4; i++) {
        const x = label + ((W - label - 10) * i) / 4;
        svg.appendChild(s("line", { x1: x, x2: x, y1: ay, y2: ay + 4, class: "axis" }));
        svg.appendChild(s("text", { x, y: ay + 14, class: "tick", "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" }, fmtMs((total * i) / 4)));
    }
    return h("div", null, svg, list);
}
function outcome(row) {
    const tokens = `${fmtInt(row.input_tokens)} in · ${fmtInt(row.output_tokens)} out` +
        (row.cached_tokens ? ` · ${fmtInt(row.cached_tokens)} cached` : "");
    return h("div", null, dl([
        ["Cache", h("span", { class: `badge ${/HIT/.test(row.cache_status) && !/MISS/.test(row.cache_status) ? "ok" : "plain"}`, "data-test": "timeline-cache" }, row.cache_status)],
        ["Tokens", h("span", { "data-test": "timeline-tokens" }, tokens)],
        ["Cost", h("span", { "data-test": "timeline-cost" }, fmtUsd(row.cost_usd))],
        ["Latency", `${fmtMs(row.latency_ms)} (upstream ${fmtMs(row.upstream_ms)}, overhead ${fmtMs(row.overhead_ms)})`],
        ["Attempts", `${row.attempts} (${row.retries} ${row.retries === 1 ? "retry" : "retries"})`],
    ]));
}
function notes(row) {
    const out = [];
    if (GUARDRAIL_NOTES[row.status])
        out.push(GUARDRAIL_NOTES[row.status]);
    if (row.stream_error)
        out.push(`the stream broke after its first byte: ${row.stream_error}`);
    if (row.client_gone)
        out.push("the client went away before the response ended");
    if (row.error && !GUARDRAIL_NOTES[row.status])
        out.push(`error: ${row.error}`);
    if (!out.length)
        return null;
    return h("ul", { class: "notes", "data-test": "timeline-notes" }, ...out.map((n) => h("li", null, n)));
}
const LIVE_MAX = 200;
const live = {
    source: null,
    rows: [],
    paused: false,
    lagged: 0,
};
function liveStatus(text, cls) {
    const el = byId("live-status");
    el.textContent = text;
    el.className = `pill ${cls}`;
}
function startLive() {
    if (live.source)
        return;
    const es = new EventSource("/admin/live", { withCredentials: true });
    live.source = es;
    liveStatus("connecting", "plain");
    es.onopen = () => liveStatus("live", "ok");
    es.addEventListener("request", (ev) => {
        let row;
        try {
            row = JSON.parse(ev.data);
        }
        catch {
            return;
        }
        live.rows.unshift(row);
        if (live.rows.length > LIVE_MAX)
            live.rows.length = LIVE_MAX;
        if (!live.paused)
            prependLiveRow(row);
    });
    es.addEventListener("lagged", (ev) => {
        let n = 0;
        try {
            n = Number(JSON.parse(ev.data).skipped) || 0;
        }
        catch {
        }
        live.lagged += n;
        byId("live-lagged").textContent = `${live.lagged ? fmtInt(live.lagged) : "some"} requests were skipped (this page fell behind).`;
    });
    es.onerror = () => {
        if (es.readyState === EventSource.CLOSED) {
            liveStatus("disconnected", "bad");
            live.source = null;
            const retry = () => setTimeout(() => { if (!live.source && document.body.dataset.auth === "1")
                startLive(); }, 3000);
            api.session().then(retry, (e) => {
                if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
                    onUnauthorized();
                }
                else {
                    liveStatus("gateway unreachable", "bad");
                    retry();
                }
            });
        }
        else {
            liveStatus("reconnecting", "warn");
        }
    };
}
function stopLive() {
    live.source?.close();
    live.source = null;
    live.rows = [];
    const body = document.getElementById("live-rows");
    if (body)
        body.replaceChildren();
}
function liveRow(row) {
    const tokens = row.input_tokens === null && row.output_tokens === null ? "–" : `${fmtInt(row.input_tokens)} / ${fmtInt(row.output_tokens)}`;
    const tr = h("tr", { class: "clickable", tabindex: 0, "data-test": "live-row", "data-trace": row.trace_id, title: "Open the timeline" }, h("td", { class: "mono" }, fmtClock(row.time)), h("td", null, statusBadge(row.status, row.error)), h("td", null, row.route ?? "–"), h("td", null, row.provider ?? "–"), h("td", { class: "mono" }, row.model_sent ?? row.model ?? "–"), h("td", { class: "trunc", title: row.key_id ?? "" }, row.key_id ?? "–"), h("td", { class: "num" }, fmtMs(row.latency_ms)), h("td", { class: "num" }, tokens), h("td", { class: "num" }, fmtUsd(row.cost_usd)), h("td", null, row.cache_status), h("td", { class: "num" }, row.retries ? String(row.retries) : ""), h("td", { class: "mono small trunc", title: row.trace_id }, row.trace_id));
    const open = () => openTimelineByTrace(row.trace_id, row);
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter")
        open(); });
    return tr;
}
function prependLiveRow(row) {
    const body = byId("live-rows");
    body.insertBefore(liveRow(row), body.firstChild);
    while (body.children.length > LIVE_MAX)
        body.lastElementChild?.remove();
    byId("live-empty").hidden = true;
}
function renderLiveView() {
    const view = byId("view-live");
    if (view.dataset.built)
        return;
    view.dataset.built = "1";
    const pause = h("button", { type: "button", "data-test": "live-pause", "aria-pressed": "false" }, "Pause");
    pause.addEventListener("click", () => {
        live.paused = !live.paused;
        pause.textContent = live.paused ? "Resume" : "Pause";
        pause.setAttribute("aria-pressed", String(live.paused));
        if (!live.paused) {
            const body = byId("live-rows");
            body.replaceChildren(...live.rows.map(liveRow));
            byId("live-empty").hidden = live.rows.length > 0;
        }
    });
    const clear = h("button", { type: "button", "data-test": "live-clear" }, "Clear");
    clear.addEventListener("click", () => {
        live.rows = [];
        byId("live-rows").replaceChildren();
        byId("live-empty").hidden = false;
    });
    fill(view, h("header", { class: "view-head" }, h("h1", null, "Live requests"), h("div", { class: "toolbar" }, h("span", { id: "live-status", class: "pill plain", "data-test": "live-status", role: "status" }, "connecting"), pause, clear)), h("p", { id: "live-lagged", class: "warn-text", role: "status" }), h("div", { class: "table-wrap" }, h("table", { class: "grid", "data-test": "live-table" }, h("thead", null, h("tr", null, ...["Time", "Status", "Route", "Provider", "Model", "Key", "Latency", "Tokens in/out", "Cost", "Cache", "Retries", "Trace id"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", { id: "live-rows" }))), h("p", { id: "live-empty", class: "muted pad" }, "Waiting for requests… Each request the gateway completes appears here."));
}
const LOG_FILTERS = [
    ["trace_id", "Trace id", "e.g. 5f0c…"],
    ["model", "Model", "asked or sent"],
    ["provider", "Provider", "openai"],
    ["key_id", "Key id", "key_…"],
    ["team_id", "Team id", "team_…"],
    ["status", "Status", "503 or 5xx"],
    ["error", "Error label", "upstream_error"],
    ["since", "Since", "15m, 2h, 7d or unix ms"],
    ["until", "Until", "unix ms or 1h"],
];
const logsState = {
    filter: {},
    next: null,
};
function renderLogsView() {
    const view = byId("view-logs");
    if (view.dataset.built) {
        void loadLogs(false);
        return;
    }
    view.dataset.built = "1";
    const form = h("form", { class: "filters", "data-test": "logs-filter", "aria-label": "Filter the request log" });
    for (const [name, label, ph] of LOG_FILTERS) {
        const id = `logs-f-${name}`;
        form.appendChild(h("label", { for: id }, label, h("input", { id, name, type: "text", placeholder: ph, autocomplete: "off", spellcheck: "false", "data-test": `logs-filter-${name}` })));
    }
    form.appendChild(h("label", { for: "logs-f-limit" }, "Rows", h("select", { id: "logs-f-limit", name: "limit", "data-test": "logs-filter-limit" }, ...["50", "100", "250", "1000"].map((v) => h("option", { value: v, selected: v === "100" }, v)))));
    const reset = h("button", { type: "button", "data-test": "logs-reset" }, "Reset");
    form.appendChild(h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary", "data-test": "logs-search" }, "Search"), reset));
    form.addEventListener("submit", (e) => {
        e.preventDefault();
        const data = new FormData(form);
        logsState.filter = {};
        for (const [k, v] of data.entries())
            if (typeof v === "string" && v.trim())
                logsState.filter[k] = v.trim();
        void loadLogs(false);
    });
    reset.addEventListener("click", () => {
        form.reset();
        logsState.filter = {};
        void loadLogs(false);
    });
    const older = h("button", { type: "button", id: "logs-older", "data-test": "logs-older", hidden: true }, "Older →");
    older.addEventListener("click", () => void loadLogs(true));
    fill(view, h("header", { class: "view-head" }, h("h1", null, "Request log")), form, h("p", { id: "logs-error", class: "error", role: "alert" }), h("div", { class: "table-wrap" }, h("table", { class: "grid", "data-test": "logs-table" }, h("thead", null, h("tr", null, ...["Time", "Status", "Route", "Provider", "Model", "Key", "Latency", "Overhead", "Tokens in/out", "Cost", "Cache", "Tries", "Trace id"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", { id: "logs-rows" }))), h("div", { class: "pager" }, h("span", { id: "logs-count", class: "muted", "data-test": "logs-count" }), older));
    void loadLogs(false);
}
async function loadLogs(more) {
    const body = byId("logs-rows");
    const err = byId("logs-error");
    const older = byId("logs-older");
    err.textContent = "";
    const params = { ...logsState.filter };
    if (more && logsState.next)
        params.before = logsState.next;
    older.disabled = true;
    try {
        const page = await api.logs(params);
        if (!more)
            body.replaceChildren();
        for (const row of page.data)
            body.appendChild(logRow(row));
        logsState.next = page.next;
        older.hidden = !page.next;
        const n = body.children.length;
        byId("logs-count").textContent = n ? `${fmtInt(n)} request${n === 1 ? "" : "s"} shown` : "No request matches.";
    }
    catch (e) {
        err.textContent = e instanceof Error ? e.message : String(e);
    }
    finally {
        older.disabled = false;
    }
}
function logRow(row) {
    const tokens = row.input_tokens === null && row.output_tokens === null ? "–" : `${fmtInt(row.input_tokens)} / ${fmtInt(row.output_tokens)}`;
    const tr = h("tr", { class: "clickable", tabindex: 0, "data-test": "logs-row", "data-trace": row.trace_id, title: "Open the timeline" }, h("td", { class: "mono" }, fmtDateTime(row.time)), h("td", null, statusBadge(row.status, row.error), row.error ? h("span", { class: "small muted" }, ` ${row.error}`) : null), h("td", null, row.route ?? "–"), h("td", null, row.provider ?? "–"), h("td", { class: "mono" }, row.model_sent ?? row.model ?? "–"), h("td", { class: "trunc", title: row.key_id ?? "" }, row.key_id ?? "–"), h("td", { class: "num" }, fmtMs(row.latency_ms)), h("td", { class: "num" }, fmtMs(row.overhead_ms)), h("td", { class: "num" }, tokens), h("td", { class: "num" }, fmtUsd(row.cost_usd)), h("td", null, row.cache_status), h("td", { class: "num" }, String(row.attempts)), h("td", { class: "mono small trunc", title: row.trace_id }, row.trace_id));
    const open = () => { renderTimeline(row); };
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter")
        open(); });
    return tr;
}
const WINDOWS = [
    ["1h", "Last hour", "minute"],
    ["6h", "Last 6 hours", "minute"],
    ["24h", "Last 24 hours", "hour"],
    ["7d", "Last 7 days", "hour"],
    ["30d", "Last 30 days", "day"],
];
function select(id, label, options, value) {
    return h("label", { for: id }, label, h("select", { id, name: id, "data-test": id }, ...options.map(([v, t]) => h("option", { value: v, selected: v === value }, t))));
}
function renderChartsView() {
    const view = byId("view-charts");
    if (view.dataset.built) {
        void loadCharts();
        return;
    }
    view.dataset.built = "1";
    const form = h("form", { class: "filters inline", "data-test": "charts-form", "aria-label": "Chart window" }, select("charts-window", "Window", WINDOWS.map(([v, t]) => [v, t]), "1h"), select("charts-bucket", "Bucket", [["minute", "Minute"], ["hour", "Hour"], ["day", "Day"]], "minute"), select("charts-group", "Group by", [["provider", "Provider"], ["model", "Model"], ["key", "Key"]], "provider"), h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary", "data-test": "charts-refresh" }, "Refresh")));
    form.addEventListener("submit", (e) => { e.preventDefault(); void loadCharts(); });
    byIdIn(form, "charts-window").addEventListener("change", (e) => {
        const w = WINDOWS.find(([v]) => v === e.target.value);
        if (w)
            byIdIn(form, "charts-bucket").value = w[2];
        void loadCharts();
    });
    byIdIn(form, "charts-bucket").addEventListener("change", () => void loadCharts());
    byIdIn(form, "charts-group").addEventListener("change", () => void loadCharts());
    fill(view, h("header", { class: "view-head" }, h("h1", null, "Charts")), form, h("p", { id: "charts-error", class: "error", role: "alert" }), h("div", { id: "charts-tiles", class: "tiles", "data-test": "charts-tiles" }), h("div", { id: "charts-grid", class: "chart-grid", "data-test": "charts" }));
    void loadCharts();
}
function byIdIn(root, id) {
    const el = root.querySelector(`#${id}`);
    if (!el)
        throw new Error(`#${id} missing`);
    return el;
}
function value(id) {
    return byId(id).value;
}
async function loadCharts() {
    const since = value("charts-window");
    const bucket = value("charts-bucket");
    const group = value("charts-group");
    const err = byId("charts-error");
    err.textContent = "";
    let data;
    let rows = [];
    try {
        [data, rows] = await Promise.all([
            api.analytics({ bucket, group_by: group, since }),
            api.logs({ since, limit: 1000 }).then((p) => p.data, () => []),
        ]);
    }
    catch (e) {
        err.textContent = e instanceof Error ? e.message : String(e);
        return;
    }
    const step = bucket === "minute" ? 60000 : bucket === "hour" ? 3600000 : 86400000;
    let xs = [];
    if (Number.isFinite(data.since) && Number.isFinite(data.until)) {
        for (let t = Math.floor(data.since / step) * step; t < data.until && xs.length < 2000; t += step)
            xs.push(t);
    }
    if (!xs.length)
        xs = [...new Set(data.data.map((r) => r.time))].sort((a, b) => a - b);
    const groups = [...new Set(data.data.map((r) => r.group ?? "(none)"))].sort();
    const per = (f, name = (g) => g, dashed = false) => groups.map((g) => ({
        name: name(g),
        dashed,
        points: data.data.filter((r) => (r.group ?? "(none)") === g).map((r) => ({ x: r.time, y: f(r) })),
    }));
    const xf = (x) => fmtBucket(x, bucket);
    const int = (y) => (y >= 1000 ? `${(y / 1000).toFixed(y >= 10000 ? 0 : 1)}k` : String(Math.round(y * 100) / 100));
    const usd = (y) => (y === 0 ? "$0" : y < 0.01 ? `$${Number(y.toPrecision(2))}` : `$${y.toFixed(2)}`);
    const ms = (y) => fmtMs(y);
    tiles(data.data, rows);
    const latency = [
        ...per((r) => r.p50_ms, (g) => `${g} p50`),
        ...per((r) => r.p95_ms, (g) => `${g} p95`, true),
    ].map((se, i) => ({ ...se, color: PALETTE[(i % groups.length) % PALETTE.length] }));
    fill(byId("charts-grid"), barChart({ title: "Traffic (requests)", testId: "chart-requests", series: per((r) => r.requests), xs, xFormat: xf, yFormat: int }), lineChart({ title: "Latency (p50 solid, p95 dashed)", testId: "chart-latency", series: latency, xs, xFormat: xf, yFormat: ms }), barChart({ title: "Errors", testId: "chart-errors", series: per((r) => r.errors), xs, xFormat: xf, yFormat: int }), lineChart({ title: "Cost (USD)", testId: "chart-cost", series: per((r) => r.cost_usd), xs, xFormat: xf, yFormat: usd }), barChart({ title: "Tokens (input + output)", testId: "chart-tokens", series: per((r) => r.input_tokens + r.output_tokens), xs, xFormat: xf, yFormat: int }), cacheChart(rows, group));
}
function groupOf(row, group) {
    if (group === "model")
        return row.model_sent ?? row.model ?? "(none)";
    if (group === "key")
        return row.key_id ?? "(none)";
    return row.provider ?? "(none)";
}
function isHit(status) {
    return status === "HIT" || status === "SEMANTIC HIT";
}
function cacheChart(rows, group) {
    const by = new Map();
    for (const r of rows) {
        if (r.cache_status === "DISABLED")
            continue;
        const g = groupOf(r, group);
        const c = by.get(g) ?? { hits: 0, n: 0 };
        c.n++;
        if (isHit(r.cache_status))
            c.hits++;
        by.set(g, c);
    }
    const items = [...by.entries()].sort().map(([label, c]) => ({
        label,
        value: c.hits,
        max: c.n,
        note: `${((100 * c.hits) / c.n).toFixed(1)}% (${c.hits}/${c.n})`,
    }));
    const title = rows.length >= 1000 ? "Cache hit rate (latest 1000 requests)" : "Cache hit rate";
    const fig = hbarChart(title, "chart-cache", items);
    if (!items.length && rows.length) {
        fig.querySelector("p").textContent = "Caching was off for every request in this window.";
    }
    return fig;
}
function tiles(data, rows) {
    const requests = data.reduce((a, r) => a + r.requests, 0);
    const errors = data.reduce((a, r) => a + r.errors, 0);
    const cost = data.reduce((a, r) => a + r.cost_usd, 0);
    const tokens = data.reduce((a, r) => a + r.input_tokens + r.output_tokens, 0);
    const lat = rows.map((r) => r.latency_ms).sort((a, b) => a - b);
    const p95 = lat.length ? lat[Math.min(lat.length - 1, Math.ceil(0.95 * lat.length) - 1)] : null;
    const cached = rows.filter((r) => r.cache_status !== "DISABLED");
    const hitRate = cached.length ? `${((100 * cached.filter((r) => isHit(r.cache_status)).length) / cached.length).toFixed(1)}%` : "–";
    const tile = (label, v, test) => h("div", { class: "tile", "data-test": test }, h("div", { class: "tile-label" }, label), h("div", { class: "tile-value" }, v));
    fill(byId("charts-tiles"), tile("Requests", fmtInt(requests), "tile-requests"), tile("Error rate", requests ? `${((100 * errors) / requests).toFixed(1)}%` : "–", "tile-errors"), tile("p95 latency", fmtMs(p95), "tile-p95"), tile("Tokens", fmtInt(tokens), "tile-tokens"), tile("Cost", fmtUsd(cost), "tile-cost"), tile("Cache hit rate", hitRate, "tile-cache"));
}
function periodStart(reset, now = new Date()) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    if (reset === "daily")
        return d.toISOString().slice(0, 10);
    if (reset === "weekly") {
        const dow = (d.getUTCDay() + 6) % 7;
        d.setUTCDate(d.getUTCDate() - dow);
        return d.toISOString().slice(0, 10);
    }
    if (reset === "monthly")
        return `${d.toISOString().slice(0, 7)}-01`;
    return null;
}
function spent(o, usage) {
    const lim = o.settings.usage_limits ?? {};
    const from = periodStart(lim.periodic_reset);
    const byDay = new Map();
    let total = 0;
    for (const u of usage) {
        if (u.scope !== o.scope || u.id !== o.id)
            continue;
        if (from && u.period < from)
            continue;
        const v = lim.type === "tokens" ? u.input_tokens + u.output_tokens : u.cost_usd;
        total += v;
        byDay.set(u.period, (byDay.get(u.period) ?? 0) + v);
    }
    return { total, byDay };
}
function budgetText(l) {
    if (!l || l.credit_limit === undefined)
        return "–";
    const amount = l.type === "tokens" ? `${fmtInt(l.credit_limit)} tokens` : fmtUsd(l.credit_limit);
    return `${amount} ${l.periodic_reset ?? "total"}`;
}
function burnBar(o, usage) {
    const l = o.settings.usage_limits;
    if (!l || !l.credit_limit)
        return h("span", { class: "muted" }, "no budget");
    const { total } = spent(o, usage);
    const frac = Math.min(1, total / l.credit_limit);
    const alert = l.alert_threshold !== undefined && total >= l.alert_threshold;
    const cls = frac >= 1 ? "bad" : alert ? "warn" : "ok";
    const fmt = (v) => (l.type === "tokens" ? fmtInt(v) : fmtUsd(v));
    const W = 160;
    const svg = s("svg", { viewBox: `0 0 ${W} 10`, width: W, height: 10, class: "burn", role: "img", "aria-label": `${fmt(total)} of ${fmt(l.credit_limit)} spent` }, s("rect", { x: 0, y: 0, width: W, height: 10, rx: 3, class: "track" }), s("rect", { x: 0, y: 0, width: (frac * W).toFixed(1), height: 10, rx: 3, class: `fill ${cls}` }, s("title", null, `${fmt(total)} of ${fmt(l.credit_limit)} this period (${(frac * 100).toFixed(1)}%)`)));
    if (l.alert_threshold !== undefined && l.alert_threshold < l.credit_limit) {
        const x = ((l.alert_threshold / l.credit_limit) * W).toFixed(1);
        svg.appendChild(s("line", { x1: x, x2: x, y1: 0, y2: 10, class: "threshold" }, s("title", null, `alert at ${fmt(l.alert_threshold)}`)));
    }
    return h("div", { class: "burn-cell", "data-test": `burn-${o.id}` }, svg, h("span", { class: "small" }, `${fmt(total)} / ${fmt(l.credit_limit)}`));
}
function burnChart(o, usage) {
    const l = o.settings.usage_limits ?? {};
    const { byDay } = spent(o, usage);
    const days = [...byDay.keys()].sort();
    const start = periodStart(l.periodic_reset);
    const first = start ?? days[0] ?? new Date().toISOString().slice(0, 10);
    const xs = [];
    const today = Date.parse(new Date().toISOString().slice(0, 10));
    for (let t = Date.parse(first); t <= today && xs.length < 400; t += 86400000)
        xs.push(t);
    let left = l.credit_limit ?? 0;
    const points = xs.map((x) => {
        left -= byDay.get(new Date(x).toISOString().slice(0, 10)) ?? 0;
        return { x, y: Math.max(0, left) };
    });
    const fmt = (v) => (l.type === "tokens" ? fmtInt(v) : fmtUsd(v));
    return lineChart({
        title: `Budget left — ${o.scope} ${o.name} (${budgetText(l)})`,
        testId: "chart-burndown",
        series: [{ name: "left", points }],
        xs,
        xFormat: (x) => new Date(x).toISOString().slice(5, 10),
        yFormat: fmt,
        height: 180,
    });
}
function limitsText(st) {
    const rl = (st.rate_limits ?? []).map((r) => `${fmtInt(r.value)} ${r.type === "tokens" ? "tok" : "req"}/${r.unit.replace(/^r|^t/, "")}`);
    return rl.length ? rl.join(", ") : "–";
}
function accessText(st) {
    const parts = [];
    if (st.models?.length)
        parts.push(`models ${st.models.join(", ")}`);
    if (st.providers?.length)
        parts.push(`providers ${st.providers.join(", ")}`);
    if (st.routes?.length)
        parts.push(`routes ${st.routes.join(", ")}`);
    return parts.length ? parts.join("; ") : "any";
}
async function renderKeysView() {
    const view = byId("view-keys");
    const err = h("p", { class: "error", role: "alert", "data-test": "keys-error" });
    const created = h("div", { id: "new-key", "data-test": "new-key-box" });
    const burn = h("div", { id: "burn-chart" });
    if (!view.dataset.built) {
        view.dataset.built = "1";
        fill(view, h("header", { class: "view-head" }, h("h1", null, "Keys, teams and budgets")), h("div", { id: "keys-body" }, "Loading…"));
    }
    let keys, teams, usage;
    try {
        [keys, teams, usage] = await Promise.all([api.keys().then((r) => r.data), api.teams().then((r) => r.data), api.usage().then((r) => r.data)]);
    }
    catch (e) {
        fill(byId("keys-body"), h("p", { class: "error" }, e instanceof Error ? e.message : String(e)));
        return;
    }
    const teamName = new Map(teams.map((t) => [t.id, t.name]));
    const now = Date.now() / 1000;
    const keyRows = keys.map((k) => {
        const o = { scope: "key", id: k.id, name: k.name, settings: k.settings ?? {} };
        const state = k.revoked ? ["revoked", "bad"] : k.expires_at && k.expires_at < now ? ["expired", "warn"] : ["active", "ok"];
        const revoke = k.revoked ? null : h("button", { type: "button", class: "small-btn", "data-test": "key-revoke", "aria-label": `Revoke ${k.name}` }, "Revoke");
        revoke?.addEventListener("click", async () => {
            if (!confirm(`Revoke the key ${k.name} (${k.id})? Its requests will be refused.`))
                return;
            try {
                await api.revokeKey(k.id);
                void renderKeysView();
            }
            catch (e) {
                err.textContent = e instanceof Error ? e.message : String(e);
            }
        });
        const tr = h("tr", { "data-test": "key-row", "data-id": k.id, class: "clickable", title: "Show the budget's burn-down" }, h("td", null, k.name), h("td", { class: "mono small" }, k.id), h("td", null, k.team_id ? teamName.get(k.team_id) ?? k.team_id : "–"), h("td", null, h("span", { class: `badge ${state[1]}` }, state[0])), h("td", { class: "small" }, accessText(o.settings)), h("td", null, limitsText(o.settings)), h("td", null, budgetText(o.settings.usage_limits)), h("td", null, burnBar(o, usage)), h("td", { title: fmtDateTime(k.created_at * 1000) }, fmtDateTime(k.created_at * 1000).slice(0, 10)), h("td", null, revoke));
        tr.addEventListener("click", (e) => { if (!(e.target instanceof HTMLButtonElement))
            fill(burn, burnChart(o, usage)); });
        return tr;
    });
    const teamRows = teams.map((t) => {
        const o = { scope: "team", id: t.id, name: t.name, settings: t.settings ?? {} };
        const tr = h("tr", { "data-test": "team-row", class: "clickable" }, h("td", null, t.name), h("td", { class: "mono small" }, t.id), h("td", null, String(keys.filter((k) => k.team_id === t.id && !k.revoked).length)), h("td", { class: "small" }, accessText(o.settings)), h("td", null, limitsText(o.settings)), h("td", null, budgetText(o.settings.usage_limits)), h("td", null, burnBar(o, usage)));
        tr.addEventListener("click", () => fill(burn, burnChart(o, usage)));
        return tr;
    });
    const table = (head, rows, test, none) => rows.length
        ? h("div", { class: "table-wrap" }, h("table", { class: "grid", "data-test": test }, h("thead", null, h("tr", null, ...head.map((c) => h("th", { scope: "col" }, c)))), h("tbody", null, ...rows)))
        : h("p", { class: "muted", "data-test": test }, none);
    fill(byId("keys-body"), err, createForm(teams, err), created, h("h2", null, "Gateway keys"), table(["Name", "Id", "Team", "State", "Access", "Rate limits", "Budget", "Spent this period", "Created", ""], keyRows, "keys-table", "No gateway keys yet."), h("h2", null, "Teams"), table(["Name", "Id", "Keys", "Access", "Rate limits", "Budget", "Spent this period"], teamRows, "teams-table", "No teams."), burn);
    const withBudget = [...keys.filter((k) => !k.revoked).map((k) => ({ scope: "key", id: k.id, name: k.name, settings: k.settings ?? {} }))]
        .find((o) => o.settings.usage_limits?.credit_limit);
    if (withBudget)
        fill(burn, burnChart(withBudget, usage));
}
function createForm(teams, err) {
    const form = h("form", { class: "filters inline", "data-test": "key-create-form", "aria-label": "Create a gateway key" }, h("label", { for: "key-name" }, "Name", h("input", { id: "key-name", name: "name", required: true, autocomplete: "off", "data-test": "key-name" })), h("label", { for: "key-team" }, "Team", h("select", { id: "key-team", name: "team_id" }, h("option", { value: "" }, "none"), ...teams.map((t) => h("option", { value: t.id }, t.name)))), h("label", { for: "key-models" }, "Models", h("input", { id: "key-models", name: "models", placeholder: "any (globs, comma-separated)", autocomplete: "off" })), h("label", { for: "key-budget" }, "Budget USD", h("input", { id: "key-budget", name: "budget", type: "number", min: "0", step: "any", placeholder: "none" })), h("label", { for: "key-reset" }, "Resets", h("select", { id: "key-reset", name: "reset" }, ...[["monthly", "monthly"], ["weekly", "weekly"], ["daily", "daily"], ["", "never"]].map(([v, t]) => h("option", { value: v }, t)))), h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary", "data-test": "key-create" }, "Create key")));
    form.addEventListener("submit", async (e) => {
        e.preventDefault();
        err.textContent = "";
        const f = new FormData(form);
        const body = { name: String(f.get("name") ?? "").trim() };
        const team = String(f.get("team_id") ?? "");
        if (team)
            body.team_id = team;
        const models = String(f.get("models") ?? "").split(",").map((m) => m.trim()).filter(Boolean);
        if (models.length)
            body.models = models;
        const budget = Number(f.get("budget") || 0);
        if (budget > 0) {
            const reset = String(f.get("reset") ?? "");
            body.usage_limits = reset ? { type: "cost", credit_limit: budget, periodic_reset: reset } : { type: "cost", credit_limit: budget };
        }
        try {
            const k = await api.createKey(body);
            await renderKeysView();
            const text = k.key ?? "";
            const copy = h("button", { type: "button", class: "small-btn" }, "Copy");
            copy.addEventListener("click", async () => { copy.textContent = (await copyText(text)) ? "Copied" : "Select and copy"; });
            fill(byId("new-key"), h("div", { class: "callout", role: "status" }, h("strong", null, `Key ${k.name} created. `), "Copy it now: it is not shown again. ", h("code", { "data-test": "new-key" }, text), " ", copy));
        }
        catch (e2) {
            err.textContent = e2 instanceof Error ? e2.message : String(e2);
        }
    });
    return form;
}
let circuitsTimer;
function stopCircuits() {
    if (circuitsTimer !== undefined)
        window.clearInterval(circuitsTimer);
    circuitsTimer = undefined;
}
function renderCircuitsView() {
    const view = byId("view-circuits");
    if (!view.dataset.built) {
        view.dataset.built = "1";
        const refresh = h("button", { type: "button", "data-test": "circuits-refresh" }, "Refresh");
        refresh.addEventListener("click", () => void loadCircuits());
        fill(view, h("header", { class: "view-head" }, h("h1", null, "Circuit breakers"), h("div", { class: "toolbar" }, h("span", { id: "circuits-updated", class: "muted small" }), refresh)), h("p", { class: "muted" }, "A target's circuit opens after consecutive failures and sends it no traffic until a probe succeeds. Refreshed every 5 seconds."), h("div", { id: "circuits-body", "data-test": "circuits" }, "Loading…"));
    }
    void loadCircuits();
    stopCircuits();
    circuitsTimer = window.setInterval(() => {
        if (byId("view-circuits").hidden)
            stopCircuits();
        else
            void loadCircuits();
    }, 5000);
}
const STATE_LABEL = {
    closed: ["closed", "ok"],
    open: ["open", "bad"],
    half_open: ["half open", "warn"],
};
async function loadCircuits() {
    const body = byId("circuits-body");
    let c;
    try {
        c = await api.circuits();
    }
    catch (e) {
        fill(body, h("p", { class: "error" }, e instanceof Error ? e.message : String(e)));
        return;
    }
    byId("circuits-updated").textContent = `updated ${fmtClock(Date.now())}`;
    if (!c.enabled) {
        fill(body, h("p", { class: "callout", "data-test": "circuits-off" }, "Circuit breaking is off on this gateway (server.circuit_breaker.enabled: false)."));
        return;
    }
    if (!c.data.length) {
        fill(body, h("p", { class: "muted", "data-test": "circuits-empty" }, "No target has been called yet: circuits appear after a target's first request."));
        return;
    }
    const order = { open: 0, half_open: 1, closed: 2 };
    const rows = [...c.data].sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3) || a.target.localeCompare(b.target));
    const counts = rows.reduce((m, r) => ({ ...m, [r.state]: (m[r.state] ?? 0) + 1 }), {});
    fill(body, h("div", { class: "tiles" }, ...["closed", "half_open", "open"].map((st) => h("div", { class: `tile ${STATE_LABEL[st][1]}` }, h("div", { class: "tile-label" }, STATE_LABEL[st][0]), h("div", { class: "tile-value" }, String(counts[st] ?? 0))))), h("div", { class: "table-wrap" }, h("table", { class: "grid", "data-test": "circuits-table" }, h("thead", null, h("tr", null, ...["Target", "Provider", "State", "Consecutive failures", "Open for"].map((t) => h("th", { scope: "col" }, t)))), h("tbody", null, ...rows.map((r) => {
        const [label, cls] = STATE_LABEL[r.state] ?? [r.state, "plain"];
        return h("tr", { "data-test": "circuit-row" }, h("td", { class: "mono" }, r.target), h("td", null, r.provider), h("td", null, h("span", { class: `badge ${cls}` }, label)), h("td", { class: "num" }, fmtInt(r.failures)), h("td", { class: "num" }, r.open_for_ms ? fmtMs(r.open_for_ms) : "–"));
    })))));
}
let tryInfo = null;
function shellQuote(s) {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}
function snippets(req) {
    const origin = window.location.origin;
    const body = { model: req.model || "MODEL", messages: [{ role: "user", content: req.prompt || "Hello!" }] };
    const headerLine = req.provider ? `  -H ${shellQuote(`x-portkey-provider: ${req.provider}`)} \\\n` : "";
    const curl = `curl ${origin}/v1/chat/completions \\\n` +
        `  -H "Authorization: Bearer $SWITCHYARD_KEY" \\\n` +
        headerLine +
        `  -H 'content-type: application/json' \\\n` +
        `  -d ${shellQuote(JSON.stringify(body))}`;
    const py = (v) => JSON.stringify(v);
    const python = [
        "import os",
        "from openai import OpenAI",
        "",
        "client = OpenAI(",
        `    base_url=${py(`${origin}/v1`)},`,
        `    api_key=os.environ["SWITCHYARD_KEY"],`,
        ...(req.provider ? [`    default_headers={"x-portkey-provider": ${py(req.provider)}},`] : []),
        ")",
        "r = client.chat.completions.create(",
        `    model=${py(body.model)},`,
        `    messages=[{"role": "user", "content": ${py(body.messages[0].content)}}],`,
        ")",
        "print(r.choices[0].message.content)",
    ].join("\n");
    const node = [
        'import OpenAI from "openai";',
        "",
        "const client = new OpenAI({",
        `  baseURL: ${py(`${origin}/v1`)},`,
        "  apiKey: process.env.SWITCHYARD_KEY,",
        ...(req.provider ? [`  defaultHeaders: { "x-portkey-provider": ${py(req.provider)} },`] : []),
        "});",
        "const r = await client.chat.completions.create({",
        `  model: ${py(body.model)},`,
        `  messages: [{ role: "user", content: ${py(body.messages[0].content)} }],`,
        "});",
        "console.log(r.choices[0].message.content);",
    ].join("\n");
    return { curl, python, node };
}
function current() {
    return {
        model: byId("tryit-model").value.trim(),
        prompt: byId("tryit-prompt").value,
        provider: byId("tryit-provider").value,
    };
}
function updateSnippets() {
    const sn = snippets(current());
    byId("snippet-curl").textContent = sn.curl;
    byId("snippet-python").textContent = sn.python;
    byId("snippet-node").textContent = sn.node;
}
function snippetBlock(id, label) {
    const copy = h("button", { type: "button", class: "small-btn", "data-test": `copy-${id}`, "aria-label": `Copy the ${label} snippet` }, "Copy");
    copy.addEventListener("click", async () => {
        const ok = await copyText(byId(id).textContent ?? "");
        copy.textContent = ok ? "Copied" : "Select and copy";
        setTimeout(() => (copy.textContent = "Copy"), 1500);
    });
    return h("div", { class: "snippet" }, h("div", { class: "snippet-head" }, h("span", null, label), copy), h("pre", { id, "data-test": id, tabindex: 0 }));
}
async function renderTryItView() {
    const view = byId("view-tryit");
    if (view.dataset.built)
        return;
    view.dataset.built = "1";
    const models = h("datalist", { id: "tryit-models" });
    const providers = h("select", { id: "tryit-provider", name: "provider", "data-test": "tryit-provider" }, h("option", { value: "" }, "— (a gateway key, or a route / provider/model)"));
    const form = h("form", { class: "tryit-form", "data-test": "tryit-form", "aria-label": "Send a chat request" }, h("label", { for: "tryit-key" }, "Gateway key (or provider key)", h("input", { id: "tryit-key", type: "password", autocomplete: "off", placeholder: "sy-… — kept in this page's memory only", "data-test": "tryit-key" })), h("label", { for: "tryit-provider" }, "Provider (x-portkey-provider, with a provider key)", providers), h("label", { for: "tryit-model" }, "Model or route", h("input", { id: "tryit-model", list: "tryit-models", required: true, autocomplete: "off", placeholder: "a route name or provider/model", "data-test": "tryit-model" })), models, h("label", { for: "tryit-prompt" }, "Prompt", h("textarea", { id: "tryit-prompt", rows: 4, "data-test": "tryit-prompt" }, "Say hello in five words.")), h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary", "data-test": "tryit-send" }, "Send")));
    form.addEventListener("input", updateSnippets);
    form.addEventListener("change", updateSnippets);
    form.addEventListener("submit", (e) => { e.preventDefault(); void send(); });
    fill(view, h("header", { class: "view-head" }, h("h1", null, "Try it")), h("div", { class: "two-col" }, h("div", null, form, h("div", { id: "tryit-result", "data-test": "tryit-result", role: "status", "aria-live": "polite" })), h("div", null, h("p", { class: "muted small" }, "The same request from your code. Set SWITCHYARD_KEY in your environment: the snippets never hold a key."), snippetBlock("snippet-curl", "curl"), snippetBlock("snippet-python", "Python (openai)"), snippetBlock("snippet-node", "Node (openai)"))));
    try {
        tryInfo = tryInfo ?? (await api.info());
        for (const r of tryInfo.routes ?? []) {
            models.appendChild(h("option", { value: r.name }, `route ${r.name}`));
            for (const m of r.models ?? [])
                if (m !== r.name)
                    models.appendChild(h("option", { value: m }, `${r.name}: ${m}`));
        }
        for (const p of tryInfo.providers ?? [])
            providers.appendChild(h("option", { value: p }, p));
        const first = tryInfo.routes?.[0];
        const model = byId("tryit-model");
        if (first && !model.value)
            model.value = first.name;
    }
    catch {
    }
    updateSnippets();
}
async function send() {
    const out = byId("tryit-result");
    const req = current();
    const key = byId("tryit-key").value.trim();
    const headers = { "content-type": "application/json" };
    if (key)
        headers.authorization = `Bearer ${key}`;
    if (req.provider)
        headers["x-portkey-provider"] = req.provider;
    fill(out, h("p", { class: "muted" }, "Sending…"));
    const t0 = performance.now();
    let r;
    try {
        r = await fetch("/v1/chat/completions", {
            method: "POST",
            credentials: "omit",
            headers,
            body: JSON.stringify({ model: req.model, messages: [{ role: "user", content: req.prompt }] }),
        });
    }
    catch (e) {
        fill(out, h("p", { class: "error" }, `network error: ${e instanceof Error ? e.message : String(e)}`));
        return;
    }
    const ms = performance.now() - t0;
    const trace = r.headers.get("x-portkey-trace-id");
    let body = {};
    try {
        body = await r.json();
    }
    catch { }
    const meta = h("p", { class: "small muted" }, statusBadge(r.status), ` ${fmtMs(ms)}`, body.usage ? ` · ${fmtInt(body.usage.prompt_tokens)} in / ${fmtInt(body.usage.completion_tokens)} out` : "", r.headers.get("x-portkey-provider") ? ` · ${r.headers.get("x-portkey-provider")}` : "");
    if (trace) {
        const open = h("button", { type: "button", class: "link", "data-test": "tryit-timeline" }, "timeline");
        open.addEventListener("click", () => void openTimelineByTrace(trace));
        meta.append(" · trace ", h("code", null, trace), " ", open);
    }
    if (r.ok) {
        fill(out, meta, h("div", { class: "answer", "data-test": "tryit-answer" }, body.choices?.[0]?.message?.content ?? "(no text)"));
    }
    else {
        fill(out, meta, h("p", { class: "error", "data-test": "tryit-error" }, body.error?.message ?? `HTTP ${r.status}`));
    }
}
const VIEWS = {
    live: renderLiveView,
    logs: renderLogsView,
    charts: renderChartsView,
    keys: renderKeysView,
    circuits: renderCircuitsView,
    tryit: renderTryItView,
};
function showLogin(message) {
    document.body.dataset.auth = "0";
    stopLive();
    stopCircuits();
    closeTimeline();
    byId("app").hidden = true;
    byId("login").hidden = false;
    byId("login-error").textContent = message ?? "";
    const input = byId("login-key");
    input.value = "";
    input.focus();
}
function showApp() {
    document.body.dataset.auth = "1";
    byId("login").hidden = true;
    byId("app").hidden = false;
    renderLiveView();
    startLive();
    route();
    api.info().then((info) => {
        byId("version").textContent = `v${info.version}`;
        tryInfo = info;
    }, () => { });
}
function route() {
    if (document.body.dataset.auth !== "1")
        return;
    const name = location.hash.replace(/^#/, "") || "live";
    const view = VIEWS[name] ? name : "live";
    for (const v of Object.keys(VIEWS)) {
        byId(`view-${v}`).hidden = v !== view;
        const link = byId(`nav-${v}`);
        if (v === view)
            link.setAttribute("aria-current", "page");
        else
            link.removeAttribute("aria-current");
    }
    if (view !== "circuits")
        stopCircuits();
    void VIEWS[view]();
}
async function login(e) {
    e.preventDefault();
    const input = byId("login-key");
    const err = byId("login-error");
    const button = byId("login-submit");
    err.textContent = "";
    button.disabled = true;
    try {
        await api.login(input.value.trim());
        input.value = "";
        showApp();
    }
    catch (ex) {
        err.textContent = ex instanceof Error ? ex.message : String(ex);
        input.select();
    }
    finally {
        button.disabled = false;
    }
}
async function logout() {
    try {
        await api.logout();
    }
    catch {
    }
    for (const v of Object.keys(VIEWS)) {
        const el = byId(`view-${v}`);
        el.replaceChildren();
        delete el.dataset.built;
    }
    showLogin("Signed out.");
}
function boot() {
    setUnauthorizedHandler(() => {
        if (document.body.dataset.auth !== "0")
            showLogin("Your session has ended: sign in again.");
    });
    byId("login-form").addEventListener("submit", (e) => void login(e));
    byId("logout").addEventListener("click", () => void logout());
    window.addEventListener("hashchange", route);
    document.addEventListener("keydown", (e) => {
        if (e.key === "Escape" && !byId("timeline").hidden)
            closeTimeline();
    });
    api.session().then(() => showApp(), (e) => {
        const msg = e instanceof ApiError && e.status !== 401 ? e.message : undefined;
        showLogin(msg);
    });
}
boot();
