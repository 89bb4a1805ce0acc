// Training curves as a standalone SVG: a loss panel and, when accuracy was recorded, an accuracy panel,
// each with train and validation lines. Only arithmetic is used (no log/pow), so output is the same everywhere.

export interface History {
  loss: number[];
  valLoss?: number[];
  acc?: number[];
  valAcc?: number[];
}

export interface CurvesOptions {
  /** Size of one panel in px; default 420 x 300. */
  panelWidth?: number;
  panelHeight?: number;
  title?: string;
}

interface Series {
  name: string;
  values: number[];
  color: string;
  dashed: boolean;
}

interface Panel {
  title: string;
  series: Series[];
  /** Natural limits of the values (loss >= 0, accuracy in [0, 1]): the axis padding does not cross them. */
  bounds: [number, number];
}

interface Box {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

const TRAIN = '#1f77b4';
const VALIDATION = '#e8710a';
const MARGIN = { left: 58, right: 16, top: 34, bottom: 44 };
const X_INSET = 10;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

export function curvesSvg(history: History, opts: CurvesOptions = {}): string {
  const panelWidth = opts.panelWidth ?? 420;
  const panelHeight = opts.panelHeight ?? 300;
  const titleHeight = opts.title ? 30 : 0;
  const panels: Panel[] = [
    { title: 'Loss', series: pair(history.loss, history.valLoss), bounds: [0, Infinity] },
  ];
  if (history.acc || history.valAcc) {
    panels.push({ title: 'Accuracy', series: pair(history.acc, history.valAcc), bounds: [0, 1] });
  }
  const width = panelWidth * panels.length;
  const height = panelHeight + titleHeight;
  const body = panels.map((p, i) => panel(p, { x0: i * panelWidth, y0: titleHeight, w: panelWidth, h: panelHeight }));
  const title = opts.title
    ? `<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="600">${escapeXml(opts.title)}</text>`
    : '';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12" fill="#222">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    title,
    ...body,
    '</svg>',
  ].filter((s) => s !== '').join('\n') + '\n';
}

function pair(train?: number[], validation?: number[]): Series[] {
  const series: Series[] = [];
  if (train?.length) series.push({ name: 'train', values: train, color: TRAIN, dashed: false });
  if (validation?.length) series.push({ name: 'validation', values: validation, color: VALIDATION, dashed: true });
  return series;
}

function panel({ title, series, bounds }: Panel, { x0, y0, w, h }: Box): string {
  const left = x0 + MARGIN.left;
  const right = x0 + w - MARGIN.right;
  const top = y0 + MARGIN.top;
  const bottom = y0 + h - MARGIN.bottom;
  const epochs = series.reduce((n, s) => Math.max(n, s.values.length), 1);
  const finite = series.flatMap((s) => s.values.filter(Number.isFinite));
  const yTicks = niceTicks(...paddedRange(finite, bounds), 5);
  const xTicks = [...new Set([1, ...niceTicks(1, epochs, 6)])].filter((t) => Number.isInteger(t) && t >= 1 && t <= epochs);
  const yMin = yTicks[0];
  const yMax = yTicks[yTicks.length - 1];
  // Epochs are inset from the axes so dots do not sit on them; a single epoch is centred.
  const px = (epoch: number) =>
    epochs === 1 ? round((left + right) / 2) : round(left + X_INSET + ((epoch - 1) / (epochs - 1)) * (right - left - 2 * X_INSET));
  const py = (v: number) => round(bottom - ((v - yMin) / (yMax - yMin)) * (bottom - top));

  const out: string[] = [`<g>`];
  out.push(`<text x="${x0 + w / 2}" y="${y0 + 20}" text-anchor="middle" font-size="14" font-weight="600">${title}</text>`);
  for (const t of yTicks) {
    out.push(`<line x1="${left}" x2="${right}" y1="${py(t)}" y2="${py(t)}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${left - 6}" y="${py(t) + 4}" text-anchor="end" fill="#555">${t.toFixed(decimalsOf(yTicks[1] - yTicks[0]))}</text>`);
  }
  for (const t of xTicks) {
    out.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${bottom}" y2="${bottom + 5}" stroke="#888"/>`);
    out.push(`<text x="${px(t)}" y="${bottom + 18}" text-anchor="middle" fill="#555">${t}</text>`);
  }
  out.push(`<path d="M${left} ${top}V${bottom}H${right}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${(left + right) / 2}" y="${y0 + h - 8}" text-anchor="middle" fill="#333">epoch</text>`);
  const yLabel = title.toLowerCase();
  const midY = (top + bottom) / 2;
  out.push(`<text x="${x0 + 14}" y="${midY}" text-anchor="middle" transform="rotate(-90 ${x0 + 14} ${midY})" fill="#333">${yLabel}</text>`);
  for (const s of series) out.push(line(s, px, py));
  const corner = quietestCorner(series, px, py, { left, right, top, bottom });
  out.push(legend(series, corner.x, corner.y));
  out.push('</g>');
  return out.join('\n');
}

