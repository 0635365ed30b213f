// Hand-written SVG charts: a line chart and a stacked bar chart over time, and a horizontal bar
// list. Each has axes with ticks, a legend, and a hover title (<title>) on every point and bar.

interface Point {
  x: number;
  y: number;
}

interface Series {
  name: string;
  points: Point[];
  dashed?: boolean;
  color?: string;
}

interface ChartOpts {
  title: string;
  testId: string;
  series: Series[];
  xFormat: (x: number) => string;
  yFormat: (y: number) => string;
  /** The x values of the whole window (bars get one slot each); default: the series' x values. */
  xs?: number[];
  height?: number;
}

const PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569", "#ea580c"];

const W = 640;
const M = { top: 12, right: 14, bottom: 26, left: 66 };

/** A round number at or above `v`, for the y axis's top. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function colorOf(s: Series, i: number): string {
  return s.color ?? PALETTE[i % PALETTE.length];
}

function sortedXs(opts: ChartOpts): number[] {
  if (opts.xs && opts.xs.length) return opts.xs;
  const set = new Set<number>();
  for (const s of opts.series) for (const p of s.points) set.add(p.x);
  return [...set].sort((a, b) => a - b);
}

/** A legend's colour key: a short line (dashed for a dashed series). SVG presentation
 * attributes, not inline styles, so the CSP's style-src holds. */
function swatch(color: string, dashed: boolean): SVGElement {
  return s("svg", { class: "swatch", viewBox: "0 0 18 8", width: 18, height: 8, "aria-hidden": "true" },
    s("line", { x1: 1, x2: 17, y1: 4, y2: 4, stroke: color, "stroke-width": 3, "stroke-dasharray": dashed ? "4 3" : null }));
}

