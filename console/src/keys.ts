// The Keys view: gateway keys and teams with their access, rate limits and budget, and the
// budget's burn-down (spent in the current period vs the limit, from /admin/usage's daily spend
// rows). Keys can be created (the key's text is shown once) and revoked.

interface Owner {
  scope: "key" | "team";
  id: string;
  name: string;
  settings: Settings;
}

/** The UTC days (YYYY-MM-DD) of the budget's current period; null: no reset (all time). */
function periodStart(reset: string | undefined, now = new Date()): string | null {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  if (reset === "daily") return d.toISOString().slice(0, 10);
  if (reset === "weekly") {
    const dow = (d.getUTCDay() + 6) % 7; // Monday = 0
    d.setUTCDate(d.getUTCDate() - dow);
    return d.toISOString().slice(0, 10);
  }
  if (reset === "monthly") return `${d.toISOString().slice(0, 7)}-01`;
  return null;
}

/** What an owner spent in its budget's current period, in the budget's unit, by day. */
function spent(o: Owner, usage: UsageRow[]): { total: number; byDay: Map<string, number> } {
  const lim = o.settings.usage_limits ?? {};
  const from = periodStart(lim.periodic_reset);
  const byDay = new Map<string, number>();
  let total = 0;
  for (const u of usage) {
    if (u.scope !== o.scope || u.id !== o.id) continue;
    if (from && u.period < from) continue;
    const v = lim.type === "tokens" ? u.input_tokens + u.output_tokens : u.cost_usd;
    total += v;
    byDay.set(u.period, (byDay.get(u.period) ?? 0) + v);
  }
  return { total, byDay };
}

function budgetText(l: UsageLimits | undefined): string {
  if (!l || l.credit_limit === undefined) return "–";
  const amount = l.type === "tokens" ? `${fmtInt(l.credit_limit)} tokens` : fmtUsd(l.credit_limit);
  return `${amount} ${l.periodic_reset ?? "total"}`;
}

/** The burn-down bar: spent / limit, amber past the alert threshold, red at the limit. */
function burnBar(o: Owner, usage: UsageRow[]): HTMLElement {
  const l = o.settings.usage_limits;
  if (!l || !l.credit_limit) return h("span", { class: "muted" }, "no budget");
  const { total } = spent(o, usage);
  const frac = Math.min(1, total / l.credit_limit);
  const alert = l.alert_threshold !== undefined && total >= l.alert_threshold;
  const cls = frac >= 1 ? "bad" : alert ? "warn" : "ok";
  const fmt = (v: number) => (l.type === "tokens" ? fmtInt(v) : fmtUsd(v));
  const W = 160;
  const svg = s("svg", { viewBox: `0 0 ${W} 10`, width: W, height: 10, class: "burn", role: "img", "aria-label": `${fmt(total)} of ${fmt(l.credit_limit)} spent` },
    s("rect", { x: 0, y: 0, width: W, height: 10, rx: 3, class: "track" }),
    s("rect", { x: 0, y: 0, width: (frac * W).toFixed(1), height: 10, rx: 3, class: `fill ${cls}` },
      s("title", null, `${fmt(total)} of ${fmt(l.credit_limit)} this period (${(frac * 100).toFixed(1)}%)`)));
  if (l.alert_threshold !== undefined && l.alert_threshold < l.credit_limit) {
    const x = ((l.alert_threshold / l.credit_limit) * W).toFixed(1);
    svg.appendChild(s("line", { x1: x, x2: x, y1: 0, y2: 10, class: "threshold" }, s("title", null, `alert at ${fmt(l.alert_threshold)}`)));
  }
  return h("div", { class: "burn-cell", "data-test": `burn-${o.id}` }, svg,
    h("span", { class: "small" }, `${fmt(total)} / ${fmt(l.credit_limit)}`));
}

