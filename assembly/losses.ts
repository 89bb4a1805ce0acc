// Losses and metrics. Shapes: pred/target/grad/prob_out are (rows, cols) row-major; labels are i32 (rows);
// w is an optional per-sample weight array (rows), pointer 0 meaning all ones.
//
// Keras/TF.js reduction 'sum over batch size': loss = Σ_i w_i·l_i / rows, where l_i is the per-sample loss
// (the mean over cols for the regression and binary losses, the sum over classes for the categorical ones).
// Every loss returns that mean and WRITES grad = dLoss/dInput, already divided by rows (and cols where l_i is a
// mean). Elementwise math is f32 with the module's own Mathf.exp/log; row and batch sums are f64. Batches are
// small (batch x classes), so these are plain scalar loops.

/** Keras' epsilon (backend.epsilon()): probabilities are clipped to [EPS, 1 − EPS] before a log. */
const EPS: f32 = 1e-7;
const ONE_MINUS_EPS: f32 = 1.0 - EPS; // rounds to 1 − 2⁻²³ in f32

@inline function f32At(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
@inline function setF32(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }
@inline function sampleWeight(w: usize, r: i32): f32 { return w == 0 ? 1 : f32At(w, r); }
@inline function sign(x: f32): f32 { return x > 0 ? 1 : x < 0 ? -1 : 0; }
@inline function clampProb(p: f32): f32 { return min<f32>(max<f32>(p, EPS), ONE_MINUS_EPS); }

/** Index of the largest element of a row of `cols`; the first one on ties (as tf.argmax). */
@inline function rowArgmax(row: usize, cols: i32): i32 {
  let best = load<f32>(row);
  let arg = 0;
  for (let j = 1; j < cols; j++) {
    const v = f32At(row, j);
    if (v > best) {
      best = v;
      arg = j;
    }
  }
  return arg;
}

/** True where a probability lies outside [EPS, 1 − EPS], so clampProb changed it and its gradient is 0. */
@inline function isClipped(p: f32): bool { return p < EPS || p > ONE_MINUS_EPS; }

/** f32 sum of elements [o, o + cols) of p, in index order. */
@inline function rowSumF32(p: usize, o: i32, cols: i32): f32 {
  let sum: f32 = 0;
  for (let j = o; j < o + cols; j++) sum += f32At(p, j);
  return sum;
}

/** Largest logit of the row [o, o + cols). */
@inline function rowMax(logits: usize, o: i32, cols: i32): f32 {
  return f32At(logits, o + rowArgmax(logits + (<usize>o << 2), cols));
}

/** The softmax numerators of a row: out_j = e^(z_j − m) for j in [o, o + cols); returns their f32 sum. */
@inline function writeShiftedExps(logits: usize, out: usize, o: i32, cols: i32, m: f32): f32 {
  let sum: f32 = 0;
  for (let j = o; j < o + cols; j++) {
    const e = Mathf.exp(f32At(logits, j) - m);
    setF32(out, j, e);
    sum += e;
  }
  return sum;
}

// ---- losses whose l_i is a mean over the cols: regression losses and binary cross-entropy ----

const MEAN_MSE: i32 = 0;
const MEAN_MAE: i32 = 1;
const MEAN_HUBER: i32 = 2;
const MEAN_BCE: i32 = 3;
const MEAN_SIGMOID_BCE: i32 = 4;

/** The row loop these losses share: loss = Σ_i w_i·mean_j l_ij / rows, grad WRITTEN with scale w_i/(cols·rows).
 *  `a` is pred, prob or logits; prob_out is read only by MEAN_SIGMOID_BCE. `kind` is a MEAN_* constant at every call,
 *  so each exported loss inlines only its own element body. */
@inline function meanOverColsLoss(
  a: usize, target: usize, prob_out: usize, grad: usize, rows: i32, cols: i32, w: usize, kind: i32, delta: f32,
): f32 {
  if (rows <= 0) return 0;
  let total: f64 = 0;
  const halfDelta2: f32 = 0.5 * delta * delta;
  for (let r = 0; r < rows; r++) {
    const sw = sampleWeight(w, r);
    const scale: f32 = (kind == MEAN_MSE ? 2 * sw : sw) / (<f32>cols * <f32>rows);
    const o = r * cols;
    let rowSum: f64 = 0;
    for (let j = o; j < o + cols; j++) {
      if (kind == MEAN_MSE) {
        const d = f32At(a, j) - f32At(target, j);
        rowSum += <f64>(d * d);
        setF32(grad, j, d * scale);
      } else if (kind == MEAN_MAE) {
        const d = f32At(a, j) - f32At(target, j);
        rowSum += <f64>abs<f32>(d);
        setF32(grad, j, sign(d) * scale);
      } else if (kind == MEAN_HUBER) {
        const d = f32At(a, j) - f32At(target, j);
        const ad = abs<f32>(d);
        if (ad <= delta) {
          rowSum += <f64>(0.5 * d * d);
          setF32(grad, j, d * scale);
        } else {
          rowSum += <f64>(delta * ad - halfDelta2);
          setF32(grad, j, delta * sign(d) * scale);
        }
      } else if (kind == MEAN_BCE) {
        const p = f32At(a, j);
        const t = f32At(target, j);
        const pc = clampProb(p);
        rowSum -= <f64>(t * Mathf.log(pc) + (1 - t) * Mathf.log(1 - pc));
        setF32(grad, j, isClipped(p) ? 0 : (pc - t) / (pc * (1 - pc)) * scale);
      } else { // MEAN_SIGMOID_BCE
        const z = f32At(a, j);
        const t = f32At(target, j);
        const e = Mathf.exp(-abs<f32>(z)); // in (0, 1]
        const s: f32 = z >= 0 ? 1 / (1 + e) : e / (1 + e);
        rowSum += <f64>(max<f32>(z, 0) - z * t + Mathf.log1p(e));
        setF32(prob_out, j, s);
        setF32(grad, j, (s - t) * scale);
      }
    }
    total += <f64>sw * rowSum / <f64>cols;
  }
  return <f32>(total / <f64>rows);
}

/** l = mean (p − t)²; grad = 2(p − t)·w_i/(cols·rows). */
export function loss_mse(pred: usize, target: usize, grad: usize, rows: i32, cols: i32, w: usize): f32 {
  return meanOverColsLoss(pred, target, 0, grad, rows, cols, w, MEAN_MSE, 0);
}

/** l = mean |p − t|; grad = sign(p − t)·w_i/(cols·rows), sign(0) = 0 (TF's gradient of abs at 0). */
export function loss_mae(pred: usize, target: usize, grad: usize, rows: i32, cols: i32, w: usize): f32 {
  return meanOverColsLoss(pred, target, 0, grad, rows, cols, w, MEAN_MAE, 0);
}

/** Huber, d = p − t: l = mean(|d| ≤ δ ? d²/2 : δ·|d| − δ²/2);
 *  grad = (|d| ≤ δ ? d : δ·sign(d))·w_i/(cols·rows). */
export function loss_huber(pred: usize, target: usize, grad: usize, rows: i32, cols: i32, w: usize, delta: f32): f32 {
  return meanOverColsLoss(pred, target, 0, grad, rows, cols, w, MEAN_HUBER, delta);
}

/** BCE on probabilities: pc = clip(p, ε, 1 − ε), l = −mean(t·log pc + (1 − t)·log(1 − pc)).
 *  grad = (pc − t)/(pc(1 − pc))·w_i/(cols·rows) inside the clip range, 0 where p was clipped (the clip's own
 *  derivative, as in TF), so p = 0 or 1 gives a finite loss (−log ε ≈ 16.1) and a zero gradient. */
export function loss_bce(prob: usize, target: usize, grad: usize, rows: i32, cols: i32, w: usize): f32 {
  return meanOverColsLoss(prob, target, 0, grad, rows, cols, w, MEAN_BCE, 0);
}

/** BCE fused with the sigmoid, on logits z: l = mean(max(z, 0) − z·t + log(1 + e^−|z|)) (never overflows);
 *  prob_out = σ(z); grad = (σ(z) − t)·w_i/(cols·rows). */
export function loss_sigmoid_bce(
  logits: usize, target: usize, prob_out: usize, grad: usize, rows: i32, cols: i32, w: usize,
): f32 {
  return meanOverColsLoss(logits, target, prob_out, grad, rows, cols, w, MEAN_SIGMOID_BCE, 0);
}

// ---- categorical cross-entropy: l_i = sum over the classes (cols) ----

/** CCE on probabilities, as Keras/TF.js: q = p/Σp (each row renormalised), qc = clip(q, ε, 1 − ε),
 *  l = −Σ_j t_j·log qc_j (targets one-hot or soft). Exact gradient of that, through the renormalisation:
 *  a_j = −t_j/q_j (0 where q_j was clipped), grad_k = (a_k − Σ_j a_j·q_j)/Σp · w_i/rows.
 *  For a softmax output (Σp = 1) that is −t/p + Σt: the constant is annihilated by the softmax backward.
 *  Rows must have a positive sum. */
export function loss_cce(prob: usize, target: usize, grad: usize, rows: i32, cols: i32, w: usize): f32 {
  if (rows <= 0) return 0;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const sw = sampleWeight(w, r);
    const o = r * cols;
    const sum = rowSumF32(prob, o, cols);
    let rowSum: f64 = 0;
    let c: f32 = 0; // Σ_j a_j·q_j
    for (let j = o; j < o + cols; j++) {
      const q = f32At(prob, j) / sum;
      const t = f32At(target, j);
      rowSum -= <f64>(t * Mathf.log(clampProb(q)));
      const a: f32 = isClipped(q) ? 0 : -t / q;
      c += a * q;
      setF32(grad, j, a); // a_j, finished below
    }
    const scale: f32 = sw / (sum * <f32>rows);
    for (let j = o; j < o + cols; j++) setF32(grad, j, (f32At(grad, j) - c) * scale);
    total += <f64>sw * rowSum;
  }
  return <f32>(total / <f64>rows);
}

