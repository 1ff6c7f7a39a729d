/**
 * Hand-made SVG charts: a few hundred bytes of code instead of a charting library's tens of kilobytes.
 * Every chart is an <svg role="img"> with a summary label, and each bar has a <title> (a tooltip, read
 * by screen readers).
 */
const NS = "http://www.w3.org/2000/svg";

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export interface Series {
  name: string;
  color: string;
}

export interface Bucket {
  label: string;
  /** One value per series, in the series' order. */
  values: number[];
}

/** Grouped vertical bars over time (e.g. sends and blocks per hour); `labelEvery` thins the x labels. */
export function columns(host: HTMLElement, buckets: Bucket[], series: Series[], opts: { labelEvery: number; summary: string }): void {
  const W = 720, H = 200, left = 40, bottom = 22, top = 10;
  const max = Math.max(1, ...buckets.flatMap((b) => b.values));
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.summary, class: "chart-svg" });
  const plotW = W - left - 4, plotH = H - bottom - top;
  const step = plotW / Math.max(1, buckets.length);
  const barW = Math.max(1, (step * 0.8) / series.length);
  for (const f of [0, 0.5, 1]) {
    const y = top + plotH * (1 - f);
    svg.append(el("line", { x1: left, x2: W - 4, y1: y, y2: y, class: "grid" }), el("text", { x: left - 4, y: y + 4, "text-anchor": "end", class: "axis" }, String(Math.round(max * f))));
  }
  buckets.forEach((b, i) => {
    const x0 = left + i * step + step * 0.1;
    b.values.forEach((v, s) => {
      const h = (v / max) * plotH;
      const rect = el("rect", { x: x0 + s * barW, y: top + plotH - h, width: barW, height: Math.max(h, v > 0 ? 1 : 0), fill: series[s]!.color });
      rect.append(el("title", {}, `${b.label}: ${v} ${series[s]!.name}`));
      svg.append(rect);
    });
    if (i % opts.labelEvery === 0) svg.append(el("text", { x: x0 + (barW * series.length) / 2, y: H - 6, "text-anchor": "middle", class: "axis" }, b.label));
  });
  host.replaceChildren(svg, legend(series));
}

/** Horizontal bars, one per item (e.g. blocks per country), longest first. */
export function bars(host: HTMLElement, items: { label: string; value: number; text?: string }[], color: string, opts: { max?: number; summary: string; empty: string }): void {
  if (items.length === 0) {
    const p = document.createElement("p");
    p.className = "hint";
    p.textContent = opts.empty;
    host.replaceChildren(p);
    return;
  }
  const W = 360, row = 22, labelW = 110;
  const max = opts.max ?? Math.max(1, ...items.map((i) => i.value));
  const svg = el("svg", { viewBox: `0 0 ${W} ${items.length * row + 4}`, role: "img", "aria-label": opts.summary, class: "chart-svg" });
  items.forEach((item, i) => {
    const y = i * row + 2;
    const w = ((W - labelW - 95) * item.value) / max; // room for the value after the bar
    svg.append(el("text", { x: labelW - 6, y: y + 15, "text-anchor": "end", class: "label" }, item.label));
    const rect = el("rect", { x: labelW, y: y + 3, width: Math.max(w, item.value > 0 ? 1 : 0), height: row - 7, fill: color, rx: 2 });
    rect.append(el("title", {}, `${item.label}: ${item.text ?? item.value}`));
    svg.append(rect, el("text", { x: labelW + w + 5, y: y + 15, class: "value" }, item.text ?? String(item.value)));
  });
  host.replaceChildren(svg);
}

function legend(series: Series[]): HTMLElement {
  const ul = document.createElement("ul");
  ul.className = "legend";
  for (const s of series) {
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.style.background = s.color;
    li.append(swatch, s.name);
    ul.append(li);
  }
  return ul;
}
