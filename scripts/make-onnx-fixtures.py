#!/usr/bin/python3
# Writes tests/runtime/fixtures/onnx-models.ts: small PyTorch models exported with torch.onnx.export (eval mode),
# each with a fixed batch of inputs and PyTorch's outputs, so that the runtime suite checks the ONNX importer
# against PyTorch in every runtime without Python: MLPs, CNNs and recurrent models (nn.LSTM, nn.GRU, nn.RNN with
# batch_first, nn.Embedding). Also writes tests/runtime/fixtures/mlp-opset13.onnx and char-gru-opset17.onnx for the CLI.
# Run with Debian's python3-torch (torch.onnx.export needs no onnx package):  /usr/bin/python3 scripts/make-onnx-fixtures.py
import base64
import io
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'tests', 'runtime', 'fixtures')
BATCH = 3


class Mlp(nn.Module):
    """Gemm, BatchNormalization (after a Linear PyTorch keeps it), Relu, LeakyRelu, Elu, Sigmoid, Tanh, Softmax."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(12, 16)
        self.bn = nn.BatchNorm1d(16)
        self.drop = nn.Dropout(0.25)
        self.b = nn.Linear(16, 10)
        self.c = nn.Linear(10, 8)
        self.d = nn.Linear(8, 6)
        self.e = nn.Linear(6, 4)

    def forward(self, x):
        x = self.drop(F.relu(self.bn(self.a(x))))
        x = F.leaky_relu(self.b(x), 0.1)
        x = F.elu(self.c(x))
        x = torch.sigmoid(self.d(x))
        return torch.softmax(torch.tanh(self.e(x)), dim=1)


class GeluMlp(nn.Module):
    """GELU as PyTorch exports it (Div, Erf, Add, Mul, Mul), MatMul + Add, LogSoftmax."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(10, 16)
        self.w = nn.Parameter(torch.randn(16, 8) * 0.3)
        self.bias = nn.Parameter(torch.randn(8) * 0.1)
        self.c = nn.Linear(8, 3)

    def forward(self, x):
        x = F.gelu(self.a(x))
        x = F.gelu(x @ self.w + self.bias)
        return F.log_softmax(self.c(x), dim=1)


class BnCnn(nn.Module):
    """Conv (padding 1 and none), BatchNormalization (eval: folded into the conv), MaxPool, AveragePool, Flatten, Gemm."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.bn2 = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6 * 3 * 3, 5)

    def forward(self, x):  # x: (N, 3, 10, 10)
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)  # (N, 4, 5, 5)
        x = torch.sigmoid(self.bn2(self.conv2(x)))  # (N, 6, 3, 3)
        x = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)  # (N, 6, 3, 3)
        return self.fc(torch.flatten(x, 1))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResCnn(nn.Module):
    """A ResNet in small: an identity block, a strided block with a 1x1 projection, GlobalAveragePool, a reshape."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(2, 6, 3, padding=1)
        self.block1 = Block(6, 6, 1)
        self.block2 = Block(6, 8, 2)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):  # x: (N, 2, 7, 7)
        x = self.block2(self.block1(F.relu(self.stem(x))))  # (N, 8, 4, 4)
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(x.view(x.size(0), -1))


class EvenResNet(nn.Module):
    """ResNet's strided ops on even sizes: a 3x3 stride-2 stem, a 3x3 stride-2 max pool (padding 1), a downsampling block."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.block = Block(8, 8, 2)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):  # x: (N, 3, 16, 16)
        x = F.max_pool2d(F.relu(self.bn(self.stem(x))), 3, stride=2, padding=1)  # (N, 8, 4, 4)
        x = self.block(x)  # (N, 8, 2, 2)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class SeqCnn(nn.Module):
    """A 1-D CNN over sequences: Conv1d, BatchNorm1d (folded), MaxPool1d, a strided Conv1d on an even length, Flatten."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(2, 4, 3, padding=1)
        self.bn = nn.BatchNorm1d(4)
        self.conv2 = nn.Conv1d(4, 6, 3, stride=2, padding=1)
        self.fc = nn.Linear(6 * 4, 3)

    def forward(self, x):  # x: (N, 2, 16)
        x = F.max_pool1d(F.relu(self.bn(self.conv1(x))), 2)  # (N, 4, 8)
        x = torch.tanh(self.conv2(x))  # (N, 6, 4)
        return self.fc(torch.flatten(x, 1))


