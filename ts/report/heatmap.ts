// A weight matrix as a standalone SVG heatmap (an attention map: rows are the query positions, columns the keys),
// with the row and column labels, a colour scale and a title. Pure string building, no platform API, so it runs in
// every runtime. Cells that are exactly 0 (a causal mask's future) are drawn grey, apart from merely small weights.
import { ValueError } from '../backend/errors';
import { escapeXml } from './svg';

export interface HeatmapOptions {
  title?: string;
  /** Side of one cell in px; default 22. */
  cell?: number;
  /** Axis captions; default 'query' (rows) and 'key' (columns). */
  rowCaption?: string;
  colCaption?: string;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const ZERO = '#e4e4e4';
const LOW = [247, 251, 255]; // the colour of weight 0 (just above) ...
const HIGH = [8, 48, 107]; // ... and of the largest weight: a light-to-dark blue ramp
const SCALE_STEPS = 20;

/** values: rows x cols, row-major; weights >= 0 (the scale runs from 0 to the largest one). */
export function heatmapSvg(values: ArrayLike<number>, rowLabels: readonly string[], colLabels: readonly string[], opts: HeatmapOptions = {}): string {
  const rows = rowLabels.length;
  const cols = colLabels.length;
  if (values.length !== rows * cols) throw new ValueError(`heatmapSvg: ${values.length} values for ${rows} x ${cols} labels`);
  const cell = opts.cell ?? 22;
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  const left = 56, top = (opts.title ? 34 : 8) + 40, scaleGap = 24, scaleWidth = 14;
  const gridW = cols * cell, gridH = Math.max(rows * cell, 120);
  const width = left + gridW + scaleGap + scaleWidth + 52;
  const height = top + gridH + 12;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12" fill="#222">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  if (opts.title) out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(opts.title)}</text>`);
  out.push(`<text x="${left + gridW / 2}" y="${top - 26}" text-anchor="middle" fill="#555">${escapeXml(opts.colCaption ?? 'key')} →</text>`);
  out.push(`<text x="14" y="${top + (rows * cell) / 2}" text-anchor="middle" fill="#555" transform="rotate(-90 14 ${top + (rows * cell) / 2})">${escapeXml(opts.rowCaption ?? 'query')} →</text>`);
  colLabels.forEach((label, c) => {
    out.push(`<text class="col-label" x="${left + c * cell + cell / 2}" y="${top - 6}" text-anchor="middle" font-family="monospace">${escapeXml(shown(label))}</text>`);
  });
  rowLabels.forEach((label, r) => {
    out.push(`<text class="row-label" x="${left - 8}" y="${top + r * cell + cell / 2 + 4}" text-anchor="end" font-family="monospace">${escapeXml(shown(label))}</text>`);
  });
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      const fill = v === 0 ? ZERO : colour(max > 0 ? v / max : 0);
      const tip = `${shown(rowLabels[r])} (${r}) → ${shown(colLabels[c])} (${c}): ${fmt(v)}`;
      out.push(`<rect class="cell" x="${left + c * cell}" y="${top + r * cell}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff" stroke-width="0.5"><title>${escapeXml(tip)}</title></rect>`);
    }
  }
  // the colour scale: 0 at the bottom, the largest weight at the top; the grey swatch below marks exact zeros
  const sx = left + gridW + scaleGap;
  const sh = Math.min(gridH, 200) - 22;
  out.push('<g class="scale">');
  for (let i = 0; i < SCALE_STEPS; i++) {
    const y = top + (sh * (SCALE_STEPS - 1 - i)) / SCALE_STEPS;
    out.push(`<rect x="${sx}" y="${round(y)}" width="${scaleWidth}" height="${round(sh / SCALE_STEPS + 0.5)}" fill="${colour((i + 0.5) / SCALE_STEPS)}"/>`);
  }
  out.push(`<rect x="${sx}" y="${top}" width="${scaleWidth}" height="${sh}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${sx + scaleWidth + 4}" y="${top + 8}" fill="#555">${fmt(max)}</text>`);
  out.push(`<text x="${sx + scaleWidth + 4}" y="${top + sh}" fill="#555">0</text>`);
  out.push(`<rect x="${sx}" y="${top + sh + 8}" width="${scaleWidth}" height="${scaleWidth}" fill="${ZERO}" stroke="#888"/>`);
  out.push(`<text x="${sx + scaleWidth + 4}" y="${top + sh + 19}" fill="#555">= 0</text>`);
  out.push('</g>', '</svg>');
  return out.join('\n') + '\n';
}

/** A label that can be seen: a space, tab or line break as a visible sign. */
function shown(label: string): string {
  return label === ' ' ? '␣' : label === '\n' ? '↵' : label === '\t' ? '⇥' : label === '' ? '∅' : label;
}

/** The ramp's colour at t in [0, 1]. */
function colour(t: number): string {
  const c = LOW.map((lo, i) => Math.round(lo + (HIGH[i] - lo) * Math.min(1, Math.max(0, t))));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

const fmt = (v: number) => (v >= 0.01 || v === 0 ? v.toFixed(3) : v.toExponential(1));
const round = (v: number) => Math.round(v * 100) / 100;
