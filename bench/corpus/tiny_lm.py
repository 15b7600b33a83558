"""Trains a tiny character-level decoder-only transformer on Debian's fortunes
and exports it to ONNX.

Run with Debian's python, which has torch (the project's .venv does not):

    /usr/bin/python3 bench/corpus/tiny_lm.py [--steps N]

Model: 4 pre-LayerNorm transformer blocks of width 256 (4 heads of 64, GELU
MLP of 1024), causal self-attention, learned position embeddings (up to 256
positions), a final LayerNorm, and TIED input/output embeddings: the output
projection is the transposed token embedding matrix (no separate output
matrix, no output bias).

Tokenization: character level (common.CharTokenizer): one token per
character of the training split, <end> after every fortune, <unk> for
characters the training split lacks. Described in models/tiny_lm_vocab.json.

Data: every fortune of /usr/share/games/fortunes (except ascii-art), split by
whole fortunes with a fixed seed: 5% evaluation, 2% calibration, the rest
training. Evaluation and calibration text is cut into windows of 128 tokens
and saved (models/tiny_lm_eval.npz, models/tiny_lm_calibration.npz); the
model never trains on them.

Exports the model (input "tokens" int64 [batch,seq], output "logits"
float32 [batch,seq,vocab]) and commits it compactly: models/tiny_lm_skeleton.onnx
(graph and small tensors) and models/tiny_lm_weights_int8.npz (matrices as
int8 rows with a scale each); common.ensure_lm_model() rebuilds the float
model in cache/. Also writes models/tiny_lm_training.json: the settings, the
held-out perplexity torch measured and the unigram baseline.
"""

import argparse
import math
import time

import numpy as np
import torch
from torch import nn

import common

WIDTH, LAYERS, HEADS, MAX_LEN = 256, 4, 4, 256


class Block(nn.Module):
    """Pre-LN block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(WIDTH)
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = nn.Linear(WIDTH, WIDTH)
        self.ln2 = nn.LayerNorm(WIDTH)
        self.mlp = nn.Sequential(nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(),
                                 nn.Linear(4 * WIDTH, WIDTH))

    def forward(self, x, mask, batch, seq):
        # x is the residual stream flattened to [batch*seq, WIDTH]: every
        # Linear then exports as a 2-D Gemm, which Pith runs ~8x faster than
        # a MatMul of a 3-D activation with a symbolic batch dimension.
        q, k, v = (t.reshape(batch, seq, HEADS, WIDTH // HEADS).transpose(1, 2)
                   for t in self.qkv(self.ln1(x)).split(WIDTH, dim=1))
        scores = q @ k.transpose(-1, -2) * (1.0 / math.sqrt(WIDTH // HEADS)) + mask
        attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch * seq, WIDTH)
        x = x + self.proj(attended)
        return x + self.mlp(self.ln2(x))


class TinyLM(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, WIDTH)
        self.positions = nn.Parameter(torch.zeros(MAX_LEN, WIDTH))
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln = nn.LayerNorm(WIDTH)
        # The causal mask is a constant added to the attention scores (0 on
        # and below the diagonal, a large negative number above), so the
        # exported graph needs no Trilu or Where: it slices this initializer.
        # -1e9 rather than -inf keeps every score finite.
        self.register_buffer("mask", torch.triu(torch.full((MAX_LEN, MAX_LEN), -1e9), 1))
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.positions, std=0.02)

    def forward(self, tokens):
        batch, seq = tokens.shape
        x = (self.embed(tokens) + self.positions[:seq]).reshape(batch * seq, WIDTH)
        mask = self.mask[:seq, :seq]
        for block in self.blocks:
            x = block(x, mask, batch, seq)
        # Tied output embedding.
        return (self.ln(x) @ self.embed.weight.t()).reshape(batch, seq, -1)


def perplexity(model, windows, batch=64):
    """exp(mean NLL) of every window's tokens after the first, each window
    scored from its own start: the figure evaluate.py computes."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(windows), batch):
            tokens = windows[start:start + batch]
            nll, n = common.sequence_nll(model(torch.from_numpy(tokens)).numpy(), tokens)
            total, count = total + nll, count + n
    return math.exp(total / count)


