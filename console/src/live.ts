// The Live view: requests as they complete, from the Server-Sent Events of /admin/live
// (`event: request`, one row each; `event: lagged` when this client fell behind and rows were
// skipped). The newest 200 are kept; a click opens a row's timeline.

const LIVE_MAX = 200;

const live = {
  source: null as EventSource | null,
  rows: [] as LogRow[],
  paused: false,
  lagged: 0,
};

function liveStatus(text: string, cls: string): void {
  const el = byId("live-status");
  el.textContent = text;
  el.className = `pill ${cls}`;
}

/** Opens the stream (once per session). A 401 closes it: main.ts checks the session then. */
function startLive(): void {
  if (live.source) return;
  const es = new EventSource("/admin/live", { withCredentials: true });
  live.source = es;
  liveStatus("connecting", "plain");
  es.onopen = () => liveStatus("live", "ok");
  es.addEventListener("request", (ev) => {
    let row: LogRow;
    try {
      row = JSON.parse((ev as MessageEvent<string>).data) as LogRow;
    } catch {
      return;
    }
    live.rows.unshift(row);
    if (live.rows.length > LIVE_MAX) live.rows.length = LIVE_MAX;
    if (!live.paused) prependLiveRow(row);
  });
  es.addEventListener("lagged", (ev) => {
    let n = 0;
    try {
      n = Number((JSON.parse((ev as MessageEvent<string>).data) as { skipped?: number }).skipped) || 0;
    } catch {
      // unknown shape: count nothing
    }
    live.lagged += n;
    byId("live-lagged").textContent = `${live.lagged ? fmtInt(live.lagged) : "some"} requests were skipped (this page fell behind).`;
  });
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      liveStatus("disconnected", "bad");
      live.source = null;
      // A closed stream is most often an ended session: ask, and reconnect unless it is.
      const retry = () => setTimeout(() => { if (!live.source && document.body.dataset.auth === "1") startLive(); }, 3000);
      api.session().then(retry, (e: unknown) => {
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
          onUnauthorized();
        } else {
          liveStatus("gateway unreachable", "bad");
          retry();
        }
      });
    } else {
      liveStatus("reconnecting", "warn");
    }
  };
}

function stopLive(): void {
  live.source?.close();
  live.source = null;
  live.rows = [];
  const body = document.getElementById("live-rows");
  if (body) body.replaceChildren();
}

function liveRow(row: LogRow): HTMLTableRowElement {
  const tokens = row.input_tokens === null && row.output_tokens === null ? "–" : `${fmtInt(row.input_tokens)} / ${fmtInt(row.output_tokens)}`;
  const tr = h("tr", { class: "clickable", tabindex: 0, "data-test": "live-row", "data-trace": row.trace_id, title: "Open the timeline" },
    h("td", { class: "mono" }, fmtClock(row.time)),
    h("td", null, statusBadge(row.status, row.error)),
    h("td", null, row.route ?? "–"),
    h("td", null, row.provider ?? "–"),
    h("td", { class: "mono" }, row.model_sent ?? row.model ?? "–"),
    h("td", { class: "trunc", title: row.key_id ?? "" }, row.key_id ?? "–"),
    h("td", { class: "num" }, fmtMs(row.latency_ms)),
    h("td", { class: "num" }, tokens),
    h("td", { class: "num" }, fmtUsd(row.cost_usd)),
    h("td", null, row.cache_status),
    h("td", { class: "num" }, row.retries ? String(row.retries) : ""),
    h("td", { class: "mono small trunc", title: row.trace_id }, row.trace_id),
  );
  const open = () => openTimelineByTrace(row.trace_id, row);
  tr.addEventListener("click", open);
  tr.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
  return tr;
}

function prependLiveRow(row: LogRow): void {
  const body = byId("live-rows");
  body.insertBefore(liveRow(row), body.firstChild);
  while (body.children.length > LIVE_MAX) body.lastElementChild?.remove();
  byId("live-empty").hidden = true;
}

function renderLiveView(): void {
  const view = byId("view-live");
  if (view.dataset.built) return;
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
  fill(view,
    h("header", { class: "view-head" },
      h("h1", null, "Live requests"),
      h("div", { class: "toolbar" }, h("span", { id: "live-status", class: "pill plain", "data-test": "live-status", role: "status" }, "connecting"), pause, clear)),
    h("p", { id: "live-lagged", class: "warn-text", role: "status" }),
    h("div", { class: "table-wrap" },
      h("table", { class: "grid", "data-test": "live-table" },
        h("thead", null, h("tr", null, ...["Time", "Status", "Route", "Provider", "Model", "Key", "Latency", "Tokens in/out", "Cost", "Cache", "Retries", "Trace id"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", { id: "live-rows" }))),
    h("p", { id: "live-empty", class: "muted pad" }, "Waiting for requests… Each request the gateway completes appears here."),
  );
}
