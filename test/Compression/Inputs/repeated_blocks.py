"""Prints an MLIR onnx-dialect model of N repeated transformer-like blocks
for the layer-tying and shared-basis tests, and optionally its calibration
inputs (.npz).

Each block: q, k, v = x.Wq, x.Wk, x.Wv; a = softmax(q.k^T).v; r = x + a.Wo;
y = r + relu(r.W1 + b1).W2 (width 4, hidden 8, 2 rows). Weights are
initializers named `block<i>.<name>`.

  --weights same       every block holds the same values (exact copies)
  --weights different  each block's values differ (seeded)
  --weights rank2      each matrix is B.C_i (or C_i.B) with a rank-2 basis B
                       shared by all blocks along its larger dimension
  --variant shape      the last block's hidden width is 6, not 8
  --variant structure  the last block uses Tanh where the others use Relu
  --variant shared     block 0's W1 is also read by an op outside the blocks
  --linear gemm        weights stored transposed and applied by Gemm (transB),
                       as exported linear layers are
"""
import argparse

import numpy as np

WIDTH, ROWS = 4, 2


def dense(values):
    return "dense<" + np.array2string(values.astype(np.float32), separator=", ",
                                      threshold=10**6, floatmode="unique").replace("\n", "") + ">"


def tensor(*shape):
    return "tensor<" + "x".join(map(str, shape)) + "xf32>"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--weights", choices=["same", "different", "rank2"], default="different")
    parser.add_argument("--variant", choices=["none", "shape", "structure", "shared"],
                        default="none")
    parser.add_argument("--linear", choices=["matmul", "gemm"], default="matmul")
    parser.add_argument("--calibration", help="also write calibration inputs here")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    base = {name: rng.normal(0, 0.5, shape) for name, shape in
            [("wq", (WIDTH, WIDTH)), ("wk", (WIDTH, WIDTH)), ("wv", (WIDTH, WIDTH)),
             ("wo", (WIDTH, WIDTH)), ("w1", (WIDTH, 8)), ("b1", (8,)), ("w2", (8, WIDTH))]}
    bases = {name: rng.normal(0, 0.5, (max(value.shape), 2)) for name, value in base.items()
             if value.ndim == 2}
    lines = []
    out = lambda text: lines.append("    " + text)
    x = "%x"
    out("%none = onnx.None")
    for i in range(args.blocks):
        hidden = 6 if args.variant == "shape" and i == args.blocks - 1 else 8
        act = "Tanh" if args.variant == "structure" and i == args.blocks - 1 else "Relu"
        for name, value in base.items():
            if args.weights == "different":
                value = value + rng.normal(0, 0.05, value.shape)
            if args.weights == "rank2" and name in bases:
                rows, cols = value.shape
                if rows >= cols:
                    value = bases[name] @ rng.normal(0, 0.5, (2, cols))
                else:
                    value = rng.normal(0, 0.5, (rows, 2)) @ bases[name].T
            if name in ("w1", "b1"):
                value = value[..., :hidden]
            if name == "w2":
                value = value[:hidden]
            if args.linear == "gemm" and value.ndim == 2:
                value = value.T
            out(f'%b{i}_{name} = onnx.Initializer "block{i}.{name}" {dense(value)} : '
                f'{tensor(*value.shape)}')
        p, r2, r4, rh = f"%b{i}_", tensor(ROWS, ROWS), tensor(ROWS, WIDTH), tensor(ROWS, hidden)
        def mm(res, a, b, ta, tb, tr):
            if args.linear == "gemm" and b.startswith(p + "w"):
                rows, cols = tb[len("tensor<"):-len("xf32>")].split("x")
                out(f"{res} = onnx.Gemm({a}, {b}, %none) {{transB = 1 : i64}} : "
                    f"({ta}, {tensor(cols, rows)}, none) -> {tr}")
            else:
                out(f"{res} = onnx.MatMul({a}, {b}) : ({ta}, {tb}) -> {tr}")
        w44 = tensor(WIDTH, WIDTH)
        mm(f"{p}q", x, f"{p}wq", r4, w44, r4)
        mm(f"{p}k", x, f"{p}wk", r4, w44, r4)
        mm(f"{p}v", x, f"{p}wv", r4, w44, r4)
        out(f"{p}kt = onnx.Transpose({p}k) {{perm = array<i64: 1, 0>}} : ({r4}) -> {tensor(WIDTH, ROWS)}")
        mm(f"{p}s", f"{p}q", f"{p}kt", r4, tensor(WIDTH, ROWS), r2)
        out(f"{p}p = onnx.Softmax({p}s) {{axis = -1 : i64}} : ({r2}) -> {r2}")
        mm(f"{p}a", f"{p}p", f"{p}v", r2, r4, r4)
        mm(f"{p}o", f"{p}a", f"{p}wo", r4, w44, r4)
        out(f"{p}r = onnx.Add({x}, {p}o) : ({r4}, {r4}) -> {r4}")
        mm(f"{p}f", f"{p}r", f"{p}w1", r4, tensor(WIDTH, hidden), rh)
        out(f"{p}fb = onnx.Add({p}f, {p}b1) : ({rh}, {tensor(hidden)}) -> {rh}")
        out(f"{p}g = onnx.{act}({p}fb) : ({rh}) -> {rh}")
        mm(f"{p}d", f"{p}g", f"{p}w2", rh, tensor(hidden, WIDTH), r4)
        out(f"{p}y = onnx.Add({p}r, {p}d) : ({r4}, {r4}) -> {r4}")
        x = f"{p}y"
    if args.variant == "shared":
        out(f"%extra = onnx.ReduceSum(%b0_w1, %none) {{keepdims = 0 : i64}} : ({tensor(WIDTH, 8)}, none) -> tensor<f32>")
        out(f"%out = onnx.Add({x}, %extra) : ({tensor(ROWS, WIDTH)}, tensor<f32>) -> {tensor(ROWS, WIDTH)}")
        x = "%out"
    print('module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {')
    print(f'  func.func @graph(%x: {tensor(ROWS, WIDTH)} {{onnx.name = "x"}}) -> '
          f'({tensor(ROWS, WIDTH)} {{onnx.name = "y"}}) {{')
    print("\n".join(lines))
    print(f"    return {x} : {tensor(ROWS, WIDTH)}")
    print("  }\n}")
    if args.calibration:
        np.savez(args.calibration, x=np.random.default_rng(1).normal(size=(ROWS, WIDTH)).astype(np.float32))


if __name__ == "__main__":
    main()
