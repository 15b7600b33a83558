// RUN: pith-opt %s --pith-dedup-weights | FileCheck %s
// RUN: pith-opt %s --pith-dedup-weights --canonicalize --cse | FileCheck %s --check-prefix=CLEANED
// RUN: pith-translate --export-onnx %s -o %t.original.onnx
// RUN: pith-opt %s --pith-dedup-weights | pith-translate --export-onnx -o %t.dedup.onnx
// RUN: %python %S/Inputs/initializers.py %t.dedup.onnx | FileCheck %s --check-prefix=STORED
// RUN: %python %S/Inputs/same_outputs.py %t.original.onnx %t.dedup.onnx | FileCheck %s --check-prefix=SAME

// Copies of `w`: transposed, reshaped, identical (used in an If branch), and
// an f32 copy of an f16 weight: each is stored once. `shuffled` holds the
// same values in another order that no transpose gives: it stays.

// CHECK:      pith.report = [{bytes_saved = 88 : i64, copies_removed = 4 : i64, lines = ["4 duplicate weights removed, 88 B saved", "kept 'h' (8 B), removed 'h32' (cast)", "kept 'w' (24 B), removed 'w_t' (transpose [1,0]), 'w_flat' (reshape), 'w_copy' (identical)"], pass = "pith-dedup-weights"}]
// CHECK-DAG:  pith.parameter @w : tensor<2x3xf32> = {{.*}} sources ["w", "w_t", "w_flat", "w_copy"]
// CHECK-DAG:  pith.parameter @shuffled : tensor<2x3xf32> = {{.*}} sources ["shuffled"]
// CHECK-DAG:  pith.parameter @h : tensor<4xf16> = {{.*}} sources ["h", "h32"]
// CHECK-NOT:  pith.parameter
// CHECK-LABEL: func.func @graph
// Each copy is rebuilt right before its first user.
// CHECK:        %[[W:.*]] = pith.use @w : tensor<2x3xf32>
// CHECK:        onnx.MatMul(%arg0, %[[W]])
// CHECK-NEXT:   %[[W2:.*]] = pith.use @w : tensor<2x3xf32>
// CHECK-NEXT:   %[[WT:.*]] = onnx.Transpose(%[[W2]]) {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
// CHECK-NEXT:   onnx.MatMul(%{{.*}}, %[[WT]])
// CHECK-NEXT:   %[[W3:.*]] = pith.use @w : tensor<2x3xf32>
// CHECK-NEXT:   %[[SHAPE:.*]] = onnx.Constant() {value = dense<6> : tensor<1xi64>}
// CHECK-NEXT:   %[[FLAT:.*]] = onnx.Reshape(%[[W3]], %[[SHAPE]]) : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<6xf32>
// CHECK-NEXT:   onnx.Reshape(%[[FLAT]]
// CHECK:        %[[H:.*]] = pith.use @h : tensor<4xf16>
// CHECK-NEXT:   onnx.CastV6(%[[H]]) {to = 1 : i64} : (tensor<4xf16>) -> tensor<4xf32>
// CHECK:        onnx.If
// CHECK-NEXT:     %[[W4:.*]] = pith.use @w : tensor<2x3xf32>
// CHECK-NEXT:     onnx.MatMul(%{{.*}}, %[[W4]])
// CHECK:          pith.use @shuffled

// Canonicalization and CSE fold nothing back into a second copy.
// CLEANED-COUNT-3: pith.parameter
// CLEANED-NOT:     pith.parameter
// CLEANED-NOT:     arith.constant

// The exported model stores each weight once.
// STORED:      column int64 [2]
// STORED-NEXT: h float16 [4]
// STORED-NEXT: shape int64 [2]
// STORED-NEXT: shuffled float32 [2, 3]
// STORED-NEXT: w float32 [2, 3]
// STORED-NEXT: 5 initializers, 88 bytes

// Both If branches, run by onnxruntime (Pith's code generation has no If).
// SAME: c=True: bit-identical
// SAME: c=False: bit-identical

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @graph(%x: tensor<4x2xf32> {onnx.name = "x"}, %c: tensor<i1> {onnx.name = "c"}) -> (tensor<4x3xf32> {onnx.name = "y"}) {
    %w = onnx.Initializer "w" dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
    %w_t = onnx.Initializer "w_t" dense<[[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]> : tensor<3x2xf32>
    %w_flat = onnx.Initializer "w_flat" dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32>
    %h = onnx.Initializer "h" dense<[0.5, 1.5, -2.0, 3.0]> : tensor<4xf16>
    %h32 = onnx.Initializer "h32" dense<[0.5, 1.5, -2.0, 3.0]> : tensor<4xf32>
    %shape = onnx.Initializer "shape" dense<[2, 3]> : tensor<2xi64>
    %column = onnx.Initializer "column" dense<[4, 1]> : tensor<2xi64>
    %y0 = onnx.MatMul(%x, %w) : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
    %y1 = onnx.MatMul(%y0, %w_t) : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
    %flat = onnx.Reshape(%w_flat, %shape) : (tensor<6xf32>, tensor<2xi64>) -> tensor<2x3xf32>
    %hw = onnx.CastV6(%h) {to = 1 : i64} : (tensor<4xf16>) -> tensor<4xf32>
    %hh = onnx.Add(%hw, %h32) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %hs = onnx.Reshape(%hh, %column) : (tensor<4xf32>, tensor<2xi64>) -> tensor<4x1xf32>
    %y2 = onnx.If(%c) ({
      %w_copy = onnx.Initializer "w_copy" dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
      %a = onnx.MatMul(%y1, %w_copy) : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
      onnx.Yield %a : tensor<4x3xf32>
    }, {
      %shuffled = onnx.Initializer "shuffled" dense<[[6.0, 5.0, 4.0], [3.0, 2.0, 1.0]]> : tensor<2x3xf32>
      %b = onnx.MatMul(%y1, %shuffled) : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
      onnx.Yield %b : tensor<4x3xf32>
    }) : (tensor<i1>) -> tensor<4x3xf32>
    %wf = onnx.Add(%flat, %w) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %yf = onnx.MatMul(%y1, %wf) : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
    %s = onnx.Add(%y2, %yf) : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
    %y = onnx.Add(%s, %hs) : (tensor<4x3xf32>, tensor<4x1xf32>) -> tensor<4x3xf32>
    return %y : tensor<4x3xf32>
  }
}
