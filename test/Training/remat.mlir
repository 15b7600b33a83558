// pith-remat on the training step of a 4-layer tanh MLP (batch 64, so
// that activations count): which activations are recomputed, where the
// clones go, the report, and the errors. The activations are the four tanh
// outputs (their gradients and the next MatMul's weight gradient read
// them) and the logits (the loss's backward reads them).
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="solver=none" | FileCheck %s --check-prefix=NONE
// NONE: "0 of 5 activations recomputed (0 ops cloned, 0.00e+00 FLOPs per step); activation memory 133.6 kB -> 133.6 kB; all intermediates 332.8 kB -> 332.8 kB"
// NONE-NOT: pith.recompute

// Three quarters of the activation memory: the greedy solver drops tanh1
// and tanh2 and recomputes them (with the MatMuls they come from) right
// before the first backward op that reads them, once for both readers. The
// MatMul outputs are working memory of the recomputation (no backward op
// reads them), so the copies of tanh1 and tanh2 are what counts.
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.75" | FileCheck %s --check-prefix=GREEDY
// GREEDY: "2 of 5 activations recomputed (4 ops cloned, 2.64e+06 FLOPs per step); activation memory 133.6 kB -> 68.1 kB (budget 100.2 kB)
// GREEDY: onnx.MatMul(%arg0, %arg2) {pith.backward, pith.recompute = "mm1"}
// GREEDY-NEXT: onnx.Tanh(%{{.*}}) {pith.backward, pith.recompute = "tanh1"}
// GREEDY-NEXT: onnx.MatMul(%{{.*}}, %arg3) {pith.backward, pith.recompute = "mm2"}
// GREEDY-NEXT: onnx.Tanh(%{{.*}}) {pith.backward, pith.recompute = "tanh2"}
// GREEDY-NOT: pith.recompute

// The exact solver (every subset) finds the same choice, and shows that no
// choice reaches 50%.
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.75 solver=exact" | FileCheck %s --check-prefix=EXACT
// EXACT: "2 of 5 activations recomputed (4 ops cloned, 2.64e+06 FLOPs per step); activation memory 133.6 kB -> 68.1 kB (budget 100.2 kB)
// RUN: not pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.5 solver=exact" 2>&1 | FileCheck %s --check-prefix=EXACT-MIN
// EXACT-MIN: error: pith-remat: budget: 66.8 kB is below the smallest activation memory any choice reaches for this step, 68.1 kB (keeping everything: 133.6 kB)

// The integer program (CBC) proves the same choice optimal, and proves the
// same minimum with a second program that minimizes the memory.
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.75 solver=ilp" | FileCheck %s --check-prefix=ILP
// ILP: "2 of 5 activations recomputed (4 ops cloned, 2.64e+06 FLOPs per step); activation memory 133.6 kB -> 68.1 kB (budget 100.2 kB)
// ILP-SAME: "ilp: proven optimal in {{[0-9.]+}} s ({{[0-9]+}} columns, {{[0-9]+}} rows, 5 binary); optimum 2.638e+06 FLOPs, bound 2.638e+06, greedy 2.638e+06 FLOPs"
// RUN: not pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.5 solver=ilp" 2>&1 | FileCheck %s --check-prefix=EXACT-MIN
// RUN: not pith-opt %s --pith-autodiff --pith-remat="budget=0.7 solver=ilp time-limit=0" 2>&1 | FileCheck %s --check-prefix=TIME
// TIME: error: pith-remat: time-limit: expected seconds > 0, got 0

// sqrt(n) checkpointing keeps every second producer's activations.
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="solver=sqrt" | FileCheck %s --check-prefix=SQRT
// SQRT: "3 of 5 activations recomputed (5 ops cloned, 4.37e+06 FLOPs per step)

