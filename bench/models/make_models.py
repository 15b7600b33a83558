#!/usr/bin/python3
"""Export the benchmark corpus models to ONNX with random (seeded) weights.

Run with the SYSTEM python, which has torch and torchvision (Debian's
python3-torch / python3-torchvision); the project's .venv does not have torch:

    /usr/bin/python3 bench/models/make_models.py [--force] [--out DIR] [NAME...]

Writes into bench/models/out/ (git-ignored), opset 17, eval mode, constant
folding on:

  minilm_b1.onnx, minilm_b8.onnx   BERT-style encoder, all-MiniLM-L6-v2 shape
                                   (6 layers, hidden 384, 12 heads, FFN 1536),
                                   inputs input_ids / attention_mask int64
                                   [B,128], output last_hidden_state [B,128,384]
  minilm_dyn.onnx                  same, symbolic batch and sequence dims
  resnet50_b{1,8}.onnx, resnet50_dyn.onnx
  mobilenetv2_b{1,8}.onnx, mobilenetv2_dyn.onnx
  vitb16_b1.onnx                   torchvision, input "input" [B,3,224,224],
                                   output "output" [B,1000]; *_dyn has a
                                   symbolic batch dim
  bertbase_b1.onnx                 the MiniLM encoder at BERT-base's shape
                                   (12 layers, hidden 768, 12 heads, FFN 3072)
  gpt2small_b1.onnx                GPT-2-small-shaped decoder (12 layers, 768,
                                   12 heads, vocab 50257, pre-norm, tanh GELU,
                                   causal mask, LM head tied to the token
                                   embedding): input_ids [B,128] -> logits

Existing files are skipped unless --force. NAME... restricts to the given
file stems (e.g. minilm_b1 resnet50_dyn).
"""
import argparse
import math
import os
import sys

import torch
import torch.nn as nn

OPSET = 17
SEQ = 128


# --------------------------------------------------------------------------
# MiniLM (all-MiniLM-L6-v2 architecture, BERT encoder)
# --------------------------------------------------------------------------
class MiniLMConfig:
    vocab_size = 30522
    hidden = 384
    layers = 6
    heads = 12
    intermediate = 1536
    max_positions = 512
    type_vocab = 2
    eps = 1e-12


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word = nn.Embedding(c.vocab_size, c.hidden)
        self.position = nn.Embedding(c.max_positions, c.hidden)
        self.token_type = nn.Embedding(c.type_vocab, c.hidden)
        self.norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.register_buffer("position_ids", torch.arange(c.max_positions).unsqueeze(0),
                             persistent=False)

    def forward(self, input_ids):
        seq = input_ids.size(1)
        pos = self.position_ids[:, :seq]
        tok = torch.zeros_like(input_ids)
        x = self.word(input_ids) + self.position(pos) + self.token_type(tok)
        return self.norm(x)


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c.heads
        self.head_dim = c.hidden // c.heads
        self.q = nn.Linear(c.hidden, c.hidden)
        self.k = nn.Linear(c.hidden, c.hidden)
        self.v = nn.Linear(c.hidden, c.hidden)
        self.out = nn.Linear(c.hidden, c.hidden)
        self.norm = nn.LayerNorm(c.hidden, eps=c.eps)

    def split(self, x):
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, mask_bias):
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores + mask_bias, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3)
        b, s = ctx.shape[0], ctx.shape[1]
        ctx = ctx.reshape(b, s, self.heads * self.head_dim)
        return self.norm(x + self.out(ctx))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = SelfAttention(c)
        self.fc1 = nn.Linear(c.hidden, c.intermediate)
        self.fc2 = nn.Linear(c.intermediate, c.hidden)
        self.act = nn.GELU()  # exact (erf) GELU
        self.norm = nn.LayerNorm(c.hidden, eps=c.eps)

    def forward(self, x, mask_bias):
        x = self.attention(x, mask_bias)
        return self.norm(x + self.fc2(self.act(self.fc1(x))))


class BertBaseConfig(MiniLMConfig):
    hidden = 768
    layers = 12
    intermediate = 3072


