// RUN: pith-opt %s -split-input-file --pith-parallelize-loops | FileCheck %s

// A large elementwise nest keeps just enough leading dimensions parallel
// (1 x 128 >= 64 chunks); the contiguous innermost dimension becomes a plain
// loop that LLVM vectorizes.
// CHECK-LABEL: func @large_elementwise
// CHECK:         scf.parallel (%[[I:.*]], %[[J:.*]]) = (%c0, %c0) to (%c1, %c128)
// CHECK-NEXT:      scf.for %[[K:.*]] = %c0 to %c384
// CHECK-NEXT:        memref.load %{{.*}}[%[[I]], %[[J]], %[[K]]]
// CHECK-NOT:     scf.parallel
func.func @large_elementwise(%a: memref<1x128x384xf32>, %b: memref<1x128x384xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c384 = arith.constant 384 : index
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c1, %c128, %c384) step (%c1, %c1, %c1) {
    %v = memref.load %a[%i, %j, %k] : memref<1x128x384xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %b[%i, %j, %k] : memref<1x128x384xf32>
    scf.reduce
  }
  return
}

// -----

// Too little work to pay for a fork and join: one thread.
// CHECK-LABEL: func @small
// CHECK-NOT:     scf.parallel
// CHECK:         scf.for
// CHECK-NEXT:      scf.for
func.func @small(%a: memref<8x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c16) step (%c1, %c1) {
    memref.store %zero, %a[%i, %j] : memref<8x16xf32>
    scf.reduce
  }
  return
}

// -----

// The work of a reduction counts its inner loop; a parallel loop nested in
// a parallel loop runs on the thread of the outer one.
// CHECK-LABEL: func @nested
// CHECK:         scf.parallel (%{{.*}}) = (%c0) to (%c256)
// CHECK-NEXT:      scf.for {{.*}} = %c0 to %c512
// CHECK-NEXT:        scf.for {{.*}} = %c0 to %c4
// CHECK-NOT:     scf.parallel
func.func @nested(%a: memref<256x512x4xf32>, %s: memref<256x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c256 = arith.constant 256 : index
  %c512 = arith.constant 512 : index
  scf.parallel (%i) = (%c0) to (%c256) step (%c1) {
    scf.for %r = %c0 to %c512 step %c1 {
      scf.parallel (%k) = (%c0) to (%c4) step (%c1) {
        %v = memref.load %a[%i, %r, %k] : memref<256x512x4xf32>
        %acc = memref.load %s[%i, %k] : memref<256x4xf32>
        %sum = arith.addf %v, %acc : f32
        memref.store %sum, %s[%i, %k] : memref<256x4xf32>
        scf.reduce
      }
    }
    scf.reduce
  }
  return
}
