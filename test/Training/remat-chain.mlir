// pith-remat's chain dynamic program (solver=chain) on the training step of
// a 20-layer tanh MLP of uneven widths (batch 64): too many layers for
// solver=exact (every subset), so the integer program (CBC) gives the
// optimum. At every budget both give the same recomputed FLOPs and the
// same smallest reachable memory; the greedy solver is 1.7% and 1.4% above
// the optimum at 40% and 30%, and stops at 114.7 kB.
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.5 solver=chain" | FileCheck %s --check-prefix=CHAIN50
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.5 solver=ilp" | FileCheck %s --check-prefix=CHAIN50 --check-prefix=ILP50
// CHAIN50: "8 of 20 activations recomputed (16 ops cloned, 5.89e+06 FLOPs per step); activation memory 416.3 kB -> 204.8 kB (budget 208.1 kB)
// ILP50-SAME: "ilp: proven optimal in {{.*}}; optimum 5.887e+06 FLOPs, bound 5.887e+06, greedy 5.887e+06 FLOPs"
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.4 solver=chain" | FileCheck %s --check-prefix=CHAIN40
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.4 solver=ilp" | FileCheck %s --check-prefix=CHAIN40 --check-prefix=ILP40
// CHAIN40: "10 of 20 activations recomputed (20 ops cloned, 7.73e+06 FLOPs per step); activation memory 416.3 kB -> 163.8 kB (budget 166.5 kB)
// ILP40-SAME: "ilp: proven optimal in {{.*}}; optimum 7.732e+06 FLOPs, bound 7.732e+06, greedy 7.863e+06 FLOPs"
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.3 solver=chain" | FileCheck %s --check-prefix=CHAIN30
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.3 solver=ilp" | FileCheck %s --check-prefix=CHAIN30 --check-prefix=ILP30
// CHAIN30: "12 of 20 activations recomputed (24 ops cloned, 9.58e+06 FLOPs per step); activation memory 416.3 kB -> 122.9 kB (budget 124.9 kB)
// ILP30-SAME: "ilp: proven optimal in {{.*}}; optimum 9.577e+06 FLOPs, bound 9.577e+06, greedy 9.709e+06 FLOPs"
// RUN: not pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.25 solver=chain" 2>&1 | FileCheck %s --check-prefix=MIN
// RUN: not pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.25 solver=ilp" 2>&1 | FileCheck %s --check-prefix=MIN
// MIN: error: pith-remat: budget: 104.1 kB is below the smallest activation memory {{the solver|any choice}} reaches for this step, 110.6 kB (keeping everything: 416.3 kB)
// RUN: not pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" --pith-remat="budget=0.25" 2>&1 | FileCheck %s --check-prefix=GREEDY-MIN
// GREEDY-MIN: error: pith-remat: budget: 104.1 kB is below the smallest activation memory the solver reaches for this step, 114.7 kB

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @graph(%x: tensor<64x32xf32> {onnx.name = "x"}) -> (tensor<64x10xf32> {onnx.name = "y"}) {
    %w1 = onnx.Initializer "w1" dense<0.01> : tensor<32x96xf32>
    %w2 = onnx.Initializer "w2" dense<0.02> : tensor<96x64xf32>
    %w3 = onnx.Initializer "w3" dense<0.03> : tensor<64x128xf32>
    %w4 = onnx.Initializer "w4" dense<0.04> : tensor<128x48xf32>
    %w5 = onnx.Initializer "w5" dense<0.05> : tensor<48x128xf32>
    %w6 = onnx.Initializer "w6" dense<0.06> : tensor<128x80xf32>
    %w7 = onnx.Initializer "w7" dense<0.07> : tensor<80x64xf32>
    %w8 = onnx.Initializer "w8" dense<0.08> : tensor<64x112xf32>
    %w9 = onnx.Initializer "w9" dense<0.09> : tensor<112x96xf32>
    %w10 = onnx.Initializer "w10" dense<0.01> : tensor<96x64xf32>
    %w11 = onnx.Initializer "w11" dense<0.02> : tensor<64x128xf32>
    %w12 = onnx.Initializer "w12" dense<0.03> : tensor<128x32xf32>
    %w13 = onnx.Initializer "w13" dense<0.04> : tensor<32x96xf32>
    %w14 = onnx.Initializer "w14" dense<0.05> : tensor<96x64xf32>
    %w15 = onnx.Initializer "w15" dense<0.06> : tensor<64x80xf32>
    %w16 = onnx.Initializer "w16" dense<0.07> : tensor<80x128xf32>
    %w17 = onnx.Initializer "w17" dense<0.08> : tensor<128x48xf32>
    %w18 = onnx.Initializer "w18" dense<0.09> : tensor<48x96xf32>
    %w19 = onnx.Initializer "w19" dense<0.01> : tensor<96x64xf32>
    %w20 = onnx.Initializer "w20" dense<0.02> : tensor<64x10xf32>
    %h1 = onnx.MatMul(%x, %w1) : (tensor<64x32xf32>, tensor<32x96xf32>) -> tensor<64x96xf32> loc("mm1")
    %r1 = onnx.Tanh(%h1) : (tensor<64x96xf32>) -> tensor<64x96xf32> loc("tanh1")
    %h2 = onnx.MatMul(%r1, %w2) : (tensor<64x96xf32>, tensor<96x64xf32>) -> tensor<64x64xf32> loc("mm2")
    %r2 = onnx.Tanh(%h2) : (tensor<64x64xf32>) -> tensor<64x64xf32> loc("tanh2")
    %h3 = onnx.MatMul(%r2, %w3) : (tensor<64x64xf32>, tensor<64x128xf32>) -> tensor<64x128xf32> loc("mm3")
    %r3 = onnx.Tanh(%h3) : (tensor<64x128xf32>) -> tensor<64x128xf32> loc("tanh3")
    %h4 = onnx.MatMul(%r3, %w4) : (tensor<64x128xf32>, tensor<128x48xf32>) -> tensor<64x48xf32> loc("mm4")
    %r4 = onnx.Tanh(%h4) : (tensor<64x48xf32>) -> tensor<64x48xf32> loc("tanh4")
    %h5 = onnx.MatMul(%r4, %w5) : (tensor<64x48xf32>, tensor<48x128xf32>) -> tensor<64x128xf32> loc("mm5")
    %r5 = onnx.Tanh(%h5) : (tensor<64x128xf32>) -> tensor<64x128xf32> loc("tanh5")
    %h6 = onnx.MatMul(%r5, %w6) : (tensor<64x128xf32>, tensor<128x80xf32>) -> tensor<64x80xf32> loc("mm6")
    %r6 = onnx.Tanh(%h6) : (tensor<64x80xf32>) -> tensor<64x80xf32> loc("tanh6")
    %h7 = onnx.MatMul(%r6, %w7) : (tensor<64x80xf32>, tensor<80x64xf32>) -> tensor<64x64xf32> loc("mm7")
    %r7 = onnx.Tanh(%h7) : (tensor<64x64xf32>) -> tensor<64x64xf32> loc("tanh7")
    %h8 = onnx.MatMul(%r7, %w8) : (tensor<64x64xf32>, tensor<64x112xf32>) -> tensor<64x112xf32> loc("mm8")
    %r8 = onnx.Tanh(%h8) : (tensor<64x112xf32>) -> tensor<64x112xf32> loc("tanh8")
    %h9 = onnx.MatMul(%r8, %w9) : (tensor<64x112xf32>, tensor<112x96xf32>) -> tensor<64x96xf32> loc("mm9")
    %r9 = onnx.Tanh(%h9) : (tensor<64x96xf32>) -> tensor<64x96xf32> loc("tanh9")
    %h10 = onnx.MatMul(%r9, %w10) : (tensor<64x96xf32>, tensor<96x64xf32>) -> tensor<64x64xf32> loc("mm10")
    %r10 = onnx.Tanh(%h10) : (tensor<64x64xf32>) -> tensor<64x64xf32> loc("tanh10")
    %h11 = onnx.MatMul(%r10, %w11) : (tensor<64x64xf32>, tensor<64x128xf32>) -> tensor<64x128xf32> loc("mm11")
    %r11 = onnx.Tanh(%h11) : (tensor<64x128xf32>) -> tensor<64x128xf32> loc("tanh11")
    %h12 = onnx.MatMul(%r11, %w12) : (tensor<64x128xf32>, tensor<128x32xf32>) -> tensor<64x32xf32> loc("mm12")
    %r12 = onnx.Tanh(%h12) : (tensor<64x32xf32>) -> tensor<64x32xf32> loc("tanh12")
    %h13 = onnx.MatMul(%r12, %w13) : (tensor<64x32xf32>, tensor<32x96xf32>) -> tensor<64x96xf32> loc("mm13")
    %r13 = onnx.Tanh(%h13) : (tensor<64x96xf32>) -> tensor<64x96xf32> loc("tanh13")
    %h14 = onnx.MatMul(%r13, %w14) : (tensor<64x96xf32>, tensor<96x64xf32>) -> tensor<64x64xf32> loc("mm14")
    %r14 = onnx.Tanh(%h14) : (tensor<64x64xf32>) -> tensor<64x64xf32> loc("tanh14")
    %h15 = onnx.MatMul(%r14, %w15) : (tensor<64x64xf32>, tensor<64x80xf32>) -> tensor<64x80xf32> loc("mm15")
    %r15 = onnx.Tanh(%h15) : (tensor<64x80xf32>) -> tensor<64x80xf32> loc("tanh15")
    %h16 = onnx.MatMul(%r15, %w16) : (tensor<64x80xf32>, tensor<80x128xf32>) -> tensor<64x128xf32> loc("mm16")
    %r16 = onnx.Tanh(%h16) : (tensor<64x128xf32>) -> tensor<64x128xf32> loc("tanh16")
    %h17 = onnx.MatMul(%r16, %w17) : (tensor<64x128xf32>, tensor<128x48xf32>) -> tensor<64x48xf32> loc("mm17")
    %r17 = onnx.Tanh(%h17) : (tensor<64x48xf32>) -> tensor<64x48xf32> loc("tanh17")
    %h18 = onnx.MatMul(%r17, %w18) : (tensor<64x48xf32>, tensor<48x96xf32>) -> tensor<64x96xf32> loc("mm18")
    %r18 = onnx.Tanh(%h18) : (tensor<64x96xf32>) -> tensor<64x96xf32> loc("tanh18")
    %h19 = onnx.MatMul(%r18, %w19) : (tensor<64x96xf32>, tensor<96x64xf32>) -> tensor<64x64xf32> loc("mm19")
    %r19 = onnx.Tanh(%h19) : (tensor<64x64xf32>) -> tensor<64x64xf32> loc("tanh19")
    %h20 = onnx.MatMul(%r19, %w20) : (tensor<64x64xf32>, tensor<64x10xf32>) -> tensor<64x10xf32> loc("mm20")
    return %h20 : tensor<64x10xf32>
  }
}