class MiniLM(nn.Module):
    def __init__(self, c=MiniLMConfig()):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.layers = nn.ModuleList(Layer(c) for _ in range(c.layers))

    def forward(self, input_ids, attention_mask):
        x = self.embeddings(input_ids)
        # [B,S] -> additive bias [B,1,1,S]: 0 where attended, large negative where masked.
        mask = attention_mask[:, None, None, :].to(x.dtype)
        mask_bias = (1.0 - mask) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, mask_bias)
        return x


def make_minilm(config=MiniLMConfig()):
    torch.manual_seed(0)
    m = MiniLM(config)
    # BERT-style init: N(0, 0.02) weights, zero biases; LayerNorm gamma/beta
    # perturbed so that the affine part is not the identity.
    for mod in m.modules():
        if isinstance(mod, (nn.Linear, nn.Embedding)):
            nn.init.normal_(mod.weight, std=0.02)
            if isinstance(mod, nn.Linear):
                nn.init.normal_(mod.bias, std=0.02)
        elif isinstance(mod, nn.LayerNorm):
            with torch.no_grad():
                mod.weight.uniform_(0.8, 1.2)
                mod.bias.normal_(std=0.05)
    return m.eval()


def minilm_inputs(batch):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, MiniLMConfig.vocab_size, (batch, SEQ), generator=g, dtype=torch.int64)
    mask = torch.ones(batch, SEQ, dtype=torch.int64)
    return ids, mask


# --------------------------------------------------------------------------
# GPT-2 small (decoder-only, pre-norm, causal)
# --------------------------------------------------------------------------
class GPT2Config:
    vocab_size = 50257
    positions = 1024
    hidden = 768
    layers = 12
    heads = 12
    eps = 1e-5


class GPT2Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.head_dim = c.heads, c.hidden // c.heads
        self.norm1 = nn.LayerNorm(c.hidden, eps=c.eps)
        self.qkv = nn.Linear(c.hidden, 3 * c.hidden)
        self.proj = nn.Linear(c.hidden, c.hidden)
        self.norm2 = nn.LayerNorm(c.hidden, eps=c.eps)
        self.fc = nn.Linear(c.hidden, 4 * c.hidden)
        self.act = nn.GELU(approximate="tanh")
        self.out = nn.Linear(4 * c.hidden, c.hidden)

    def forward(self, x, causal_bias):
        b, s, h = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(h, dim=-1)
        split = lambda t: t.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)  # noqa: E731
        q, k, v = split(q), split(k), split(v)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores + causal_bias, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(b, s, h)
        x = x + self.proj(ctx)
        return x + self.out(self.act(self.fc(self.norm2(x))))


class GPT2(nn.Module):
    def __init__(self, c=GPT2Config()):
        super().__init__()
        self.wte = nn.Embedding(c.vocab_size, c.hidden)
        self.wpe = nn.Embedding(c.positions, c.hidden)
        self.blocks = nn.ModuleList(GPT2Block(c) for _ in range(c.layers))
        self.norm = nn.LayerNorm(c.hidden, eps=c.eps)

    def forward(self, input_ids):
        s = input_ids.size(1)
        pos = torch.arange(s, dtype=torch.int64).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(pos)
        # Additive causal mask [1,1,S,S]: 0 on and below the diagonal.
        causal = torch.full((s, s), torch.finfo(x.dtype).min).triu(1)[None, None]
        for block in self.blocks:
            x = block(x, causal)
        # The LM head is the token embedding, transposed (tied weights).
        return torch.matmul(self.norm(x), self.wte.weight.t())


def make_gpt2():
    torch.manual_seed(0)
    m = GPT2()
    for mod in m.modules():
        if isinstance(mod, (nn.Linear, nn.Embedding)):
            nn.init.normal_(mod.weight, std=0.02)
            if isinstance(mod, nn.Linear):
                nn.init.normal_(mod.bias, std=0.02)
    return m.eval()