class LstmLast(nn.Module):
    """nn.LSTM (batch_first) read at its last step (Transpose, LSTM, Squeeze, Transpose, Gather), then a Linear."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(5, 8, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):  # x: (N, 7, 5)
        y, _ = self.rnn(x)
        return self.fc(y[:, -1, :])


class StackedLstm(nn.Module):
    """A two-layer nn.LSTM (two LSTM ops) with a Linear on every step (MatMul + Add on a sequence)."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 6, num_layers=2, batch_first=True)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):  # x: (N, 7, 4)
        y, _ = self.rnn(x)
        return self.fc(y)


class BiLstm(nn.Module):
    """A bidirectional nn.LSTM (direction=bidirectional; Transpose and Reshape join the directions), every step, tanh."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 5, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(10, 2)

    def forward(self, x):  # x: (N, 6, 4)
        y, _ = self.rnn(x)
        return torch.tanh(self.fc(y))


class CharGru(nn.Module):
    """A character model: nn.Embedding (Gather of a constant table by int64 ids), nn.GRU, the last step, logits."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(12, 6)
        self.rnn = nn.GRU(6, 8, batch_first=True)
        self.fc = nn.Linear(8, 12)

    def forward(self, x):  # x: (N, 9) token ids
        y, _ = self.rnn(self.emb(x))
        return F.log_softmax(self.fc(y[:, -1]), dim=1)


class GruState(nn.Module):
    """nn.GRU's final state h_n (the GRU op's second output Y_h, Gather of its one direction), then a Linear."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 7, batch_first=True)
        self.fc = nn.Linear(7, 2)

    def forward(self, x):  # x: (N, 8, 3)
        _, h = self.rnn(x)
        return self.fc(h[-1])


class BiGru(nn.Module):
    """A bidirectional nn.GRU over every step, into a Linear per step."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 4, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):  # x: (N, 5, 3)
        y, _ = self.rnn(x)
        return self.fc(y)


class StackedGruState(nn.Module):
    """A two-layer nn.GRU read through h_n[-1] (PyTorch: Gather of the Concat of both layers' Y_h)."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 5, num_layers=2, batch_first=True)
        self.fc = nn.Linear(5, 2)

    def forward(self, x):  # x: (N, 6, 3)
        _, h = self.rnn(x)
        return self.fc(h[-1])


class BiLstmState(nn.Module):
    """A two-layer bidirectional nn.LSTM read as torch.cat((h_n[-2], h_n[-1]), 1): the last layer's two final states."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 5, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(10, 3)

    def forward(self, x):  # x: (N, 6, 4)
        _, (h, _) = self.rnn(x)
        return self.fc(torch.cat((h[-2], h[-1]), dim=1))


class LstmSlice(nn.Module):
    """The last step kept as a step of its own (y[:, -1:], a Slice), flattened, then a Linear."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(3, 6, batch_first=True)
        self.fc = nn.Linear(6, 2)

    def forward(self, x):  # x: (N, 5, 3)
        y, _ = self.rnn(x)
        return self.fc(torch.flatten(torch.relu(y[:, -1:, :]), 1))


class ReluRnn(nn.Module):
    """nn.RNN(nonlinearity='relu') (the RNN op with activations [Relu]: a simpleRNN), its last step, a Linear."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(4, 6, nonlinearity='relu', batch_first=True)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):  # x: (N, 7, 4)
        y, _ = self.rnn(x)
        return self.fc(y[:, -1])


RECURRENT = {'relu_rnn', 'lstm_last', 'stacked_lstm', 'bilstm', 'char_gru', 'gru_state', 'bigru', 'stacked_gru_state', 'bilstm_state', 'lstm_slice'}
VOCAB = {'char_gru': 12}


