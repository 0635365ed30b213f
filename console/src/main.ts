// The console's shell: the session (login form, logout), the sidebar's views (#live, #logs,
// #charts, #keys, #circuits, #tryit in the URL's hash) and the gateway's version.

const VIEWS: Record<string, () => void | Promise<void>> = {
  live: renderLiveView,
  logs: renderLogsView,
  charts: renderChartsView,
  keys: renderKeysView,
  circuits: renderCircuitsView,
  tryit: renderTryItView,
};

function showLogin(message?: string): void {
  document.body.dataset.auth = "0";
  stopLive();
  stopCircuits();
  closeTimeline();
  byId("app").hidden = true;
  byId("login").hidden = false;
  byId("login-error").textContent = message ?? "";
  const input = byId<HTMLInputElement>("login-key");
  input.value = "";
  input.focus();
}

function showApp(): void {
  document.body.dataset.auth = "1";
  byId("login").hidden = true;
  byId("app").hidden = false;
  // The Live view collects rows from the start, whichever view is shown.
  renderLiveView();
  startLive();
  route();
  api.info().then(
    (info) => {
      byId("version").textContent = `v${info.version}`;
      tryInfo = info;
    },
    () => {},
  );
}

/** Shows the view the hash names (Live by default). */
function route(): void {
  if (document.body.dataset.auth !== "1") return;
  const name = location.hash.replace(/^#/, "") || "live";
  const view = VIEWS[name] ? name : "live";
  for (const v of Object.keys(VIEWS)) {
    byId(`view-${v}`).hidden = v !== view;
    const link = byId(`nav-${v}`);
    if (v === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (view !== "circuits") stopCircuits();
  void VIEWS[view]();
}

async function login(e: Event): Promise<void> {
  e.preventDefault();
  const input = byId<HTMLInputElement>("login-key");
  const err = byId("login-error");
  const button = byId<HTMLButtonElement>("login-submit");
  err.textContent = "";
  button.disabled = true;
  try {
    await api.login(input.value.trim());
    input.value = "";
    showApp();
  } catch (ex) {
    err.textContent = ex instanceof Error ? ex.message : String(ex);
    input.select();
  } finally {
    button.disabled = false;
  }
}

async function logout(): Promise<void> {
  try {
    await api.logout();
  } catch {
    // The session is dropped client-side either way.
  }
  // Views are rebuilt for the next session (no data of this one left in the page).
  for (const v of Object.keys(VIEWS)) {
    const el = byId(`view-${v}`);
    el.replaceChildren();
    delete el.dataset.built;
  }
  showLogin("Signed out.");
}

function boot(): void {
  setUnauthorizedHandler(() => {
    if (document.body.dataset.auth !== "0") showLogin("Your session has ended: sign in again.");
  });
  byId("login-form").addEventListener("submit", (e) => void login(e));
  byId("logout").addEventListener("click", () => void logout());
  window.addEventListener("hashchange", route);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !byId("timeline").hidden) closeTimeline();
  });
  api.session().then(
    () => showApp(),
    (e: unknown) => {
      const msg = e instanceof ApiError && e.status !== 401 ? e.message : undefined;
      showLogin(msg);
    },
  );
}

boot();
