// RUN: pith-opt %s --pith-linalg-to-kernel-calls | FileCheck %s

// A matmul reading B transposed calls the strided kernel on a transposed
// view of B: the weight is never copied.
// CHECK-LABEL: func @transposed
// CHECK:         %[[VIEW:.*]] = memref.transpose %arg1 (d0, d1) -> (d1, d0) : memref<3x4xf32> to memref<4x3xf32, strided<[1, 4]>>
// CHECK-DAG:     %[[A:.*]] = memref.cast %arg0 : memref<2x4xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-DAG:     %[[B:.*]] = memref.cast %[[VIEW]] : memref<4x3xf32, strided<[1, 4]>> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK-DAG:     %[[C:.*]] = memref.cast %arg2 : memref<2x3xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK:         call @pith_kernel_matmul_strided_f32(%[[A]], %[[B]], %[[C]])
// CHECK-NOT:     linalg.matmul
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @transposed(%a: memref<2x4xf32>, %b: memref<3x4xf32>, %c: memref<2x3xf32>) {
  linalg.matmul indexing_maps = [#a, #b, #c] ins(%a, %b : memref<2x4xf32>, memref<3x4xf32>) outs(%c : memref<2x3xf32>)
  return
}