def randomize_bn(model, gen):
    """Running statistics and affine weights that are not the identity, so that folding them is tested."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.2)


def shortest(values):
    """float32 values as the shortest decimals that read back as the same float32 (JS: Float32Array.from)."""
    return [float(str(np.float32(v))) for v in values]


def export(name, model, shape, opset, dynamic):
    gen = torch.Generator().manual_seed(1234)
    randomize_bn(model, gen)
    model.eval()
    if name.split('_opset')[0] in VOCAB:
        x = torch.randint(0, VOCAB[name.split('_opset')[0]], (BATCH, *shape), generator=gen)
    else:
        x = torch.randn(BATCH, *shape, generator=gen)
    with torch.no_grad():
        y = model(x)
    buf = io.BytesIO()
    torch.onnx.export(model, x, buf, opset_version=opset, input_names=['input'], output_names=['output'],
                      dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}} if dynamic else None,
                      training=torch.onnx.TrainingMode.EVAL, do_constant_folding=True)
    data = buf.getvalue()
    print(f'{name}: {len(data)} bytes')
    fixture = {
        'opset': opset,
        'onnx': base64.b64encode(data).decode('ascii'),
        'inputShape': list(shape),
        'outputShape': list(y.shape[1:]),
        'output': shortest(y.flatten().tolist()),
    }
    if name.split('_opset')[0] in RECURRENT:
        fixture['sequence'] = True  # the input is PyTorch's batch_first [N, steps, features] (or ids [N, steps]) as is
    return data, fixture, shortest([float(v) for v in x.flatten().tolist()])


def main():
    models = {}
    inputs = {}
    kinds = [('mlp', Mlp, (12,)), ('gelu_mlp', GeluMlp, (10,)), ('bn_cnn', BnCnn, (3, 10, 10)), ('res_cnn', ResCnn, (2, 7, 7)),
             ('even_resnet', EvenResNet, (3, 16, 16)), ('seq_cnn', SeqCnn, (2, 16)),
             ('lstm_last', LstmLast, (7, 5)), ('stacked_lstm', StackedLstm, (7, 4)), ('bilstm', BiLstm, (6, 4)),
             ('char_gru', CharGru, (9,)), ('gru_state', GruState, (8, 3)), ('bigru', BiGru, (5, 3)),
             ('stacked_gru_state', StackedGruState, (6, 3)), ('bilstm_state', BiLstmState, (6, 4)), ('lstm_slice', LstmSlice, (5, 3)),
             ('relu_rnn', ReluRnn, (7, 4))]
    for opset in (11, 13, 17):
        for kind, make, shape in kinds:
            if opset == 11 and kind in {'gelu_mlp', 'even_resnet', 'seq_cnn'} | RECURRENT:
                continue  # one opset-11 model of each other kind is enough (the recurrent ones: opsets 13 and 17)
            torch.manual_seed(7)
            data, fixture, x = export(f'{kind}_opset{opset}', make(), shape, opset, dynamic=(kind != 'bn_cnn'))
            assert inputs.setdefault(kind, x) == x  # the same inputs at every opset: written once
            models[f'{kind}_opset{opset}'] = (kind, fixture)
            if kind == 'mlp' and opset == 13:
                with open(os.path.join(OUT, 'mlp-opset13.onnx'), 'wb') as f:
                    f.write(data)
            if kind == 'char_gru' and opset == 17:
                with open(os.path.join(OUT, 'char-gru-opset17.onnx'), 'wb') as f:
                    f.write(data)
    lines = [
        f'// Generated by scripts/make-onnx-fixtures.py with torch {torch.__version__} (eval mode): do not edit.',
        '// Per model: the .onnx file in base64, its opset, a batch of inputs (NCHW for images, as PyTorch takes them;',
        "// one batch per kind of model, shared by its opsets) and PyTorch's outputs.",
        '/* eslint-disable */',
        'export interface OnnxFixture {\n  opset: number;\n  onnx: string;\n  inputShape: number[];\n  input: number[];\n'
        '  outputShape: number[];\n  output: number[];\n  /** A recurrent model: the input is PyTorch\'s batch_first layout as is (no NCHW -> NHWC). */\n'
        '  sequence?: boolean;\n}',
        '',
        f'export const BATCH = {BATCH};',
    ]
    lines += [f'const INPUT_{kind} = {json.dumps(x)};' for kind, x in inputs.items()]
    lines.append('export const MODELS: Record<string, OnnxFixture> = {')
    lines += [f'  {name}: {{ ...{json.dumps(f)}, input: INPUT_{kind} }},' for name, (kind, f) in models.items()]
    lines.append('};')
    with open(os.path.join(OUT, 'onnx-models.ts'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