/** Softmax fused with CCE, on logits z: with lse = max z + log Σ_j e^(z_j − max z) (stable for any |z|),
 *  l = Σ_j t_j·(lse − z_j); prob_out = softmax(z); grad = (Σt·softmax − t)·w_i/rows
 *  (= softmax − t for targets that sum to 1). */
export function loss_softmax_cce(
  logits: usize, target: usize, prob_out: usize, grad: usize, rows: i32, cols: i32, w: usize,
): f32 {
  if (rows <= 0) return 0;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const sw = sampleWeight(w, r);
    const scale: f32 = sw / <f32>rows;
    const o = r * cols;
    const m = rowMax(logits, o, cols);
    const sum = writeShiftedExps(logits, prob_out, o, cols, m);
    const lse = m + Mathf.log(sum);
    let rowSum: f64 = 0;
    let tSum: f32 = 0;
    for (let j = o; j < o + cols; j++) {
      const t = f32At(target, j);
      rowSum += <f64>(t * (lse - f32At(logits, j)));
      tSum += t;
    }
    for (let j = o; j < o + cols; j++) {
      const y = f32At(prob_out, j) / sum;
      setF32(prob_out, j, y);
      setF32(grad, j, (tSum * y - f32At(target, j)) * scale);
    }
    total += <f64>sw * rowSum;
  }
  return <f32>(total / <f64>rows);
}

