// What a person sees while a model trains: a live progress line on a terminal (redrawn with '\r' at most ten times a
// second), and one line per epoch with train and validation loss and accuracy. It also times the training steps.
import * as nn from 'wasmnn';

export type Logs = Record<string, number | undefined>;

export interface ProgressOptions {
  epochs: number;
  /** Training samples per epoch (validation excluded) and the batch size: they give the batches per epoch. */
  samples: number;
  batchSize: number;
  /** Redraw a progress line (stdout is a terminal); else print only the epoch lines. */
  live: boolean;
  /** Print nothing. */
  quiet: boolean;
  /** The epoch line's figures after "epoch e/E" (default: loss, acc, val_loss, val_acc, seconds, samples/s). */
  describeEpoch?: (logs: Logs, seconds: number, samples: number) => string[];
}

export interface TrainingClock {
  /** Seconds spent in training steps, from each epoch's start to its last batch (validation not included). */
  trainSeconds: number;
  /** Samples trained on over all epochs. */
  samples: number;
}

const REDRAW_MS = 100;
let lineOpen = false; // a progress line is on the terminal, not yet ended by a newline

/** Ends an unfinished progress line, so that an error message starts on a line of its own. */
export function endProgressLine(): void {
  if (lineOpen) process.stdout.write('\n');
  lineOpen = false;
}

export function trainingProgress(opts: ProgressOptions) {
  const out = process.stdout;
  const bar = nn.report.progressBar({ width: 24 });
  const batches = Math.ceil(opts.samples / opts.batchSize);
  const clock: TrainingClock = { trainSeconds: 0, samples: 0 };
  let epochStart = 0;
  let lastDraw = 0;
  let batch = 0;
  let seen = 0;
  let lossSum = 0;
  let accSum = 0;
  let hasAcc = false;

  const elapsed = () => (performance.now() - epochStart) / 1000;
  const draw = (epoch: number) => {
    const seconds = elapsed();
    const rate = seen / seconds;
    const left = (opts.epochs - epoch) * opts.samples + opts.samples - seen; // still to train: this epoch's rest, later epochs
    const line = bar.render({
      epoch, epochs: opts.epochs, batch, batches,
      loss: lossSum / seen, acc: hasAcc ? accSum / seen : undefined,
      samplesPerSec: rate, etaSec: left / rate,
    });
    out.write(`\r${line.slice(0, (out.columns || 120) - 1)}\x1b[K`);
    lineOpen = true;
  };

  let epochNumber = 1;
  let stepSeconds = 0; // this epoch's training time, fixed at its last batch
  const callbacks = {
    onEpochBegin(epoch: number) {
      epochNumber = epoch + 1;
      epochStart = lastDraw = performance.now();
      batch = seen = lossSum = accSum = stepSeconds = 0;
    },
    /** Batch logs hold that batch's loss and accuracy; the line shows their running mean over the epoch. */
    onBatchEnd(_batch: number, logs: Logs = {}) {
      const size = logs.size ?? opts.batchSize;
      batch++;
      seen += size;
      lossSum += (logs.loss ?? NaN) * size;
      const acc = logs.accuracy ?? logs.acc;
      if (acc !== undefined) {
        hasAcc = true;
        accSum += acc * size;
      }
      const now = performance.now();
      if (batch === batches) stepSeconds = elapsed();
      if (opts.live && !opts.quiet && (now - lastDraw >= REDRAW_MS || batch === batches)) {
        lastDraw = now;
        draw(epochNumber);
      }
    },
    onEpochEnd(epoch: number, logs: Logs = {}) {
      if (stepSeconds === 0) stepSeconds = elapsed(); // fewer batches than expected (never, unless fit stopped early)
      clock.trainSeconds += stepSeconds;
      clock.samples += seen;
      if (opts.quiet) return;
      const line = opts.describeEpoch
        ? [epochLabel(epoch + 1, opts.epochs), ...opts.describeEpoch(logs, stepSeconds, seen)].join('  ')
        : epochLine(epoch + 1, opts.epochs, logs, stepSeconds, seen / stepSeconds);
      out.write(opts.live ? `\r${line}\x1b[K\n` : `${line}\n`);
      lineOpen = false;
    },
  };
  return { callbacks, clock };
}

function epochLine(epoch: number, epochs: number, logs: Logs, seconds: number, rate: number): string {
  const parts = [epochLabel(epoch, epochs)];
  const add = (label: string, v: number | undefined) => {
    if (v !== undefined) parts.push(`${label} ${v.toFixed(4)}`);
  };
  add('loss', logs.loss);
  add('acc', logs.accuracy ?? logs.acc);
  add('val_loss', logs.val_loss);
  add('val_acc', logs.val_accuracy ?? logs.val_acc);
  parts.push(`${seconds.toFixed(1)} s`, `${nn.report.formatRate(rate)} samples/s`);
  return parts.join('  ');
}

const epochLabel = (epoch: number, epochs: number) => `epoch ${String(epoch).padStart(String(epochs).length)}/${epochs}`;
