#!/usr/bin/python3
"""Writes tests/runtime/fixtures/rnn-torch.ts: PyTorch's nn.LSTM and nn.GRU (the reference implementations of the
recurrent cells) on small fixed problems, in Keras's weight layout, so that tests/runtime/rnn-torch.test.ts checks
wasmnn's LSTM and GRU (resetAfter true) against them in every runtime without Python.

  /usr/bin/python3 scripts/make-rnn-fixtures.py        (Debian's python3-torch, 1.13)

Each case is a model recurrent(units, returnSequences) -> dense(classes, softmax) on float inputs [batch, steps,
features], trained with sparse categorical cross-entropy (mean over every target: [batch, steps] labels with
returnSequences, [batch] without). The fixture holds:
- the initial weights in Keras order and layout (what model.setWeights takes) and the inputs and labels;
- forward: the recurrent layer's output alone and the model's softmax output;
- the weights after 10 full-batch steps of SGD (lr 0.1) and, from the same start, of Adam (lr 0.01, betas 0.9 and
  0.999, eps 1e-7: torch.optim.Adam's update, lr * m_hat / (sqrt(v_hat) + eps), is TF.js's and wasmnn's).

From PyTorch's layout to Keras's:
- LSTM: weight_ih [4u, in] and weight_hh [4u, u] with gates i, f, g, o, Keras's i, f, c, o: kernel = weight_ih^T,
  recurrent_kernel = weight_hh^T. Keras has one bias [4u], PyTorch two (b_ih + b_hh): the script keeps b_hh at zero
  and frozen, so b_ih alone is Keras's bias and trains as it does (two trainable biases would move twice as fast).
- GRU: gates r, z, n against Keras's z, r, h: blocks reordered, then transposed. PyTorch's GRU applies the reset
  gate after the recurrent product, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)): Keras's resetAfter=true, whose
  bias [2, 3u] holds the input bias (row 0) and the recurrent bias (row 1), both trainable, as PyTorch's two.
- Linear: weight [classes, u] -> kernel [u, classes]; bias as is.
"""
import json
import os

import torch

torch.set_num_threads(1)
torch.manual_seed(13)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "runtime", "fixtures", "rnn-torch.ts")
TRAIN_STEPS = 10
SGD_LR = 0.1
ADAM_LR = 0.01
ADAM_EPS = 1e-7

CASES = [
    # name, cell, batch, steps, features, units, classes, returnSequences
    ("lstm-sequences", "lstm", 4, 6, 5, 7, 3, True),
    ("lstm-last", "lstm", 3, 5, 4, 6, 4, False),
    ("gru-sequences", "gru", 4, 6, 5, 7, 3, True),
    ("gru-last", "gru", 3, 5, 4, 6, 4, False),
]


def gru_blocks(w, u):
    """PyTorch's GRU blocks r, z, n (along the first axis) as Keras's z, r, h."""
    r, z, n = w[:u], w[u : 2 * u], w[2 * u :]
    return torch.cat([z, r, n])


class Net(torch.nn.Module):
    def __init__(self, cell, features, units, classes, sequences):
        super().__init__()
        self.cell = cell
        self.units = units
        self.sequences = sequences
        self.rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(features, units, batch_first=True)
        self.out = torch.nn.Linear(units, classes)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-0.5, 0.5)
            if cell == "lstm":
                self.rnn.bias_hh_l0.zero_()
        if cell == "lstm":
            self.rnn.bias_hh_l0.requires_grad_(False)

    def recurrent(self, x):
        h, _ = self.rnn(x)
        return h if self.sequences else h[:, -1]

    def forward(self, x):
        return self.out(self.recurrent(x))  # logits; the softmax is in the loss (and applied for the forward figure)

    def keras_weights(self):
        """The weights as Keras lists them: kernel, recurrent_kernel, bias, then the dense kernel and bias."""
        r, u = self.rnn, self.units
        if self.cell == "lstm":
            ws = [r.weight_ih_l0.T, r.weight_hh_l0.T, r.bias_ih_l0 + r.bias_hh_l0]
        else:
            ws = [gru_blocks(r.weight_ih_l0, u).T, gru_blocks(r.weight_hh_l0, u).T,
                  torch.stack([gru_blocks(r.bias_ih_l0, u), gru_blocks(r.bias_hh_l0, u)])]
        ws += [self.out.weight.T, self.out.bias]
        return [{"shape": list(w.shape), "data": flat(w)} for w in ws]


def flat(t):
    return [float(f"{v:.9g}") for v in t.detach().reshape(-1).tolist()]


