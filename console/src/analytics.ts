// The Charts view: /admin/analytics per time bucket and group (provider, model or key) —
// traffic, latency (p50 / p95), errors, cost and tokens — plus the cache hit rate per group,
// computed from up to 1000 log rows of the same window (analytics does not carry it).

const WINDOWS: [string, string, string][] = [
  // [since, label, default bucket]
  ["1h", "Last hour", "minute"],
  ["6h", "Last 6 hours", "minute"],
  ["24h", "Last 24 hours", "hour"],
  ["7d", "Last 7 days", "hour"],
  ["30d", "Last 30 days", "day"],
];

function select(id: string, label: string, options: [string, string][], value: string): HTMLLabelElement {
  return h("label", { for: id }, label,
    h("select", { id, name: id, "data-test": id }, ...options.map(([v, t]) => h("option", { value: v, selected: v === value }, t))));
}

function renderChartsView(): void {
  const view = byId("view-charts");
  if (view.dataset.built) {
    void loadCharts();
    return;
  }
  view.dataset.built = "1";
  const form = h("form", { class: "filters inline", "data-test": "charts-form", "aria-label": "Chart window" },
    select("charts-window", "Window", WINDOWS.map(([v, t]) => [v, t]), "1h"),
    select("charts-bucket", "Bucket", [["minute", "Minute"], ["hour", "Hour"], ["day", "Day"]], "minute"),
    select("charts-group", "Group by", [["provider", "Provider"], ["model", "Model"], ["key", "Key"]], "provider"),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary", "data-test": "charts-refresh" }, "Refresh")),
  );
  form.addEventListener("submit", (e) => { e.preventDefault(); void loadCharts(); });
  byIdIn(form, "charts-window").addEventListener("change", (e) => {
    const w = WINDOWS.find(([v]) => v === (e.target as HTMLSelectElement).value);
    if (w) (byIdIn(form, "charts-bucket") as HTMLSelectElement).value = w[2];
    void loadCharts();
  });
  byIdIn(form, "charts-bucket").addEventListener("change", () => void loadCharts());
  byIdIn(form, "charts-group").addEventListener("change", () => void loadCharts());
  fill(view,
    h("header", { class: "view-head" }, h("h1", null, "Charts")),
    form,
    h("p", { id: "charts-error", class: "error", role: "alert" }),
    h("div", { id: "charts-tiles", class: "tiles", "data-test": "charts-tiles" }),
    h("div", { id: "charts-grid", class: "chart-grid", "data-test": "charts" }),
  );
  void loadCharts();
}

function byIdIn(root: Element, id: string): HTMLElement {
  const el = root.querySelector(`#${id}`);
  if (!el) throw new Error(`#${id} missing`);
  return el as HTMLElement;
}

function value(id: string): string {
  return byId<HTMLSelectElement>(id).value;
}

