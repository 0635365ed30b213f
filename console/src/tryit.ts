// The "Try it" panel: send a chat request to this gateway and see the answer, plus copyable
// curl / Python / Node snippets for it. The console's session cookie is not a gateway key, so
// the panel asks for one (or a provider key and provider); that key stays in memory, in this
// page only, and the snippets carry the placeholder $SWITCHYARD_KEY, never the key.

let tryInfo: Info | null = null;

interface TryRequest {
  model: string;
  prompt: string;
  provider: string;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function snippets(req: TryRequest): { curl: string; python: string; node: string } {
  const origin = window.location.origin;
  const body = { model: req.model || "MODEL", messages: [{ role: "user", content: req.prompt || "Hello!" }] };
  const headerLine = req.provider ? `  -H ${shellQuote(`x-portkey-provider: ${req.provider}`)} \\\n` : "";
  const curl =
    `curl ${origin}/v1/chat/completions \\\n` +
    `  -H "Authorization: Bearer $SWITCHYARD_KEY" \\\n` +
    headerLine +
    `  -H 'content-type: application/json' \\\n` +
    `  -d ${shellQuote(JSON.stringify(body))}`;
  const py = (v: unknown) => JSON.stringify(v);
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

function current(): TryRequest {
  return {
    model: byId<HTMLInputElement>("tryit-model").value.trim(),
    prompt: byId<HTMLTextAreaElement>("tryit-prompt").value,
    provider: byId<HTMLSelectElement>("tryit-provider").value,
  };
}

function updateSnippets(): void {
  const sn = snippets(current());
  byId("snippet-curl").textContent = sn.curl;
  byId("snippet-python").textContent = sn.python;
  byId("snippet-node").textContent = sn.node;
}

function snippetBlock(id: string, label: string): HTMLElement {
  const copy = h("button", { type: "button", class: "small-btn", "data-test": `copy-${id}`, "aria-label": `Copy the ${label} snippet` }, "Copy");
  copy.addEventListener("click", async () => {
    const ok = await copyText(byId(id).textContent ?? "");
    copy.textContent = ok ? "Copied" : "Select and copy";
    setTimeout(() => (copy.textContent = "Copy"), 1500);
  });
  return h("div", { class: "snippet" }, h("div", { class: "snippet-head" }, h("span", null, label), copy), h("pre", { id, "data-test": id, tabindex: 0 }));
}

async function renderTryItView(): Promise<void> {
  const view = byId("view-tryit");
  if (view.dataset.built) return;
  view.dataset.built = "1";
  const models = h("datalist", { id: "tryit-models" });
  const providers = h("select", { id: "tryit-provider", name: "provider", "data-test": "tryit-provider" },
    h("option", { value: "" }, "— (a gateway key, or a route / provider/model)"));
  const form = h("form", { class: "tryit-form", "data-test": "tryit-form", "aria-label": "Send a chat request" },
    h("label", { for: "tryit-key" }, "Gateway key (or provider key)",
      h("input", { id: "tryit-key", type: "password", autocomplete: "off", placeholder: "sy-… — kept in this page's memory only", "data-test": "tryit-key" })),
    h("label", { for: "tryit-provider" }, "Provider (x-portkey-provider, with a provider key)", providers),
    h("label", { for: "tryit-model" }, "Model or route",
      h("input", { id: "tryit-model", list: "tryit-models", required: true, autocomplete: "off", placeholder: "a route name or provider/model", "data-test": "tryit-model" })),
    models,
    h("label", { for: "tryit-prompt" }, "Prompt",
      h("textarea", { id: "tryit-prompt", rows: 4, "data-test": "tryit-prompt" }, "Say hello in five words.")),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary", "data-test": "tryit-send" }, "Send")),
  );
  form.addEventListener("input", updateSnippets);
  form.addEventListener("change", updateSnippets);
  form.addEventListener("submit", (e) => { e.preventDefault(); void send(); });
  fill(view,
    h("header", { class: "view-head" }, h("h1", null, "Try it")),
    h("div", { class: "two-col" },
      h("div", null, form, h("div", { id: "tryit-result", "data-test": "tryit-result", role: "status", "aria-live": "polite" })),
      h("div", null,
        h("p", { class: "muted small" }, "The same request from your code. Set SWITCHYARD_KEY in your environment: the snippets never hold a key."),
        snippetBlock("snippet-curl", "curl"), snippetBlock("snippet-python", "Python (openai)"), snippetBlock("snippet-node", "Node (openai)"))),
  );
  try {
    tryInfo = tryInfo ?? (await api.info());
    for (const r of tryInfo.routes ?? []) {
      models.appendChild(h("option", { value: r.name }, `route ${r.name}`));
      for (const m of r.models ?? []) if (m !== r.name) models.appendChild(h("option", { value: m }, `${r.name}: ${m}`));
    }
    for (const p of tryInfo.providers ?? []) providers.appendChild(h("option", { value: p }, p));
    const first = tryInfo.routes?.[0];
    const model = byId<HTMLInputElement>("tryit-model");
    if (first && !model.value) model.value = first.name;
  } catch {
    // The panel works without /admin/info: the model is typed in.
  }
  updateSnippets();
}

async function send(): Promise<void> {
  const out = byId("tryit-result");
  const req = current();
  const key = byId<HTMLInputElement>("tryit-key").value.trim();
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  if (req.provider) headers["x-portkey-provider"] = req.provider;
  fill(out, h("p", { class: "muted" }, "Sending…"));
  const t0 = performance.now();
  let r: Response;
  try {
    // No cookie: the request is the gateway's like any client's, authenticated by the key.
    r = await fetch("/v1/chat/completions", {
      method: "POST",
      credentials: "omit",
      headers,
      body: JSON.stringify({ model: req.model, messages: [{ role: "user", content: req.prompt }] }),
    });
  } catch (e) {
    fill(out, h("p", { class: "error" }, `network error: ${e instanceof Error ? e.message : String(e)}`));
    return;
  }
  const ms = performance.now() - t0;
  const trace = r.headers.get("x-portkey-trace-id");
  let body: { choices?: { message?: { content?: string | null } }[]; usage?: { prompt_tokens?: number; completion_tokens?: number }; error?: { message?: string } } = {};
  try { body = await r.json(); } catch { /* not JSON */ }
  const meta = h("p", { class: "small muted" },
    statusBadge(r.status), ` ${fmtMs(ms)}`,
    body.usage ? ` · ${fmtInt(body.usage.prompt_tokens)} in / ${fmtInt(body.usage.completion_tokens)} out` : "",
    r.headers.get("x-portkey-provider") ? ` · ${r.headers.get("x-portkey-provider")}` : "");
  if (trace) {
    const open = h("button", { type: "button", class: "link", "data-test": "tryit-timeline" }, "timeline");
    open.addEventListener("click", () => void openTimelineByTrace(trace));
    meta.append(" · trace ", h("code", null, trace), " ", open);
  }
  if (r.ok) {
    fill(out, meta, h("div", { class: "answer", "data-test": "tryit-answer" }, body.choices?.[0]?.message?.content ?? "(no text)"));
  } else {
    fill(out, meta, h("p", { class: "error", "data-test": "tryit-error" }, body.error?.message ?? `HTTP ${r.status}`));
  }
}