// Forced either way by node name.
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="solver=none recompute=tanh2" | FileCheck %s --check-prefix=FORCED
// FORCED: "1 of 5 activations recomputed (2 ops cloned, 2.11e+06 FLOPs per step); activation memory 133.6 kB -> 100.9 kB
// FORCED: pith.recompute = "mm2"
// FORCED: pith.recompute = "tanh2"
// RUN: not pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.75 keep=tanh1,tanh2,tanh3,tanh4" 2>&1 | FileCheck %s --check-prefix=KEPT
// KEPT: error: pith-remat: budget: 100.2 kB is below the smallest activation memory the solver reaches for this step, 133.6 kB (keeping everything: 133.6 kB)

// Errors: not a step, a budget that is no size, one below what can be
// reached (the error states the smallest reached), unknown solver or node.
// RUN: not pith-opt %s --pith-remat="budget=0.5" 2>&1 | FileCheck %s --check-prefix=NOT-STEP
// NOT-STEP: error: pith-remat: the module is not a training step; run pith-autodiff first
// RUN: not pith-opt %s --pith-autodiff --pith-remat="budget=lots" 2>&1 | FileCheck %s --check-prefix=BUDGET
// BUDGET: error: pith-remat: budget: expected bytes (e.g. 12MB) or a fraction of the activation memory in (0, 1], got 'lots'
// RUN: not pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=50kB" 2>&1 | FileCheck %s --check-prefix=TOO-SMALL
// TOO-SMALL: error: pith-remat: budget: 50.0 kB is below the smallest activation memory the solver reaches for this step, {{[0-9.]+}} kB (keeping everything: 133.6 kB)
// RUN: not pith-opt %s --pith-autodiff --pith-remat="solver=magic" 2>&1 | FileCheck %s --check-prefix=SOLVER
// SOLVER: error: pith-remat: solver: expected 'greedy', 'ilp', 'chain', 'exact', 'sqrt' or 'none', got 'magic'
// RUN: not pith-opt %s --pith-autodiff --pith-remat="keep=nowhere" 2>&1 | FileCheck %s --check-prefix=NAME
// NAME: error: pith-remat: no forward node named 'nowhere' produces an activation

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @graph(%x: tensor<64x32xf32> {onnx.name = "x"}) -> (tensor<64x10xf32> {onnx.name = "y"}) {
    %w1 = onnx.Initializer "w1" dense<0.01> : tensor<32x128xf32>
    %w2 = onnx.Initializer "w2" dense<0.02> : tensor<128x128xf32>
    %w3 = onnx.Initializer "w3" dense<0.03> : tensor<128x128xf32>
    %w4 = onnx.Initializer "w4" dense<0.04> : tensor<128x128xf32>
    %w5 = onnx.Initializer "w5" dense<0.05> : tensor<128x10xf32>
    %h1 = onnx.MatMul(%x, %w1) : (tensor<64x32xf32>, tensor<32x128xf32>) -> tensor<64x128xf32> loc("mm1")
    %r1 = onnx.Tanh(%h1) : (tensor<64x128xf32>) -> tensor<64x128xf32> loc("tanh1")
    %h2 = onnx.MatMul(%r1, %w2) : (tensor<64x128xf32>, tensor<128x128xf32>) -> tensor<64x128xf32> loc("mm2")
    %r2 = onnx.Tanh(%h2) : (tensor<64x128xf32>) -> tensor<64x128xf32> loc("tanh2")
    %h3 = onnx.MatMul(%r2, %w3) : (tensor<64x128xf32>, tensor<128x128xf32>) -> tensor<64x128xf32> loc("mm3")
    %r3 = onnx.Tanh(%h3) : (tensor<64x128xf32>) -> tensor<64x128xf32> loc("tanh3")
    %h4 = onnx.MatMul(%r3, %w4) : (tensor<64x128xf32>, tensor<128x128xf32>) -> tensor<64x128xf32> loc("mm4")
    %r4 = onnx.Tanh(%h4) : (tensor<64x128xf32>) -> tensor<64x128xf32> loc("tanh4")
    %y = onnx.MatMul(%r4, %w5) : (tensor<64x128xf32>, tensor<128x10xf32>) -> tensor<64x10xf32> loc("mm5")
    return %y : tensor<64x10xf32>
  }
}
