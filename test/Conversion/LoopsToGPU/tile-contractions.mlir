// RUN: pith-opt %s --pith-tile-contractions-for-gpu | FileCheck %s

// A matmul no library took: 16 x 16 threads per 16 x 16 tile of C, A and B
// through two shared-memory tiles per K step, a barrier after loading and
// after using them, zeros past the edges, C += A * B.
// CHECK-LABEL: func.func @matmul
// CHECK: %[[GX:.*]] = arith.ceildivsi %{{.*}}, %[[T:c16.*]] : index
// CHECK: %[[GY:.*]] = arith.ceildivsi %{{.*}}, %[[T]] : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[GX]], {{.*}} = %[[GY]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[T]], {{.*}} = %[[T]], {{.*}}) workgroup(%[[AT:.*]] : memref<16x16xf64, #gpu.address_space<workgroup>>, %[[BT:.*]] : memref<16x16xf64, #gpu.address_space<workgroup>>)
// CHECK:   scf.for %[[K0:.*]] = %{{.*}} to %{{.*}} step %[[T]] iter_args(%{{.*}} = %{{.*}}) -> (f64)
// CHECK:     scf.if
// CHECK:       memref.load %{{.*}} : memref<33x70xf64>
// CHECK:     } else {
// CHECK:       scf.yield %cst
// CHECK:     memref.store %{{.*}}, %[[AT]]
// CHECK:     memref.store %{{.*}}, %[[BT]]
// CHECK:     gpu.barrier
// CHECK:     scf.for
// CHECK:       memref.load %[[AT]]
// CHECK:       memref.load %[[BT]]
// CHECK:       arith.mulf
// CHECK:       arith.addf
// CHECK:     gpu.barrier
// CHECK:   scf.if
// CHECK:     %[[OLD:.*]] = memref.load %{{.*}} : memref<33x21xf64>
// CHECK:     arith.addf %[[OLD]]
// CHECK:     memref.store
// CHECK-NOT: linalg.matmul
func.func @matmul(%a: memref<33x70xf64>, %b: memref<70x21xf64>, %c: memref<33x21xf64>) {
  linalg.matmul ins(%a, %b : memref<33x70xf64>, memref<70x21xf64>) outs(%c : memref<33x21xf64>)
  return
}

// The batch runs on the grid's z dimension; integers multiply-add exactly.
// CHECK-LABEL: func.func @batched
// CHECK: %[[B:.*]] = memref.dim %{{.*}}, %c0
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, {{.*}}, {{.*}} = %[[B]])
// CHECK:   arith.muli
// CHECK:   arith.addi
func.func @batched(%a: memref<?x8x9xi32>, %b: memref<?x9x7xi32>, %c: memref<?x8x7xi32>) {
  linalg.batch_matmul ins(%a, %b : memref<?x8x9xi32>, memref<?x9x7xi32>) outs(%c : memref<?x8x7xi32>)
  return
}

// Mixed element types keep the loop nest.
// CHECK-LABEL: func.func @mixed
// CHECK: linalg.matmul
func.func @mixed(%a: memref<4x4xf16>, %b: memref<4x4xf16>, %c: memref<4x4xf32>) {
  linalg.matmul ins(%a, %b : memref<4x4xf16>, memref<4x4xf16>) outs(%c : memref<4x4xf32>)
  return
}
