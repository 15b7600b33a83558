// RUN: pith-opt %s --pith-print-cost -o /dev/null | FileCheck %s

// The cost model after conversion to linalg: weights are pith.weight
// arguments; a contraction's loop iterations are its MACs (2 FLOPs each),
// other ops cost their float arithmetic per iteration, a fill nothing.
// matmul 8x16 by 16x4: 512 MACs, 1024 FLOPs; the bias add over 8x4: 32.
// CHECK:      total{{ +}}3{{ +}}68
// CHECK-NEXT: parameters: 68 (68 nonzero)
// CHECK-NEXT: weight bytes: f32 272
// CHECK-NEXT: MACs: 512
// CHECK-NEXT: FLOPs: 1056
#id = affine_map<(i, j) -> (i, j)>
#bias = affine_map<(i, j) -> (j)>
func.func @graph(%x: tensor<8x16xf32>, %w: tensor<16x4xf32> {pith.weight = "fc.weight"},
                 %b: tensor<4xf32> {pith.weight = "fc.bias"}) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x4xf32>) -> tensor<8x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<8x16xf32>, tensor<16x4xf32>) outs(%f : tensor<8x4xf32>) -> tensor<8x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m, %b : tensor<8x4xf32>, tensor<4xf32>) outs(%e : tensor<8x4xf32>) {
  ^bb0(%v: f32, %c: f32, %o: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}
