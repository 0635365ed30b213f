// The Circuits view: each target's circuit breaker (closed, open, half open), its consecutive
// failures and how long an open circuit stays open; refreshed every 5 s while shown.

let circuitsTimer: number | undefined;

function stopCircuits(): void {
  if (circuitsTimer !== undefined) window.clearInterval(circuitsTimer);
  circuitsTimer = undefined;
}

function renderCircuitsView(): void {
  const view = byId("view-circuits");
  if (!view.dataset.built) {
    view.dataset.built = "1";
    const refresh = h("button", { type: "button", "data-test": "circuits-refresh" }, "Refresh");
    refresh.addEventListener("click", () => void loadCircuits());
    fill(view,
      h("header", { class: "view-head" }, h("h1", null, "Circuit breakers"), h("div", { class: "toolbar" }, h("span", { id: "circuits-updated", class: "muted small" }), refresh)),
      h("p", { class: "muted" }, "A target's circuit opens after consecutive failures and sends it no traffic until a probe succeeds. Refreshed every 5 seconds."),
      h("div", { id: "circuits-body", "data-test": "circuits" }, "Loading…"),
    );
  }
  void loadCircuits();
  stopCircuits();
  circuitsTimer = window.setInterval(() => {
    if (byId("view-circuits").hidden) stopCircuits();
    else void loadCircuits();
  }, 5000);
}

const STATE_LABEL: Record<string, [string, string]> = {
  closed: ["closed", "ok"],
  open: ["open", "bad"],
  half_open: ["half open", "warn"],
};

async function loadCircuits(): Promise<void> {
  const body = byId("circuits-body");
  let c: Circuits;
  try {
    c = await api.circuits();
  } catch (e) {
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
  const order = { open: 0, half_open: 1, closed: 2 } as Record<string, number>;
  const rows = [...c.data].sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3) || a.target.localeCompare(b.target));
  const counts = rows.reduce((m, r) => ({ ...m, [r.state]: (m[r.state] ?? 0) + 1 }), {} as Record<string, number>);
  fill(body,
    h("div", { class: "tiles" },
      ...(["closed", "half_open", "open"] as const).map((st) =>
        h("div", { class: `tile ${STATE_LABEL[st][1]}` }, h("div", { class: "tile-label" }, STATE_LABEL[st][0]), h("div", { class: "tile-value" }, String(counts[st] ?? 0))))),
    h("div", { class: "table-wrap" },
      h("table", { class: "grid", "data-test": "circuits-table" },
        h("thead", null, h("tr", null, ...["Target", "Provider", "State", "Consecutive failures", "Open for"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, ...rows.map((r) => {
          const [label, cls] = STATE_LABEL[r.state] ?? [r.state, "plain"];
          return h("tr", { "data-test": "circuit-row" },
            h("td", { class: "mono" }, r.target), h("td", null, r.provider),
            h("td", null, h("span", { class: `badge ${cls}` }, label)),
            h("td", { class: "num" }, fmtInt(r.failures)),
            h("td", { class: "num" }, r.open_for_ms ? fmtMs(r.open_for_ms) : "–"));
        })))),
  );
}
