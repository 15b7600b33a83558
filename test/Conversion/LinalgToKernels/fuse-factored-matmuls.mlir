// RUN: pith-opt %s --split-input-file --pith-fuse-factored-matmuls | FileCheck %s

// x . U . V with x . U zeroed, written and read only by the pair: one call,
// and the rows x rank buffer is gone.
// CHECK-LABEL: func @factored
// CHECK-NOT:     memref.alloc() : memref<6x2xf32>
// CHECK:         %[[Y:.*]] = memref.alloc() : memref<6x8xf32>
// CHECK:         linalg.fill ins(%{{.*}} : f32) outs(%[[Y]] : memref<6x8xf32>)
// CHECK-DAG:     %[[X:.*]] = memref.cast %arg0 : memref<6x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-DAG:     %[[U:.*]] = memref.cast %arg1 : memref<8x2xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-DAG:     %[[V:.*]] = memref.cast %arg2 : memref<2x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-DAG:     %[[YS:.*]] = memref.cast %[[Y]] : memref<6x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK:         call @pith_kernel_factored_matmul_f32(%[[X]], %[[U]], %[[V]], %[[YS]])
// CHECK-NOT:     linalg.matmul
func.func @factored(%x: memref<6x8xf32>, %u: memref<8x2xf32>, %v: memref<2x8xf32>) -> memref<6x8xf32> {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() : memref<6x2xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<6x2xf32>)
  linalg.matmul ins(%x, %u : memref<6x8xf32>, memref<8x2xf32>) outs(%t : memref<6x2xf32>)
  %y = memref.alloc() : memref<6x8xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<6x8xf32>)
  linalg.matmul ins(%t, %v : memref<6x2xf32>, memref<2x8xf32>) outs(%y : memref<6x8xf32>)
  return %y : memref<6x8xf32>
}

// -----

// Factors stored transposed (Gemm transB) are passed as transposed views,
// and reshapes of the product that come back to its shape are looked through.
// CHECK-LABEL: func @transposed_factors
// CHECK-DAG:     %[[UT:.*]] = memref.transpose %arg1 (d0, d1) -> (d1, d0)
// CHECK-DAG:     %[[VT:.*]] = memref.transpose %arg2 (d0, d1) -> (d1, d0)
// CHECK:         call @pith_kernel_factored_matmul_f32
// CHECK-NOT:     linalg.matmul
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @transposed_factors(%x: memref<6x8xf32>, %u: memref<2x8xf32>, %v: memref<8x2xf32>) -> memref<6x8xf32> {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() : memref<6x2xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<6x2xf32>)
  linalg.matmul indexing_maps = [#a, #b, #c] ins(%x, %u : memref<6x8xf32>, memref<2x8xf32>) outs(%t : memref<6x2xf32>)
  %e = memref.expand_shape %t [[0, 1], [2]] output_shape [2, 3, 2] : memref<6x2xf32> into memref<2x3x2xf32>
  %t2 = memref.collapse_shape %e [[0, 1], [2]] : memref<2x3x2xf32> into memref<6x2xf32>
  %y = memref.alloc() : memref<6x8xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<6x8xf32>)
  linalg.matmul indexing_maps = [#a, #b, #c] ins(%t2, %v : memref<6x2xf32>, memref<8x2xf32>) outs(%y : memref<6x8xf32>)
  return %y : memref<6x8xf32>
}

// -----

// The product is also returned: it must exist, nothing is fused.
// CHECK-LABEL: func @product_used
// CHECK-NOT:     call
// CHECK-COUNT-2: linalg.matmul
func.func @product_used(%x: memref<6x8xf32>, %u: memref<8x2xf32>, %v: memref<2x8xf32>) -> (memref<6x8xf32>, memref<6x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() : memref<6x2xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<6x2xf32>)
  linalg.matmul ins(%x, %u : memref<6x8xf32>, memref<8x2xf32>) outs(%t : memref<6x2xf32>)
  %y = memref.alloc() : memref<6x8xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<6x8xf32>)
  linalg.matmul ins(%t, %v : memref<6x2xf32>, memref<2x8xf32>) outs(%y : memref<6x8xf32>)
  return %y, %t : memref<6x8xf32>, memref<6x2xf32>
}

// -----

// The middle is not narrower than both ends (an expansion, not a low-rank
// map): two matmuls stay.
// CHECK-LABEL: func @wide_middle
// CHECK-NOT:     call
// CHECK-COUNT-2: linalg.matmul
func.func @wide_middle(%x: memref<6x8xf32>, %u: memref<8x16xf32>, %v: memref<16x4xf32>) -> memref<6x4xf32> {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() : memref<6x16xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<6x16xf32>)
  linalg.matmul ins(%x, %u : memref<6x8xf32>, memref<8x16xf32>) outs(%t : memref<6x16xf32>)
  %y = memref.alloc() : memref<6x4xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<6x4xf32>)
  linalg.matmul ins(%t, %v : memref<6x16xf32>, memref<16x4xf32>) outs(%y : memref<6x4xf32>)
  return %y : memref<6x4xf32>
}

// -----

// x is overwritten between the two matmuls: the call, reading x where the
// second matmul was, would see the new values. Nothing is fused; nor where
// the product is not zeroed first.
// CHECK-LABEL: func @input_overwritten
// CHECK-NOT:     call
// CHECK-COUNT-2: linalg.matmul
func.func @input_overwritten(%x: memref<6x8xf32>, %u: memref<8x2xf32>, %v: memref<2x8xf32>) -> memref<6x8xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %t = memref.alloc() : memref<6x2xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<6x2xf32>)
  linalg.matmul ins(%x, %u : memref<6x8xf32>, memref<8x2xf32>) outs(%t : memref<6x2xf32>)
  linalg.fill ins(%one : f32) outs(%x : memref<6x8xf32>)
  %y = memref.alloc() : memref<6x8xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<6x8xf32>)
  linalg.matmul ins(%t, %v : memref<6x2xf32>, memref<2x8xf32>) outs(%y : memref<6x8xf32>)
  return %y : memref<6x8xf32>
}
// CHECK-LABEL: func @product_not_zeroed
// CHECK-NOT:     call
// CHECK-COUNT-2: linalg.matmul
func.func @product_not_zeroed(%x: memref<6x8xf32>, %u: memref<8x2xf32>, %v: memref<2x8xf32>) -> memref<6x8xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %t = memref.alloc() : memref<6x2xf32>
  linalg.fill ins(%one : f32) outs(%t : memref<6x2xf32>)
  linalg.matmul ins(%x, %u : memref<6x8xf32>, memref<8x2xf32>) outs(%t : memref<6x2xf32>)
  %y = memref.alloc() : memref<6x8xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<6x8xf32>)
  linalg.matmul ins(%t, %v : memref<6x2xf32>, memref<2x8xf32>) outs(%y : memref<6x8xf32>)
  return %y : memref<6x8xf32>
}
