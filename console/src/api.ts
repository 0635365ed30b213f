// The console's calls to its own origin: the session (/console/*) and the admin API (/admin/*),
// authenticated by the HttpOnly session cookie. Every call sends `x-switchyard-console: 1`,
// which the server requires on admin calls that change state.

interface TargetTry {
  target: string;
  provider: string;
  retry: number;
  status: number | null;
  error: string | null;
  elapsed_ms: number;
}

interface LogRow {
  id: number;
  trace_id: string;
  time: number;
  key_id: string | null;
  team_id: string | null;
  route: string | null;
  op: string;
  provider: string | null;
  model: string | null;
  model_sent: string | null;
  status: number;
  error: string | null;
  latency_ms: number;
  upstream_ms: number;
  overhead_ms: number;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_tokens: number | null;
  cost_usd: number | null;
  cache_status: string;
  stream: boolean;
  retries: number;
  attempts: number;
  client_gone: boolean;
  stream_error: string | null;
  targets: TargetTry[];
  request_body?: string | null;
}

interface LogPage {
  object: "list";
  data: LogRow[];
  next: string | null;
}

interface AnalyticsRow {
  time: number;
  group: string | null;
  requests: number;
  errors: number;
  p50_ms: number;
  p95_ms: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

interface Analytics {
  bucket: string;
  group_by: string;
  since: number;
  until: number;
  data: AnalyticsRow[];
}

interface UsageLimits {
  type?: "cost" | "tokens";
  credit_limit?: number;
  periodic_reset?: "daily" | "weekly" | "monthly";
  alert_threshold?: number;
}

interface RateLimit {
  type: string;
  unit: string;
  value: number;
}

interface Settings {
  models?: string[];
  providers?: string[];
  routes?: string[];
  rate_limits?: RateLimit[];
  usage_limits?: UsageLimits;
  [k: string]: unknown;
}

interface KeyRecord {
  id: string;
  name: string;
  team_id: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  revoked: boolean;
  settings: Settings;
  key?: string;
}

interface TeamRecord {
  id: string;
  name: string;
  created_at: number;
  settings: Settings;
}

interface UsageRow {
  scope: string;
  id: string;
  period: string;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  requests: number;
  updated_at: number;
}

interface Circuit {
  target: string;
  provider: string;
  state: "closed" | "open" | "half_open";
  failures: number;
  open_for_ms: number | null;
}

interface Circuits {
  object: "list";
  enabled: boolean;
  data: Circuit[];
}

interface Info {
  version: string;
  auth: boolean | string;
  features: Record<string, boolean>;
  routes: { name: string; models?: string[] }[];
  providers: string[];
}

interface List<T> {
  object: "list";
  data: T[];
}

/** A failed call: the HTTP status and the server's OpenAI-shaped error message. */
class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly code: string | null = null) {
    super(message);
  }
}

/** Called on any 401: the session is gone, show the login form. Set by main.ts. */
let onUnauthorized: () => void = () => {};

function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

const CONSOLE_HEADER = "x-switchyard-console";

async function errorOf(r: Response): Promise<ApiError> {
  let message = `HTTP ${r.status}`;
  let code: string | null = null;
  try {
    const body = (await r.json()) as { error?: { message?: string; code?: string } };
    if (body.error?.message) message = body.error.message;
    if (body.error?.code) code = body.error.code;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(r.status, message, code);
}

/** A call to the console's origin. Throws ApiError on a non-2xx answer (after calling the
 * 401 handler for a 401, unless `quiet401`). Resolves to the parsed JSON, or null for 204. */
async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: { quiet401?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = { [CONSOLE_HEADER]: "1", accept: "application/json" };
  const init: RequestInit = { method, credentials: "same-origin", headers };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let r: Response;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, `network error: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!r.ok) {
    const err = await errorOf(r);
    if (r.status === 401 && !opts.quiet401) onUnauthorized();
    throw err;
  }
  if (r.status === 204) return null as T;
  return (await r.json()) as T;
}

/** A query string from the non-empty members. */
function qs(params: Record<string, string | number | null | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && String(v).trim() !== "") u.set(k, String(v).trim());
  }
  const s = u.toString();
  return s ? `?${s}` : "";
}

const api = {
  session: () => call<{ authenticated: boolean; expires_at: number }>("GET", "/console/session", undefined, { quiet401: true }),
  login: (adminKey: string) => call<null>("POST", "/console/login", { admin_key: adminKey }, { quiet401: true }),
  logout: () => call<null>("POST", "/console/logout", undefined, { quiet401: true }),
  info: () => call<Info>("GET", "/admin/info"),
  logs: (filter: Record<string, string | number | null | undefined>) => call<LogPage>("GET", `/admin/logs${qs(filter)}`),
  analytics: (p: Record<string, string>) => call<Analytics>("GET", `/admin/analytics${qs(p)}`),
  keys: () => call<List<KeyRecord>>("GET", "/admin/keys"),
  teams: () => call<List<TeamRecord>>("GET", "/admin/teams"),
  usage: () => call<List<UsageRow>>("GET", "/admin/usage?limit=10000"),
  createKey: (body: Record<string, unknown>) => call<KeyRecord>("POST", "/admin/keys", body),
  revokeKey: (id: string) => call<{ id: string; revoked: boolean }>("DELETE", `/admin/keys/${encodeURIComponent(id)}`),
  circuits: () => call<Circuits>("GET", "/admin/circuits"),
};