/** The frame: a <figure> with a caption, the svg (grid, y ticks) and a legend. */
function frame(opts: ChartOpts, yMax: number, xs: number[], xPos: (x: number) => number) {
  const H = opts.height ?? 220;
  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`,
    class: "chart-svg",
    role: "img",
    "aria-label": opts.title,
    preserveAspectRatio: "none",
  });
  const plotH = H - M.top - M.bottom;
  const yPos = (y: number) => M.top + plotH - (y / yMax) * plotH;
  const ticks = 4;
  for (let i = 0; i <= ticks; i++) {
    const v = (yMax * i) / ticks;
    const y = yPos(v);
    svg.appendChild(s("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, class: i === 0 ? "axis" : "grid" }));
    svg.appendChild(s("text", { x: M.left - 6, y: y + 4, class: "tick", "text-anchor": "end" }, opts.yFormat(v)));
  }
  svg.appendChild(s("line", { x1: M.left, x2: M.left, y1: M.top, y2: M.top + plotH, class: "axis" }));
  const every = Math.max(1, Math.ceil(xs.length / 7));
  xs.forEach((x, i) => {
    if (i % every !== 0) return;
    const px = xPos(x);
    svg.appendChild(s("line", { x1: px, x2: px, y1: M.top + plotH, y2: M.top + plotH + 4, class: "axis" }));
    svg.appendChild(s("text", { x: px, y: H - 8, class: "tick", "text-anchor": "middle" }, opts.xFormat(x)));
  });
  const legend = h("ul", { class: "legend" });
  opts.series.forEach((se, i) => {
    legend.appendChild(h("li", null, swatch(colorOf(se, i), !!se.dashed), se.name));
  });
  const fig = h("figure", { class: "chart", "data-test": opts.testId, id: opts.testId },
    h("figcaption", null, opts.title), svg, legend);
  return { fig, svg, yPos, plotH, H };
}

function empty(opts: ChartOpts): HTMLElement {
  return h("figure", { class: "chart empty", "data-test": opts.testId, id: opts.testId },
    h("figcaption", null, opts.title), h("p", { class: "muted" }, "No data in this window."));
}

/** Lines, one per series, with a dot (and hover title) on each point. */
function lineChart(opts: ChartOpts): HTMLElement {
  const xs = sortedXs(opts);
  if (!xs.length || !opts.series.length) return empty(opts);
  const max = niceMax(Math.max(0, ...opts.series.flatMap((se) => se.points.map((p) => p.y))));
  const x0 = xs[0];
  const x1 = xs[xs.length - 1];
  const plotW = W - M.left - M.right;
  const xPos = (x: number) => (x1 === x0 ? M.left + plotW / 2 : M.left + ((x - x0) / (x1 - x0)) * plotW);
  const { fig, svg, yPos } = frame(opts, max, xs, xPos);
  opts.series.forEach((se, i) => {
    const color = colorOf(se, i);
    const pts = [...se.points].sort((a, b) => a.x - b.x);
    if (pts.length > 1) {
      const d = pts.map((p, j) => `${j ? "L" : "M"}${xPos(p.x).toFixed(1)},${yPos(p.y).toFixed(1)}`).join(" ");
      svg.appendChild(s("path", { d, fill: "none", stroke: color, "stroke-width": 2, "stroke-dasharray": se.dashed ? "5 4" : null, class: "line" }));
    }
    for (const p of pts) {
      svg.appendChild(
        s("circle", { cx: xPos(p.x).toFixed(1), cy: yPos(p.y).toFixed(1), r: 3, fill: color, class: "dot" },
          s("title", null, `${se.name} · ${opts.xFormat(p.x)}: ${opts.yFormat(p.y)}`)),
      );
    }
  });
  return fig;
}

/** Stacked bars: one bar per x, one segment per series. */
function barChart(opts: ChartOpts): HTMLElement {
  const xs = sortedXs(opts);
  if (!xs.length || !opts.series.length) return empty(opts);
  const totals = new Map<number, number>();
  for (const se of opts.series) for (const p of se.points) totals.set(p.x, (totals.get(p.x) ?? 0) + p.y);
  const max = niceMax(Math.max(0, ...totals.values()));
  const plotW = W - M.left - M.right;
  const slot = plotW / xs.length;
  const index = new Map(xs.map((x, i) => [x, i]));
  const xPos = (x: number) => M.left + slot * ((index.get(x) ?? 0) + 0.5);
  const { fig, svg, yPos } = frame(opts, max, xs, xPos);
  const bw = Math.max(1, Math.min(28, slot * 0.7));
  const base = new Map<number, number>();
  opts.series.forEach((se, i) => {
    const color = colorOf(se, i);
    for (const p of se.points) {
      if (!(p.y > 0)) continue;
      const b = base.get(p.x) ?? 0;
      const yTop = yPos(b + p.y);
      const yBot = yPos(b);
      base.set(p.x, b + p.y);
      svg.appendChild(
        s("rect", { x: (xPos(p.x) - bw / 2).toFixed(1), y: yTop.toFixed(1), width: bw.toFixed(1), height: Math.max(0.5, yBot - yTop).toFixed(1), fill: color, class: "bar" },
          s("title", null, `${se.name} · ${opts.xFormat(p.x)}: ${opts.yFormat(p.y)}`)),
      );
    }
  });
  return fig;
}

interface HBarItem {
  label: string;
  value: number;
  max: number;
  note: string;
}

/** A list of labelled horizontal bars (a value out of a max each), e.g. cache hit rate by group. */
function hbarChart(title: string, testId: string, items: HBarItem[]): HTMLElement {
  if (!items.length) {
    return h("figure", { class: "chart empty", "data-test": testId, id: testId },
      h("figcaption", null, title), h("p", { class: "muted" }, "No data in this window."));
  }
  const rowH = 22;
  const H = items.length * rowH + 8;
  const labelW = 180;
  const barW = W - labelW - 150;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img", "aria-label": title });
  items.forEach((it, i) => {
    const y = 4 + i * rowH;
    const frac = it.max > 0 ? Math.min(1, it.value / it.max) : 0;
    svg.appendChild(s("text", { x: labelW - 8, y: y + 14, class: "tick", "text-anchor": "end" }, it.label.length > 28 ? `${it.label.slice(0, 27)}…` : it.label));
    svg.appendChild(s("rect", { x: labelW, y: y + 3, width: barW, height: rowH - 8, class: "track" }));
    svg.appendChild(
      s("rect", { x: labelW, y: y + 3, width: Math.max(frac > 0 ? 1 : 0, frac * barW).toFixed(1), height: rowH - 8, fill: PALETTE[i % PALETTE.length], class: "bar" },
        s("title", null, `${it.label}: ${it.note}`)),
    );
    svg.appendChild(s("text", { x: labelW + barW + 8, y: y + 14, class: "tick" }, it.note));
  });
  return h("figure", { class: "chart", "data-test": testId, id: testId }, h("figcaption", null, title), svg);
}
