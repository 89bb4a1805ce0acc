// model.summary(): the table Keras and TF.js print — layers, output shapes, parameter counts.
import type { Layer } from '../layers/layer';

export function formatSummary(name: string, layers: Layer[]): string {
  const rows = layers.map((l) => [`${l.name} (${l.className})`, `[null,${l.outputShape.join(',')}]`, String(l.paramCount)]);
  const widths = [Math.max(29, ...rows.map((r) => r[0].length + 2)), Math.max(26, ...rows.map((r) => r[1].length + 2)), 12];
  const total = widths.reduce((a, b) => a + b, 0);
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('').trimEnd();
  const trainable = layers.reduce((a, l) => a + l.params.filter((p) => p.trainable).reduce((s, p) => s + p.size, 0), 0);
  const all = layers.reduce((a, l) => a + l.paramCount, 0);
  const out = [`Model: "${name}"`, '_'.repeat(total), line(['Layer (type)', 'Output shape', 'Param #']), '='.repeat(total)];
  rows.forEach((r, i) => {
    out.push(line(r));
    out.push(i === rows.length - 1 ? '='.repeat(total) : '_'.repeat(total));
  });
  out.push(`Total params: ${all.toLocaleString('en-US')}`);
  out.push(`Trainable params: ${trainable.toLocaleString('en-US')}`);
  out.push(`Non-trainable params: ${(all - trainable).toLocaleString('en-US')}`);
  out.push('_'.repeat(total));
  return out.join('\n');
}
