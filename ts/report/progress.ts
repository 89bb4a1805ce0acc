// One-line training progress, e.g.
//   epoch  3/10 [=========>          ]  235/469  loss 0.3412  acc 0.9123  48.1k samples/s  ETA 1:05
// Pure formatting: the caller writes it (with '\r' on a terminal).

export interface ProgressState {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  acc?: number;
  samplesPerSec: number;
  etaSec: number;
}

export interface ProgressOptions {
  /** Steps that fill the bar; default: the state's batches (the bar shows the current epoch). */
  total?: number;
  /** Bar width in characters between the brackets; default 30. */
  width?: number;
}

export function progressBar(options: ProgressOptions = {}): { render(state: ProgressState): string } {
  const width = Math.max(1, Math.floor(options.width ?? 30));
  return {
    render(s: ProgressState): string {
      const total = options.total ?? s.batches;
      const fraction = total > 0 ? s.batch / total : 0;
      const parts = [
        `epoch ${pad(s.epoch, s.epochs)}/${s.epochs} ${bar(fraction, width)} ${pad(s.batch, s.batches)}/${s.batches}`,
        `loss ${formatMetric(s.loss)}`,
      ];
      if (s.acc !== undefined) parts.push(`acc ${formatMetric(s.acc)}`);
      parts.push(`${formatRate(s.samplesPerSec)} samples/s`, `ETA ${formatDuration(s.etaSec)}`);
      return parts.join('  ');
    },
  };
}

function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.floor(f * width);
  if (filled >= width) return `[${'='.repeat(width)}]`;
  return `[${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}]`;
}

const pad = (n: number, widest: number) => String(n).padStart(String(widest).length);

function formatMetric(v: number): string {
  return Number.isFinite(v) ? v.toFixed(4) : String(v);
}

/** 950 -> "950", 48123 -> "48.1k", 2.5e6 -> "2.50M". */
export function formatRate(v: number): string {
  if (!Number.isFinite(v) || v < 0) return '-';
  if (v < 1000) return v.toFixed(0);
  if (v < 1e6) return `${(v / 1e3).toFixed(v < 1e4 ? 2 : 1)}k`;
  return `${(v / 1e6).toFixed(2)}M`;
}

/** Seconds as m:ss, or h:mm:ss from an hour; "--:--" when unknown. */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--:--';
  const total = Math.round(sec);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const ss = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
