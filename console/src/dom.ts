// DOM helpers and formatting. Every server string reaches the page as a text node
// (textContent / createTextNode), never as HTML.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** An element: `h("td", {class: "num", "data-test": "x"}, "text", child)`. `on*` attributes
 * with a function value become event listeners; `false`/`null`/`undefined` attributes are left
 * out. */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element, attributes as for `h`. */
function s(tag: string, attrs?: Attrs | null, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag) as SVGElement;
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs?: Attrs | null): void {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === "function") {
      el.addEventListener(k.slice(2), v);
    } else if (v === true) {
      el.setAttribute(k, "");
    } else {
      el.setAttribute(k, String(v));
    }
  }
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces an element's children. */
function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** The element with this id (it is in index.html; a missing one is a bug). */
function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
}

// ---- formatting ----

function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en-US");
}

function fmtMs(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  if (n >= 10_000) return `${(n / 1000).toFixed(1)} s`;
  if (n > 0 && n < 10 && !Number.isInteger(n)) return `${n.toFixed(1)} ms`;
  return `${Math.round(n)} ms`;
}

function fmtUsd(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  if (n === 0) return "$0";
  const a = Math.abs(n);
  return `$${n.toFixed(a < 0.01 ? 6 : a < 1 ? 4 : 2)}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Local time of day with milliseconds: `14:03:07.123`. */
function fmtClock(ms: number): string {
  const d = new Date(ms);
  const millis = String(d.getMilliseconds()).padStart(3, "0");
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${millis}`;
}

/** Local date and time: `2026-12-02 14:03:07`. */
function fmtDateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** A chart axis label for a bucket start. */
function fmtBucket(ms: number, bucket: string): string {
  const d = new Date(ms);
  if (bucket === "day") return `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** A status's CSS class: ok, warn (4xx) or bad (5xx / 0). */
function statusClass(status: number): string {
  if (status >= 200 && status < 400) return "ok";
  if (status >= 400 && status < 500) return "warn";
  return "bad";
}

/** `status` as a coloured badge. */
function statusBadge(status: number, error?: string | null): HTMLElement {
  const label = error ? `${status} ${error}` : String(status);
  return h("span", { class: `badge ${statusClass(status)}`, title: label }, String(status));
}

/** Copies text to the clipboard; resolves to whether it worked. */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
