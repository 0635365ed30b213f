// The Logs view: /admin/logs with a filter form, newest first, paged with the `next` cursor
// ("Older"); a click on a row opens its timeline.

const LOG_FILTERS: [string, string, string][] = [
  // [parameter, label, placeholder]
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
  filter: {} as Record<string, string>,
  next: null as string | null,
};

function renderLogsView(): void {
  const view = byId("view-logs");
  if (view.dataset.built) {
    void loadLogs(false);
    return;
  }
  view.dataset.built = "1";
  const form = h("form", { class: "filters", "data-test": "logs-filter", "aria-label": "Filter the request log" });
  for (const [name, label, ph] of LOG_FILTERS) {
    const id = `logs-f-${name}`;
    form.appendChild(
      h("label", { for: id }, label,
        h("input", { id, name, type: "text", placeholder: ph, autocomplete: "off", spellcheck: "false", "data-test": `logs-filter-${name}` })),
    );
  }
  form.appendChild(
    h("label", { for: "logs-f-limit" }, "Rows",
      h("select", { id: "logs-f-limit", name: "limit", "data-test": "logs-filter-limit" },
        ...["50", "100", "250", "1000"].map((v) => h("option", { value: v, selected: v === "100" }, v)))),
  );
  const reset = h("button", { type: "button", "data-test": "logs-reset" }, "Reset");
  form.appendChild(h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary", "data-test": "logs-search" }, "Search"), reset));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(form);
    logsState.filter = {};
    for (const [k, v] of data.entries()) if (typeof v === "string" && v.trim()) logsState.filter[k] = v.trim();
    void loadLogs(false);
  });
  reset.addEventListener("click", () => {
    form.reset();
    logsState.filter = {};
    void loadLogs(false);
  });
  const older = h("button", { type: "button", id: "logs-older", "data-test": "logs-older", hidden: true }, "Older →");
  older.addEventListener("click", () => void loadLogs(true));
  fill(view,
    h("header", { class: "view-head" }, h("h1", null, "Request log")),
    form,
    h("p", { id: "logs-error", class: "error", role: "alert" }),
    h("div", { class: "table-wrap" },
      h("table", { class: "grid", "data-test": "logs-table" },
        h("thead", null, h("tr", null, ...["Time", "Status", "Route", "Provider", "Model", "Key", "Latency", "Overhead", "Tokens in/out", "Cost", "Cache", "Tries", "Trace id"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", { id: "logs-rows" }))),
    h("div", { class: "pager" }, h("span", { id: "logs-count", class: "muted", "data-test": "logs-count" }), older),
  );
  void loadLogs(false);
}

async function loadLogs(more: boolean): Promise<void> {
  const body = byId("logs-rows");
  const err = byId("logs-error");
  const older = byId<HTMLButtonElement>("logs-older");
  err.textContent = "";
  const params: Record<string, string> = { ...logsState.filter };
  if (more && logsState.next) params.before = logsState.next;
  older.disabled = true;
  try {
    const page = await api.logs(params);
    if (!more) body.replaceChildren();
    for (const row of page.data) body.appendChild(logRow(row));
    logsState.next = page.next;
    older.hidden = !page.next;
    const n = body.children.length;
    byId("logs-count").textContent = n ? `${fmtInt(n)} request${n === 1 ? "" : "s"} shown` : "No request matches.";
  } catch (e) {
    err.textContent = e instanceof Error ? e.message : String(e);
  } finally {
    older.disabled = false;
  }
}

function logRow(row: LogRow): HTMLTableRowElement {
  const tokens = row.input_tokens === null && row.output_tokens === null ? "–" : `${fmtInt(row.input_tokens)} / ${fmtInt(row.output_tokens)}`;
  const tr = h("tr", { class: "clickable", tabindex: 0, "data-test": "logs-row", "data-trace": row.trace_id, title: "Open the timeline" },
    h("td", { class: "mono" }, fmtDateTime(row.time)),
    h("td", null, statusBadge(row.status, row.error), row.error ? h("span", { class: "small muted" }, ` ${row.error}`) : null),
    h("td", null, row.route ?? "–"),
    h("td", null, row.provider ?? "–"),
    h("td", { class: "mono" }, row.model_sent ?? row.model ?? "–"),
    h("td", { class: "trunc", title: row.key_id ?? "" }, row.key_id ?? "–"),
    h("td", { class: "num" }, fmtMs(row.latency_ms)),
    h("td", { class: "num" }, fmtMs(row.overhead_ms)),
    h("td", { class: "num" }, tokens),
    h("td", { class: "num" }, fmtUsd(row.cost_usd)),
    h("td", null, row.cache_status),
    h("td", { class: "num" }, String(row.attempts)),
    h("td", { class: "mono small trunc", title: row.trace_id }, row.trace_id),
  );
  const open = () => { renderTimeline(row); };
  tr.addEventListener("click", open);
  tr.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
  return tr;
}
