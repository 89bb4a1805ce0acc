// The page's two charts: the class probabilities as bars (DOM), and loss and accuracy during training (canvas).

/** Ten rows "digit, bar, percent" in the <ol> `list`; update(probs) redraws, update(null) empties them. */
export function probabilityBars(list) {
  const rows = Array.from({ length: 10 }, (_, d) => {
    const li = document.createElement('li');
    li.innerHTML = `<span class="label">${d}</span><span class="track"><span class="fill"></span></span><span class="pct"></span>`;
    list.append(li);
    return { li, fill: li.querySelector('.fill'), pct: li.querySelector('.pct') };
  });
  return {
    update(probs) {
      const top = probs ? probs.indexOf(Math.max(...probs)) : -1;
      rows.forEach(({ li, fill, pct }, d) => {
        const p = probs ? probs[d] : 0;
        fill.style.width = `${(p * 100).toFixed(1)}%`;
        pct.textContent = probs ? `${(p * 100).toFixed(p < 0.095 ? 1 : 0)}%` : '';
        li.classList.toggle('top', d === top);
      });
    },
  };
}

const COLORS = { loss: '#e76f51', accuracy: '#2a9d8f', grid: '#e6e8ef', text: '#5c6378' };

/**
 * Loss and accuracy against epochs, side by side on one canvas: the measured points faint, a smoothed line over
 * them. add({ x, loss, accuracy }) with x in epochs; reset(epochs) starts a new run.
 */
export function trainingChart(canvas) {
  let points = [];
  let epochs = 1;
  const ctx = canvas.getContext('2d');

  function draw() {
    const dpr = devicePixelRatio || 1;
    const { width: cssW, height: cssH } = canvas.getBoundingClientRect();
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const narrow = cssW < 520;
    const gap = 24;
    const panelW = narrow ? cssW : (cssW - gap) / 2;
    const panelH = narrow ? (cssH - gap) / 2 : cssH;
    const loss = niceScale(Math.max(0.5, ...points.map((p) => p.loss)));
    const minAcc = Math.min(0.8, ...points.map((p) => Math.floor(p.accuracy * 5) / 5));
    panel('loss', 0, 0, panelW, panelH, [0, loss.hi], loss.step, (v) => String(+v.toFixed(2)));
    panel('accuracy', narrow ? 0 : panelW + gap, narrow ? panelH + gap : 0, panelW, panelH, [minAcc, 1], minAcc >= 0.8 ? 0.05 : minAcc >= 0.6 ? 0.1 : 0.2,
      (v) => `${Math.round(v * 100)}%`);
  }

  function panel(key, left, top, w, h, [lo, hi], step, format) {
    const pad = { l: 40, r: 8, t: 22, b: 22 };
    const X = (x) => left + pad.l + (x / epochs) * (w - pad.l - pad.r);
    const Y = (v) => top + pad.t + (1 - (v - lo) / (hi - lo)) * (h - pad.t - pad.b);
    ctx.font = '12px system-ui, sans-serif';
    ctx.lineWidth = 1;
    ctx.fillStyle = COLORS.text;
    ctx.strokeStyle = COLORS.grid;
    ctx.textBaseline = 'middle';
    for (let i = 0; i <= Math.round((hi - lo) / step); i++) {
      const v = lo + i * step;
      line([[X(0), Y(v)], [X(epochs), Y(v)]]);
      ctx.textAlign = 'right';
      ctx.fillText(format(v), X(0) - 6, Y(v));
    }
    ctx.textAlign = 'center';
    const every = Math.ceil(epochs / 8);
    for (let e = 0; e <= epochs; e += every) ctx.fillText(String(e), X(e), top + h - 8);
    ctx.textAlign = 'left';
    ctx.fillStyle = COLORS[key];
    ctx.font = '600 12px system-ui, sans-serif';
    ctx.fillText(key === 'loss' ? 'loss (training)' : 'accuracy (training)', left + pad.l, top + 8);
    ctx.fillStyle = COLORS.text;
    ctx.font = '12px system-ui, sans-serif';
    ctx.textAlign = 'right';
    ctx.fillText('epoch', left + w - pad.r, top + 8);
    if (!points.length) return;
    ctx.strokeStyle = COLORS[key];
    ctx.globalAlpha = 0.3;
    line(points.map((p) => [X(p.x), Y(p[key])]));
    ctx.globalAlpha = 1;
    ctx.lineWidth = 2;
    // exponential smoothing, debiased as TensorBoard does (no lag towards the first point)
    let s = 0, weight = 0;
    line(points.map((p) => [X(p.x), Y(((s = 0.6 * s + 0.4 * p[key]), (weight = 0.6 * weight + 0.4), s / weight))]));
  }

  function line(pts) {
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.stroke();
  }

  new ResizeObserver(draw).observe(canvas);
  return {
    reset(n) {
      points = [];
      epochs = n;
      draw();
    },
    add(point) {
      points.push(point);
      draw();
    },
  };
}

/** An axis from 0 to at least `max` in 3 to 6 steps of 1, 2 or 5 times a power of ten. */
function niceScale(max) {
  const unit = 10 ** Math.floor(Math.log10(max / 4));
  const step = [1, 2, 5, 10].map((m) => m * unit).find((s) => max / s <= 6);
  return { hi: Math.ceil(max / step) * step, step };
}