# --------------------------------------------------------------------------
# torchvision CNNs
# --------------------------------------------------------------------------
def randomize_bn(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                n = mod.num_features
                mod.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)  # [0.75, 1.25)
                mod.weight.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
                mod.bias.copy_(torch.randn(n, generator=g) * 0.1)
    return model


def make_torchvision(name):
    import torchvision
    torch.manual_seed(0)
    ctor = {"resnet50": torchvision.models.resnet50,
            "mobilenetv2": torchvision.models.mobilenet_v2,
            "vitb16": torchvision.models.vit_b_16}[name]
    m = ctor(weights=None)
    if name == "vitb16":
        # torchvision zero-initializes ViT's classifier: outputs would all be
        # 0 and any comparison trivially exact.
        nn.init.normal_(m.heads.head.weight, std=0.02)
        nn.init.normal_(m.heads.head.bias, std=0.02)
    return randomize_bn(m, seed=1).eval()


# --------------------------------------------------------------------------
def export(model, args, path, input_names, output_names, dynamic_axes):
    tmp = path + ".tmp"
    # Gradients stay enabled: under no_grad, eval-mode nn.MultiheadAttention
    # (ViT) takes a fused fast path that has no ONNX export.
    with torch.enable_grad():
        torch.onnx.export(model, args, tmp, opset_version=OPSET, do_constant_folding=True,
                          input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes or None,
                          training=torch.onnx.TrainingMode.EVAL)
    os.replace(tmp, path)


def build_jobs():
    jobs = {}
    for b in (1, 8):
        jobs[f"minilm_b{b}"] = ("minilm", b, False)
    jobs["minilm_dyn"] = ("minilm", 2, True)
    for net in ("resnet50", "mobilenetv2"):
        for b in (1, 8):
            jobs[f"{net}_b{b}"] = (net, b, False)
        jobs[f"{net}_dyn"] = (net, 2, True)
    jobs["vitb16_b1"] = ("vitb16", 1, False)
    jobs["bertbase_b1"] = ("bertbase", 1, False)
    jobs["gpt2small_b1"] = ("gpt2small", 1, False)
    return jobs


def make(kind):
    if kind == "minilm":
        return make_minilm()
    if kind == "bertbase":
        return make_minilm(BertBaseConfig())
    if kind == "gpt2small":
        return make_gpt2()
    return make_torchvision(kind)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(here, "out"))
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    ap.add_argument("names", nargs="*", help="file stems to make (default: all)")
    a = ap.parse_args()

    jobs = build_jobs()
    unknown = [n for n in a.names if n not in jobs]
    if unknown:
        sys.exit(f"unknown model(s): {' '.join(unknown)}; known: {' '.join(jobs)}")
    os.makedirs(a.out, exist_ok=True)
    models = {}
    for name in (a.names or list(jobs)):
        kind, batch, dynamic = jobs[name]
        path = os.path.join(a.out, name + ".onnx")
        if os.path.exists(path) and not a.force:
            print(f"{name + '.onnx':22s} {os.path.getsize(path) / 1e6:9.1f} MB  (exists, skipped)")
            continue
        if kind not in models:
            models[kind] = make(kind)
        model = models[kind]
        if kind == "gpt2small":
            args = (minilm_inputs(batch)[0] % GPT2Config.vocab_size,)
            ins, outs, dyn = ["input_ids"], ["logits"], None
        elif kind in ("minilm", "bertbase"):
            args = minilm_inputs(batch)
            ins, outs = ["input_ids", "attention_mask"], ["last_hidden_state"]
            dyn = ({"input_ids": {0: "batch", 1: "sequence"},
                    "attention_mask": {0: "batch", 1: "sequence"},
                    "last_hidden_state": {0: "batch", 1: "sequence"}} if dynamic else None)
        else:
            torch.manual_seed(0)
            args = (torch.randn(batch, 3, 224, 224),)
            ins, outs = ["input"], ["output"]
            dyn = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic else None
        export(model, args, path, ins, outs, dyn)
        print(f"{name + '.onnx':22s} {os.path.getsize(path) / 1e6:9.1f} MB", flush=True)


if __name__ == "__main__":
    main()