def unigram_perplexity(train_stream, windows, vocab_size):
    """Baseline: character frequencies of the training split (add-one
    smoothed), scored on the same predicted tokens as the model."""
    counts = np.bincount(train_stream, minlength=vocab_size) + 1.0
    logp = np.log(counts / counts.sum())
    return math.exp(-logp[windows[:, 1:]].mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not 2 <= args.seq <= MAX_LEN:
        raise SystemExit(f"error: --seq must be in [2, {MAX_LEN}], got {args.seq}")

    train_text, calibration_text, eval_text = common.split_fortunes(common.load_fortunes())
    tokenizer = common.CharTokenizer.fit(train_text)
    train_stream = tokenizer.encode_stream(train_text)
    eval_windows = common.windows(tokenizer.encode_stream(eval_text))
    calibration_windows = common.windows(tokenizer.encode_stream(calibration_text))
    common.MODELS_DIR.mkdir(parents=True, exist_ok=True)
    common.write_json(common.LM_VOCAB, tokenizer.describe())
    common.save_tokens(common.LM_EVAL, eval_windows)
    common.save_tokens(common.LM_CALIBRATION, calibration_windows)
    print(f"fortunes: {len(train_text)} training ({len(train_stream)} tokens), "
          f"{len(calibration_text)} calibration ({calibration_windows.shape[0]} windows), "
          f"{len(eval_text)} evaluation ({eval_windows.shape[0]} windows); "
          f"vocabulary {tokenizer.vocab_size}", flush=True)

    common.seed_everything(args.seed)
    model = TinyLM(tokenizer.vocab_size)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and n != "positions"]
    rest = [p for n, p in model.named_parameters() if p.dim() < 2 or n == "positions"]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": rest, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.98))
    warmup = max(1, args.steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(
        (step + 1) / warmup, 0.5 * (1 + math.cos(math.pi * min(step / args.steps, 1.0)))))
    generator = torch.Generator().manual_seed(args.seed)
    stream = torch.from_numpy(train_stream)
    offsets = torch.arange(args.seq + 1)
    start = time.time()
    model.train()
    for step in range(1, args.steps + 1):
        # Random windows of seq+1 tokens: inputs, and the next-token targets.
        starts = torch.randint(0, len(stream) - args.seq - 1, (args.batch, 1), generator=generator)
        chunk = stream[starts + offsets]
        logits = model(chunk[:, :-1])
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           chunk[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 25 == 0 or step == args.steps:
            print(f"step {step}/{args.steps}: loss {loss.item():.3f} "
                  f"({time.time() - start:.0f} s)", flush=True)
    seconds = time.time() - start

    held_out = perplexity(model, eval_windows)
    unigram = unigram_perplexity(train_stream, eval_windows, tokenizer.vocab_size)
    print(f"held-out perplexity {held_out:.3f} (unigram baseline {unigram:.3f})")
    sample = torch.tensor(tokenizer.encode_stream(["The "])[:-1])[None]
    with torch.no_grad():
        for _ in range(120):
            next_logits = model(sample[:, -MAX_LEN:])[0, -1]
            sample = torch.cat([sample, next_logits.argmax().reshape(1, 1)], 1)
    print("greedy sample:", repr(tokenizer.decode(sample[0].tolist())))

    example = torch.from_numpy(eval_windows[:2, :16])
    common.export_onnx(model, example, common.LM_MODEL, "tokens", "logits",
                       {"tokens": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}})
    common.pack_lm_model(common.LM_MODEL)
    common.write_json(common.LM_TRAINING, {
        "seed": args.seed, "steps": args.steps, "batch": args.batch, "seq": args.seq,
        "max_lr": args.lr, "train_seconds": round(seconds),
        "width": WIDTH, "layers": LAYERS, "heads": HEADS, "max_positions": MAX_LEN,
        "embeddings": "tied", "tokenization": "character", "vocab_size": tokenizer.vocab_size,
        "parameters": sum(p.numel() for p in model.parameters()),
        "fortunes": {"training": len(train_text), "calibration": len(calibration_text),
                     "evaluation": len(eval_text)},
        "train_tokens": len(train_stream), "window": common.LM_WINDOW,
        "eval_windows": int(eval_windows.shape[0]),
        "calibration_windows": int(calibration_windows.shape[0]),
        "torch_eval_perplexity": held_out, "unigram_eval_perplexity": unigram})


if __name__ == "__main__":
    main()