/** The burn-down chart of one budget: what is left after each day of the period. */
function burnChart(o: Owner, usage: UsageRow[]): HTMLElement {
  const l = o.settings.usage_limits ?? {};
  const { byDay } = spent(o, usage);
  const days = [...byDay.keys()].sort();
  const start = periodStart(l.periodic_reset);
  const first = start ?? days[0] ?? new Date().toISOString().slice(0, 10);
  const xs: number[] = [];
  const today = Date.parse(new Date().toISOString().slice(0, 10));
  for (let t = Date.parse(first); t <= today && xs.length < 400; t += 86_400_000) xs.push(t);
  let left = l.credit_limit ?? 0;
  const points = xs.map((x) => {
    left -= byDay.get(new Date(x).toISOString().slice(0, 10)) ?? 0;
    return { x, y: Math.max(0, left) };
  });
  const fmt = (v: number) => (l.type === "tokens" ? fmtInt(v) : fmtUsd(v));
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

function limitsText(st: Settings): string {
  const rl = (st.rate_limits ?? []).map((r) => `${fmtInt(r.value)} ${r.type === "tokens" ? "tok" : "req"}/${r.unit.replace(/^r|^t/, "")}`);
  return rl.length ? rl.join(", ") : "–";
}

function accessText(st: Settings): string {
  const parts: string[] = [];
  if (st.models?.length) parts.push(`models ${st.models.join(", ")}`);
  if (st.providers?.length) parts.push(`providers ${st.providers.join(", ")}`);
  if (st.routes?.length) parts.push(`routes ${st.routes.join(", ")}`);
  return parts.length ? parts.join("; ") : "any";
}

async function renderKeysView(): Promise<void> {
  const view = byId("view-keys");
  const err = h("p", { class: "error", role: "alert", "data-test": "keys-error" });
  const created = h("div", { id: "new-key", "data-test": "new-key-box" });
  const burn = h("div", { id: "burn-chart" });
  if (!view.dataset.built) {
    view.dataset.built = "1";
    fill(view, h("header", { class: "view-head" }, h("h1", null, "Keys, teams and budgets")), h("div", { id: "keys-body" }, "Loading…"));
  }
  let keys: KeyRecord[], teams: TeamRecord[], usage: UsageRow[];
  try {
    [keys, teams, usage] = await Promise.all([api.keys().then((r) => r.data), api.teams().then((r) => r.data), api.usage().then((r) => r.data)]);
  } catch (e) {
    fill(byId("keys-body"), h("p", { class: "error" }, e instanceof Error ? e.message : String(e)));
    return;
  }
  const teamName = new Map(teams.map((t) => [t.id, t.name]));
  const now = Date.now() / 1000;
  const keyRows = keys.map((k) => {
    const o: Owner = { scope: "key", id: k.id, name: k.name, settings: k.settings ?? {} };
    const state = k.revoked ? ["revoked", "bad"] : k.expires_at && k.expires_at < now ? ["expired", "warn"] : ["active", "ok"];
    const revoke = k.revoked ? null : h("button", { type: "button", class: "small-btn", "data-test": "key-revoke", "aria-label": `Revoke ${k.name}` }, "Revoke");
    revoke?.addEventListener("click", async () => {
      if (!confirm(`Revoke the key ${k.name} (${k.id})? Its requests will be refused.`)) return;
      try { await api.revokeKey(k.id); void renderKeysView(); } catch (e) { err.textContent = e instanceof Error ? e.message : String(e); }
    });
    const tr = h("tr", { "data-test": "key-row", "data-id": k.id, class: "clickable", title: "Show the budget's burn-down" },
      h("td", null, k.name), h("td", { class: "mono small" }, k.id), h("td", null, k.team_id ? teamName.get(k.team_id) ?? k.team_id : "–"),
      h("td", null, h("span", { class: `badge ${state[1]}` }, state[0])), h("td", { class: "small" }, accessText(o.settings)),
      h("td", null, limitsText(o.settings)), h("td", null, budgetText(o.settings.usage_limits)), h("td", null, burnBar(o, usage)),
      h("td", { title: fmtDateTime(k.created_at * 1000) }, fmtDateTime(k.created_at * 1000).slice(0, 10)), h("td", null, revoke));
    tr.addEventListener("click", (e) => { if (!(e.target instanceof HTMLButtonElement)) fill(burn, burnChart(o, usage)); });
    return tr;
  });
  const teamRows = teams.map((t) => {
    const o: Owner = { scope: "team", id: t.id, name: t.name, settings: t.settings ?? {} };
    const tr = h("tr", { "data-test": "team-row", class: "clickable" },
      h("td", null, t.name), h("td", { class: "mono small" }, t.id), h("td", null, String(keys.filter((k) => k.team_id === t.id && !k.revoked).length)),
      h("td", { class: "small" }, accessText(o.settings)), h("td", null, limitsText(o.settings)),
      h("td", null, budgetText(o.settings.usage_limits)), h("td", null, burnBar(o, usage)));
    tr.addEventListener("click", () => fill(burn, burnChart(o, usage)));
    return tr;
  });
  const table = (head: string[], rows: HTMLElement[], test: string, none: string) =>
    rows.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "grid", "data-test": test }, h("thead", null, h("tr", null, ...head.map((c) => h("th", { scope: "col" }, c)))), h("tbody", null, ...rows)))
      : h("p", { class: "muted", "data-test": test }, none);
  fill(byId("keys-body"),
    err,
    createForm(teams, err),
    created,
    h("h2", null, "Gateway keys"),
    table(["Name", "Id", "Team", "State", "Access", "Rate limits", "Budget", "Spent this period", "Created", ""], keyRows, "keys-table", "No gateway keys yet."),
    h("h2", null, "Teams"),
    table(["Name", "Id", "Keys", "Access", "Rate limits", "Budget", "Spent this period"], teamRows, "teams-table", "No teams."),
    burn,
  );
  const withBudget = [...keys.filter((k) => !k.revoked).map((k) => ({ scope: "key" as const, id: k.id, name: k.name, settings: k.settings ?? {} }))]
    .find((o) => o.settings.usage_limits?.credit_limit);
  if (withBudget) fill(burn, burnChart(withBudget, usage));
}

