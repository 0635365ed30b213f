// The per-request timeline: a side panel showing one log row — every upstream try as a bar drawn
// to the scale of the request's latency (targets, retries, fallbacks, status or error, elapsed),
// then the cache status, tokens, cost, the gateway's overhead and any guardrail / stream notes.

/** Guardrail statuses: 446 a check denied the request, 246 a check flagged the answer. */
const GUARDRAIL_NOTES: Record<number, string> = {
  446: "refused by a guardrail (446): a deny check failed",
  246: "a guardrail check failed but did not deny (246): the answer is flagged",
};

function closeTimeline(): void {
  const panel = byId("timeline");
  panel.hidden = true;
  panel.replaceChildren();
}

/** Opens the timeline of the request with this trace id, read from /admin/logs (rows are
 * written about a second after the response, so a missing row is asked for again a few times). */
async function openTimelineByTrace(traceId: string, fallback?: LogRow): Promise<void> {
  const panel = byId("timeline");
  panel.hidden = false;
  panel.dataset.trace = traceId;
  if (fallback) renderTimeline(fallback);
  else fill(panel, h("p", { class: "muted pad" }, `Loading ${traceId}…`));
  // Still showing this request (not closed, no other one opened)?
  const current = () => !panel.hidden && panel.dataset.trace === traceId;
  for (let i = 0; i < 5; i++) {
    try {
      const page = await api.logs({ trace_id: traceId, limit: 1 });
      if (page.data.length) {
        if (current()) renderTimeline(page.data[0]);
        return;
      }
    } catch (e) {
      if (!fallback && current()) fill(panel, h("p", { class: "error pad" }, e instanceof Error ? e.message : String(e)));
      return;
    }
    await new Promise((r) => setTimeout(r, 800));
  }
  if (!fallback && current()) fill(panel, h("p", { class: "muted pad" }, `No logged request with trace id ${traceId}.`));
}

function renderTimeline(row: LogRow): void {
  const panel = byId("timeline");
  panel.hidden = false;
  panel.dataset.trace = row.trace_id;
  const close = h("button", { type: "button", class: "icon", "data-test": "timeline-close", "aria-label": "Close the timeline", onclick: () => closeTimeline() }, "×");
  fill(
    panel,
    h("header", { class: "panel-head" },
      h("div", null, h("h2", null, "Request timeline"), h("code", { "data-test": "timeline-trace" }, row.trace_id)),
      close),
    summary(row),
    h("h3", null, "Upstream tries"),
    tries(row),
    h("h3", null, "Outcome"),
    outcome(row),
    notes(row),
    row.request_body ? h("details", null, h("summary", null, "Request body"), h("pre", { class: "body" }, row.request_body)) : null,
  );
  close.focus();
}

function dl(pairs: [string, Node | string][], testId?: string): HTMLElement {
  const list = h("dl", { class: "facts", "data-test": testId ?? null });
  for (const [k, v] of pairs) list.append(h("dt", null, k), h("dd", null, v));
  return list;
}

function summary(row: LogRow): HTMLElement {
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

/** One bar per try, laid end to end (tries run one after another; backoff waits between them
 * are not recorded, so the bars may not fill the whole latency), then the request's total. */
function tries(row: LogRow): HTMLElement {
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
    svg.appendChild(
      s("rect", { x: (label + t0 * scale).toFixed(1), y: y + 4, width: Math.max(2, t.elapsed_ms * scale).toFixed(1), height: rowH - 8, rx: 2, class: ok ? "try ok" : "try bad" },
        s("title", null, `${t.target} (${t.provider}), ${kind}: ${outcomeText}, ${t.elapsed_ms} ms`)),
    );
    t0 += t.elapsed_ms;
    list.appendChild(
      h("li", { "data-test": "timeline-try", class: ok ? "ok" : "bad" },
        h("span", { class: "try-target" }, t.target), " ",
        h("span", { class: "muted" }, `${t.provider} · ${kind}`), " ",
        t.status !== null ? statusBadge(t.status, t.error) : h("span", { class: "badge bad" }, "—"),
        t.error ? ` ${t.error}` : "", " ",
        h("span", { class: "num" }, fmtMs(t.elapsed_ms))),
    );
  });
  const y = row.targets.length * rowH;
  const up = Math.min(row.upstream_ms, row.latency_ms);
  svg.appendChild(s("text", { x: label - 8, y: y + 16, class: "tick strong", "text-anchor": "end" }, "request total"));
  svg.appendChild(s("rect", { x: label, y: y + 4, width: Math.max(2, up * scale).toFixed(1), height: rowH - 8, rx: 2, class: "try upstream" },
    s("title", null, `waiting for upstream heads: ${row.upstream_ms} ms`)));
  svg.appendChild(s("rect", { x: (label + up * scale).toFixed(1), y: y + 4, width: Math.max(1, (row.latency_ms - up) * scale).toFixed(1), height: rowH - 8, rx: 2, class: "try overhead" },
    s("title", null, `gateway overhead and body transfer: ${row.overhead_ms} ms`)));
  // The time axis under the bars.
  const ay = n * rowH + 2;
  svg.appendChild(s("line", { x1: label, x2: W - 10, y1: ay, y2: ay, class: "axis" }));
  for (let i = 0; i <= 4; i++) {
    const x = label + ((W - label - 10) * i) / 4;
    svg.appendChild(s("line", { x1: x, x2: x, y1: ay, y2: ay + 4, class: "axis" }));
    svg.appendChild(s("text", { x, y: ay + 14, class: "tick", "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" }, fmtMs((total * i) / 4)));
  }
  return h("div", null, svg, list);
}

function outcome(row: LogRow): HTMLElement {
  const tokens = `${fmtInt(row.input_tokens)} in · ${fmtInt(row.output_tokens)} out` +
    (row.cached_tokens ? ` · ${fmtInt(row.cached_tokens)} cached` : "");
  return h("div", null,
    dl([
      ["Cache", h("span", { class: `badge ${/HIT/.test(row.cache_status) && !/MISS/.test(row.cache_status) ? "ok" : "plain"}`, "data-test": "timeline-cache" }, row.cache_status)],
      ["Tokens", h("span", { "data-test": "timeline-tokens" }, tokens)],
      ["Cost", h("span", { "data-test": "timeline-cost" }, fmtUsd(row.cost_usd))],
      ["Latency", `${fmtMs(row.latency_ms)} (upstream ${fmtMs(row.upstream_ms)}, overhead ${fmtMs(row.overhead_ms)})`],
      ["Attempts", `${row.attempts} (${row.retries} ${row.retries === 1 ? "retry" : "retries"})`],
    ]));
}

function notes(row: LogRow): HTMLElement | null {
  const out: string[] = [];
  if (GUARDRAIL_NOTES[row.status]) out.push(GUARDRAIL_NOTES[row.status]);
  if (row.stream_error) out.push(`the stream broke after its first byte: ${row.stream_error}`);
  if (row.client_gone) out.push("the client went away before the response ended");
  if (row.error && !GUARDRAIL_NOTES[row.status]) out.push(`error: ${row.error}`);
  if (!out.length) return null;
  return h("ul", { class: "notes", "data-test": "timeline-notes" }, ...out.map((n) => h("li", null, n)));
}