async function loadCharts(): Promise<void> {
  const since = value("charts-window");
  const bucket = value("charts-bucket");
  const group = value("charts-group");
  const err = byId("charts-error");
  err.textContent = "";
  let data: Analytics;
  let rows: LogRow[] = [];
  try {
    [data, rows] = await Promise.all([
      api.analytics({ bucket, group_by: group, since }),
      api.logs({ since, limit: 1000 }).then((p) => p.data, () => [] as LogRow[]),
    ]);
  } catch (e) {
    err.textContent = e instanceof Error ? e.message : String(e);
    return;
  }
  const step = bucket === "minute" ? 60_000 : bucket === "hour" ? 3_600_000 : 86_400_000;
  let xs: number[] = [];
  if (Number.isFinite(data.since) && Number.isFinite(data.until)) {
    for (let t = Math.floor(data.since / step) * step; t < data.until && xs.length < 2000; t += step) xs.push(t);
  }
  if (!xs.length) xs = [...new Set(data.data.map((r) => r.time))].sort((a, b) => a - b);
  const groups = [...new Set(data.data.map((r) => r.group ?? "(none)"))].sort();
  const per = (f: (r: AnalyticsRow) => number, name: (g: string) => string = (g) => g, dashed = false): Series[] =>
    groups.map((g) => ({
      name: name(g),
      dashed,
      points: data.data.filter((r) => (r.group ?? "(none)") === g).map((r) => ({ x: r.time, y: f(r) })),
    }));
  const xf = (x: number) => fmtBucket(x, bucket);
  const int = (y: number) => (y >= 1000 ? `${(y / 1000).toFixed(y >= 10_000 ? 0 : 1)}k` : String(Math.round(y * 100) / 100));
  const usd = (y: number) => (y === 0 ? "$0" : y < 0.01 ? `$${Number(y.toPrecision(2))}` : `$${y.toFixed(2)}`);
  const ms = (y: number) => fmtMs(y);

  tiles(data.data, rows);
  const latency = [
    ...per((r) => r.p50_ms, (g) => `${g} p50`),
    ...per((r) => r.p95_ms, (g) => `${g} p95`, true),
  ].map((se, i) => ({ ...se, color: PALETTE[(i % groups.length) % PALETTE.length] }));
  fill(byId("charts-grid"),
    barChart({ title: "Traffic (requests)", testId: "chart-requests", series: per((r) => r.requests), xs, xFormat: xf, yFormat: int }),
    lineChart({ title: "Latency (p50 solid, p95 dashed)", testId: "chart-latency", series: latency, xs, xFormat: xf, yFormat: ms }),
    barChart({ title: "Errors", testId: "chart-errors", series: per((r) => r.errors), xs, xFormat: xf, yFormat: int }),
    lineChart({ title: "Cost (USD)", testId: "chart-cost", series: per((r) => r.cost_usd), xs, xFormat: xf, yFormat: usd }),
    barChart({ title: "Tokens (input + output)", testId: "chart-tokens", series: per((r) => r.input_tokens + r.output_tokens), xs, xFormat: xf, yFormat: int }),
    cacheChart(rows, group),
  );
}

function groupOf(row: LogRow, group: string): string {
  if (group === "model") return row.model_sent ?? row.model ?? "(none)";
  if (group === "key") return row.key_id ?? "(none)";
  return row.provider ?? "(none)";
}

function isHit(status: string): boolean {
  return status === "HIT" || status === "SEMANTIC HIT";
}

/** Cache hit rate per group over the requests whose cache was on (not DISABLED). */
function cacheChart(rows: LogRow[], group: string): HTMLElement {
  const by = new Map<string, { hits: number; n: number }>();
  for (const r of rows) {
    if (r.cache_status === "DISABLED") continue;
    const g = groupOf(r, group);
    const c = by.get(g) ?? { hits: 0, n: 0 };
    c.n++;
    if (isHit(r.cache_status)) c.hits++;
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
    fig.querySelector("p")!.textContent = "Caching was off for every request in this window.";
  }
  return fig;
}

function tiles(data: AnalyticsRow[], rows: LogRow[]): void {
  const requests = data.reduce((a, r) => a + r.requests, 0);
  const errors = data.reduce((a, r) => a + r.errors, 0);
  const cost = data.reduce((a, r) => a + r.cost_usd, 0);
  const tokens = data.reduce((a, r) => a + r.input_tokens + r.output_tokens, 0);
  const lat = rows.map((r) => r.latency_ms).sort((a, b) => a - b);
  const p95 = lat.length ? lat[Math.min(lat.length - 1, Math.ceil(0.95 * lat.length) - 1)] : null;
  const cached = rows.filter((r) => r.cache_status !== "DISABLED");
  const hitRate = cached.length ? `${((100 * cached.filter((r) => isHit(r.cache_status)).length) / cached.length).toFixed(1)}%` : "–";
  const tile = (label: string, v: string, test: string) =>
    h("div", { class: "tile", "data-test": test }, h("div", { class: "tile-label" }, label), h("div", { class: "tile-value" }, v));
  fill(byId("charts-tiles"),
    tile("Requests", fmtInt(requests), "tile-requests"),
    tile("Error rate", requests ? `${((100 * errors) / requests).toFixed(1)}%` : "–", "tile-errors"),
    tile("p95 latency", fmtMs(p95), "tile-p95"),
    tile("Tokens", fmtInt(tokens), "tile-tokens"),
    tile("Cost", fmtUsd(cost), "tile-cost"),
    tile("Cache hit rate", hitRate, "tile-cache"),
  );
}