function createForm(teams: TeamRecord[], err: HTMLElement): HTMLElement {
  const form = h("form", { class: "filters inline", "data-test": "key-create-form", "aria-label": "Create a gateway key" },
    h("label", { for: "key-name" }, "Name", h("input", { id: "key-name", name: "name", required: true, autocomplete: "off", "data-test": "key-name" })),
    h("label", { for: "key-team" }, "Team", h("select", { id: "key-team", name: "team_id" }, h("option", { value: "" }, "none"), ...teams.map((t) => h("option", { value: t.id }, t.name)))),
    h("label", { for: "key-models" }, "Models", h("input", { id: "key-models", name: "models", placeholder: "any (globs, comma-separated)", autocomplete: "off" })),
    h("label", { for: "key-budget" }, "Budget USD", h("input", { id: "key-budget", name: "budget", type: "number", min: "0", step: "any", placeholder: "none" })),
    h("label", { for: "key-reset" }, "Resets", h("select", { id: "key-reset", name: "reset" }, ...[["monthly", "monthly"], ["weekly", "weekly"], ["daily", "daily"], ["", "never"]].map(([v, t]) => h("option", { value: v }, t)))),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary", "data-test": "key-create" }, "Create key")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = "";
    const f = new FormData(form);
    const body: Record<string, unknown> = { name: String(f.get("name") ?? "").trim() };
    const team = String(f.get("team_id") ?? "");
    if (team) body.team_id = team;
    const models = String(f.get("models") ?? "").split(",").map((m) => m.trim()).filter(Boolean);
    if (models.length) body.models = models;
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
      fill(byId("new-key"), h("div", { class: "callout", role: "status" },
        h("strong", null, `Key ${k.name} created. `), "Copy it now: it is not shown again. ",
        h("code", { "data-test": "new-key" }, text), " ", copy));
    } catch (e2) {
      err.textContent = e2 instanceof Error ? e2.message : String(e2);
    }
  });
  return form;
}