/** Sparse CCE on probabilities: loss_cce with a one-hot target at labels[i] (TF.js' definition):
 *  q = p/Σp, l = −log clip(q_label); grad_k = (1 − [k = label]/q_label)/Σp · w_i/rows, or 0 if q_label was
 *  clipped. A label outside [0, cols) makes the loss NaN (the runtime validates labels) and its gradient 0. */
export function loss_sparse_cce(prob: usize, labels: usize, grad: usize, rows: i32, cols: i32, w: usize): f32 {
  if (rows <= 0) return 0;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const sw = sampleWeight(w, r);
    const o = r * cols;
    const label = load<i32>(labels + (<usize>r << 2));
    if (label < 0 || label >= cols) {
      for (let j = o; j < o + cols; j++) setF32(grad, j, 0);
      total = NaN;
      continue;
    }
    const sum = rowSumF32(prob, o, cols);
    const q = f32At(prob, o + label) / sum;
    total -= <f64>sw * <f64>Mathf.log(clampProb(q));
    const clipped = isClipped(q);
    const scale: f32 = clipped ? 0 : sw / (sum * <f32>rows);
    for (let j = o; j < o + cols; j++) setF32(grad, j, scale);
    if (!clipped) setF32(grad, o + label, (1 - 1 / q) * scale);
  }
  return <f32>(total / <f64>rows);
}