/** A path through the finite values (a gap at NaN or Infinity), with dots when there are few points. */
function line(s: Series, px: (e: number) => number, py: (v: number) => number): string {
  let d = '';
  let pen = 'M';
  const dots: string[] = [];
  s.values.forEach((v, i) => {
    if (!Number.isFinite(v)) { pen = 'M'; return; }
    d += `${pen}${px(i + 1)} ${py(v)}`;
    pen = 'L';
    if (s.values.length <= 40) dots.push(`<circle cx="${px(i + 1)}" cy="${py(v)}" r="2.5" fill="${s.color}"/>`);
  });
  const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
  const path = d ? `<path class="series" data-name="${s.name}" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash} stroke-linejoin="round"/>` : '';
  return [path, ...dots].join('\n');
}

/** The corner of the plot area whose legend box would cover the fewest data points. */
function quietestCorner(
  series: Series[],
  px: (e: number) => number,
  py: (v: number) => number,
  area: { left: number; right: number; top: number; bottom: number },
): { x: number; y: number } {
  const w = legendWidth(series);
  const h = series.length * 18 + 4;
  const corners = [
    { x: area.right - w - 6, y: area.top + 6 },
    { x: area.right - w - 6, y: area.bottom - h - 6 },
    { x: area.left + 6, y: area.top + 6 },
    { x: area.left + 6, y: area.bottom - h - 6 },
  ];
  const covered = (c: { x: number; y: number }) =>
    series.reduce((n, s) => n + s.values.filter((v, i) => {
      const x = px(i + 1);
      const y = py(v);
      return x >= c.x - 4 && x <= c.x + w + 4 && y >= c.y - 4 && y <= c.y + h + 4;
    }).length, 0);
  const counts = corners.map(covered);
  return corners[counts.indexOf(Math.min(...counts))];
}

/** Room for the line sample and the longest name (about 7 px a character at 12 px). */
const legendWidth = (series: Series[]) => 36 + 7 * Math.max(...series.map((s) => s.name.length));

function legend(series: Series[], x: number, y: number): string {
  if (series.length === 0) return '';
  const rows = series.map((s, i) => {
    const cy = y + 10 + i * 18;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    return `<line x1="${x + 8}" x2="${x + 30}" y1="${cy}" y2="${cy}" stroke="${s.color}" stroke-width="2"${dash}/>` +
      `<text x="${x + 36}" y="${cy + 4}">${s.name}</text>`;
  });
  const box = `<rect x="${x}" y="${y}" width="${legendWidth(series)}" height="${series.length * 18 + 4}" rx="3" fill="#fff" fill-opacity="0.85" stroke="#ccc"/>`;
  return [box, ...rows].join('\n');
}

/** The values' range widened by 5% each way (a single value by 10% of itself), so points rarely sit on the frame, but not past the natural bounds. */
function paddedRange(values: number[], [lo, hi]: [number, number]): [number, number] {
  if (values.length === 0) return [0, 1];
  const min = values.reduce((a, b) => Math.min(a, b));
  const max = values.reduce((a, b) => Math.max(a, b));
  const pad = max > min ? (max - min) * 0.05 : min === 0 ? 1 : Math.abs(min) / 10;
  return [min >= lo ? Math.max(lo, min - pad) : min - pad, max <= hi ? Math.min(hi, max + pad) : max + pad];
}

/** About `count` evenly spaced round numbers (1, 2 or 5 times a power of ten) covering [min, max]. */
export function niceTicks(min: number, max: number, count: number): number[] {
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) / 10;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / count;
  let power = 1;
  while (power * 10 <= raw) power *= 10;
  while (power > raw) power /= 10;
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw * (1 - 1e-9))!; // tolerate rounding in raw
  const decimals = decimalsOf(step);
  const ticks: number[] = [];
  for (let i = Math.floor(min / step); i <= Math.ceil(max / step); i++) ticks.push(Number((i * step).toFixed(decimals)));
  return ticks;
}

/** How many decimals show a multiple of step exactly (0.25 -> 2, 5 -> 0). */
function decimalsOf(step: number): number {
  let decimals = 0;
  let scaled = step;
  while (decimals < 12 && Math.abs(scaled - Math.round(scaled)) > 1e-9 * scaled) {
    scaled *= 10;
    decimals++;
  }
  return decimals;
}

const round = (v: number) => Math.round(v * 100) / 100;

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
