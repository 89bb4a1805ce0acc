// The drawing pad and MNIST's preprocessing. Strokes come from pointer events (mouse, pen, touch) and are kept as
// points in [0, 1], so the pad redraws sharply at any size; the ink is the canvas' alpha channel.

const STROKE = 0.085; // pen width as a share of the pad's side: MNIST strokes are ~2.5 px of a 20 px digit
const INK = '#14213d';

/** A drawing pad on `canvas`; `onStrokeEnd()` runs when a stroke is finished. */
export function drawingPad(canvas, { onStrokeStart, onStrokeEnd }) {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const strokes = [];
  let current = null;

  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height];
  };
  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    current = [at(e)];
    strokes.push(current);
    onStrokeStart?.();
    redraw();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!current) return;
    for (const p of e.getCoalescedEvents?.() ?? [e]) current.push(at(p));
    redraw();
  });
  const end = () => {
    if (!current) return;
    current = null;
    onStrokeEnd();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  function redraw() {
    const { width: w, height: h } = canvas;
    ctx.clearRect(0, 0, w, h);
    ctx.lineCap = ctx.lineJoin = 'round';
    ctx.lineWidth = STROKE * w;
    ctx.strokeStyle = ctx.fillStyle = INK;
    for (const s of strokes) {
      const pts = s.map(([x, y]) => [x * w, y * h]);
      ctx.beginPath();
      if (pts.length === 1) {
        ctx.arc(pts[0][0], pts[0][1], ctx.lineWidth / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      // a quadratic curve through the midpoints smooths the pointer's polyline
      ctx.moveTo(...pts[0]);
      for (let i = 1; i < pts.length - 1; i++) {
        ctx.quadraticCurveTo(pts[i][0], pts[i][1], (pts[i][0] + pts[i + 1][0]) / 2, (pts[i][1] + pts[i + 1][1]) / 2);
      }
      ctx.lineTo(...pts[pts.length - 1]);
      ctx.stroke();
    }
  }

  // the backing store follows the pad's CSS size and the screen's pixel ratio
  new ResizeObserver(() => {
    const r = canvas.getBoundingClientRect();
    const side = Math.max(1, Math.round(r.width * (devicePixelRatio || 1)));
    if (canvas.width !== side) {
      canvas.width = canvas.height = side;
      redraw();
    }
  }).observe(canvas);

  return {
    clear() {
      strokes.length = 0;
      current = null;
      redraw();
    },
    get empty() {
      return strokes.length === 0;
    },
    /** The drawing as MNIST sees digits: 28x28 bytes, 0 = paper; null when nothing is drawn. */
    pixels() {
      const { width: w, height: h } = canvas;
      return mnistPixels(ctx.getImageData(0, 0, w, h).data, w, h);
    },
  };
}

/**
 * MNIST's preprocessing of a w x h RGBA image whose alpha is ink: crop to the ink's bounding box, scale it to fit
 * 20x20 keeping its aspect (area average, so grey levels at the edges), and place it in 28x28 with its centre of
 * mass at the centre. Returns 784 bytes, or null when there is no ink.
 */
export function mnistPixels(rgba, w, h) {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (rgba[(y * w + x) * 4 + 3] > 16) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const scale = 20 / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale)), th = Math.max(1, Math.round(bh * scale));
  // each source pixel adds its ink to the target pixel it falls in; a target pixel is the mean of its sources
  const sum = new Float64Array(tw * th), count = new Float64Array(tw * th);
  for (let y = y0; y <= y1; y++) {
    const ty = Math.min(th - 1, Math.floor(((y - y0) * th) / bh));
    for (let x = x0; x <= x1; x++) {
      const t = ty * tw + Math.min(tw - 1, Math.floor(((x - x0) * tw) / bw));
      sum[t] += rgba[(y * w + x) * 4 + 3];
      count[t]++;
    }
  }
  let mass = 0, cx = 0, cy = 0;
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      const v = (sum[ty * tw + tx] /= count[ty * tw + tx]);
      mass += v;
      cx += v * (tx + 0.5);
      cy += v * (ty + 0.5);
    }
  }
  const clamp = (v, hi) => Math.max(0, Math.min(hi, v));
  const ox = clamp(Math.round(14 - cx / mass), 28 - tw), oy = clamp(Math.round(14 - cy / mass), 28 - th);
  const out = new Uint8Array(28 * 28);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) out[(oy + ty) * 28 + ox + tx] = Math.round(sum[ty * tw + tx]);
  }
  return out;
}

/** Shows 28x28 bytes on a 28x28 canvas, ink dark on paper (CSS scales it up, pixelated). */
export function showPixels(canvas, pixels) {
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = 255 - (pixels?.[i] ?? 0);
    image.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}