/** Softmax fused with sparse CCE, on logits z: l = lse − z_label; prob_out = softmax(z);
 *  grad = (softmax − onehot(label))·w_i/rows. Stable for any |z|. A label outside [0, cols) gives a NaN loss
 *  and a zero gradient (prob_out is still written). */
export function loss_softmax_sparse_cce(
  logits: usize, labels: usize, prob_out: usize, grad: usize, rows: i32, cols: i32, w: usize,
): f32 {
  if (rows <= 0) return 0;
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const sw = sampleWeight(w, r);
    const o = r * cols;
    const label = load<i32>(labels + (<usize>r << 2));
    const valid = label >= 0 && label < cols;
    const scale: f32 = valid ? sw / <f32>rows : 0;
    const m = rowMax(logits, o, cols);
    const sum = writeShiftedExps(logits, prob_out, o, cols, m);
    for (let j = o; j < o + cols; j++) {
      const y = f32At(prob_out, j) / sum;
      setF32(prob_out, j, y);
      setF32(grad, j, y * scale);
    }
    if (!valid) {
      total = NaN;
      continue;
    }
    const lse = m + Mathf.log(sum);
    total += <f64>sw * <f64>(lse - f32At(logits, o + label));
    setF32(grad, o + label, (f32At(prob_out, o + label) - 1) * scale);
  }
  return <f32>(total / <f64>rows);
}

// ---- metrics: counts, so the runtime can sum them over batches ----

// With a padding mask (f32 per row, 0 or 1; 0: none) the padded rows of a sequence output count neither way.

/** Rows of prob (rows, cols) whose argmax (first on ties) equals labels[i] (i32). */
export function metric_correct_sparse(prob: usize, labels: usize, rows: i32, cols: i32, mask: usize): i32 {
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    if (mask && f32At(mask, r) == 0) continue;
    const arg = rowArgmax(prob + (<usize>(r * cols) << 2), cols);
    if (arg == load<i32>(labels + (<usize>r << 2))) correct++;
  }
  return correct;
}

/** Rows where argmax(prob) == argmax(target), both (rows, cols), first max on ties (Keras categorical_accuracy). */
export function metric_correct_onehot(prob: usize, target: usize, rows: i32, cols: i32, mask: usize): i32 {
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    if (mask && f32At(mask, r) == 0) continue;
    const o = <usize>(r * cols) << 2;
    if (rowArgmax(prob + o, cols) == rowArgmax(target + o, cols)) correct++;
  }
  return correct;
}

/** Elements of (rows, cols) where (prob > threshold ? 1 : 0) == target, as Keras binary_accuracy (targets 0/1). */
export function metric_correct_binary(prob: usize, target: usize, rows: i32, cols: i32, threshold: f32, mask: usize): i32 {
  let correct = 0;
  const n = rows * cols;
  for (let i = 0; i < n; i++) {
    if (mask && f32At(mask, i / cols) == 0) continue;
    const predicted: f32 = f32At(prob, i) > threshold ? 1 : 0;
    if (predicted == f32At(target, i)) correct++;
  }
  return correct;
}