def train(net, x, y, opt):
    loss_fn = torch.nn.CrossEntropyLoss()  # mean over every target, as Keras's sparse categorical cross-entropy
    for _ in range(TRAIN_STEPS):
        opt.zero_grad()
        logits = net(x)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        opt.step()
    return net.keras_weights()


def keras_recurrent(cell, weights, x, sequences):
    """Keras's cell equations on the Keras-layout weights: a check of the mapping above against PyTorch's output."""
    kernel, rec, bias = (torch.tensor(w["data"]).reshape(w["shape"]) for w in weights[:3])
    b, t, _ = x.shape
    u = rec.shape[0]
    h = torch.zeros(b, u)
    c = torch.zeros(b, u)
    outs = []
    for s in range(t):
        if cell == "lstm":
            z = x[:, s] @ kernel + h @ rec + bias
            i, f, g, o = z[:, :u].sigmoid(), z[:, u : 2 * u].sigmoid(), z[:, 2 * u : 3 * u].tanh(), z[:, 3 * u :].sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
        else:
            xz = x[:, s] @ kernel + bias[0]
            hz = h @ rec + bias[1]
            z = (xz[:, :u] + hz[:, :u]).sigmoid()
            r = (xz[:, u : 2 * u] + hz[:, u : 2 * u]).sigmoid()
            hh = (xz[:, 2 * u :] + r * hz[:, 2 * u :]).tanh()
            h = z * h + (1 - z) * hh
        outs.append(h)
    return torch.stack(outs, 1) if sequences else h


def make_case(name, cell, batch, steps, features, units, classes, sequences):
    start = Net(cell, features, units, classes, sequences)
    x = torch.empty(batch, steps, features).uniform_(-1, 1)
    y = torch.randint(0, classes, (batch, steps) if sequences else (batch,))
    state = {k: v.clone() for k, v in start.state_dict().items()}
    with torch.no_grad():
        recurrent = start.recurrent(x)
        probs = torch.softmax(start(x), dim=-1)
    initial = start.keras_weights()
    mapped = keras_recurrent(cell, initial, x, sequences)
    if not torch.allclose(mapped, recurrent, atol=1e-5):
        raise SystemExit(f"{name}: Keras's equations on the mapped weights differ from PyTorch's output")
    trained = {}
    for opt_name in ("sgd", "adam"):
        net = Net(cell, features, units, classes, sequences)
        net.load_state_dict(state)
        params = [p for p in net.parameters() if p.requires_grad]
        opt = (torch.optim.SGD(params, lr=SGD_LR) if opt_name == "sgd"
               else torch.optim.Adam(params, lr=ADAM_LR, betas=(0.9, 0.999), eps=ADAM_EPS))
        trained[opt_name] = train(net, x, y, opt)
    return {
        "cell": cell, "batch": batch, "steps": steps, "features": features, "units": units, "classes": classes,
        "returnSequences": sequences,
        "x": flat(x), "y": y.reshape(-1).tolist(),
        "initial": initial,
        "recurrent": {"shape": list(recurrent.shape), "data": flat(recurrent)},
        "output": {"shape": list(probs.shape), "data": flat(probs)},
        "afterSgd": trained["sgd"], "afterAdam": trained["adam"],
    }


def main():
    cases = {c[0]: make_case(*c) for c in CASES}
    header = (
        f"// Generated by scripts/make-rnn-fixtures.py with torch {torch.__version__} (nn.LSTM, nn.GRU): do not edit.\n"
        "// Weights in Keras's order and layout; see the script for the mapping from PyTorch's.\n"
        "/* eslint-disable */\n"
        "export interface Weight { shape: number[]; data: number[] }\n"
        "export interface RnnTorchCase {\n"
        "  cell: 'lstm' | 'gru'; batch: number; steps: number; features: number; units: number; classes: number;\n"
        "  returnSequences: boolean; x: number[]; y: number[]; initial: Weight[];\n"
        "  recurrent: Weight; output: Weight; afterSgd: Weight[]; afterAdam: Weight[];\n"
        "}\n"
        f"export const TRAIN_STEPS = {TRAIN_STEPS};\n"
        f"export const SGD_LR = {SGD_LR};\n"
        f"export const ADAM_LR = {ADAM_LR};\n"
        f"export const ADAM_EPS = {ADAM_EPS};\n"
    )
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(header)
        f.write(f"export const CASES: Record<string, RnnTorchCase> = {json.dumps(cases, separators=(',', ':'))};\n")
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
