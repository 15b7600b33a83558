// RUN: pith-opt %s | pith-opt | FileCheck %s
// RUN: pith-opt %s -emit-bytecode | pith-opt | FileCheck %s

// Round trip of every pith op and attribute, through text and bytecode.

// CHECK: pith.parameter @shared : tensor<2x4xf32> = dense<{{.*}}> sources ["layer.0.w", "layer.1.w"]
pith.parameter @shared : tensor<2x4xf32> = dense<[[1.0, 0.0, 2.0, 0.0], [0.0, 3.0, 0.0, 4.0]]> : tensor<2x4xf32> sources ["layer.0.w", "layer.1.w"]

// A 2:4 weight: in each group of four along axis 1, at most two nonzeros.
// CHECK: pith.parameter @sparse : tensor<2x4xf32> = dense<{{.*}}> sources ["fc.w"] sparsity <pattern = "2:4", axis = 1, fraction = 5.000000e-01 : f64>
pith.parameter @sparse : tensor<2x4xf32> = dense<[[1.0, 0.0, 2.0, 0.0], [0.0, 3.0, 0.0, 4.0]]> : tensor<2x4xf32> sources ["fc.w"] sparsity <pattern = "2:4", axis = 1, fraction = 0.5 : f64>

// Half of the 1x2 blocks are zero.
// CHECK: sparsity <pattern = "block1x2", axis = 0, fraction = 5.000000e-01 : f64>
pith.parameter @blocks : tensor<2x4xf32> = dense<[[0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 5.0, 4.0]]> : tensor<2x4xf32> sources ["b.w"] sparsity <pattern = "block1x2", axis = 0, fraction = 0.5 : f64>

// CHECK: sparsity <pattern = "unstructured", axis = 0, fraction = 2.500000e-01 : f64>
pith.parameter @loose : tensor<4xf32> = dense<[0.0, 1.0, 2.0, 3.0]> : tensor<4xf32> sources ["u.w"] sparsity <pattern = "unstructured", axis = 0, fraction = 0.25 : f64>

pith.parameter @u : tensor<4x2xf32> = dense<1.0> : tensor<4x2xf32> sources ["fc.weight"]
pith.parameter @v : tensor<2x3xf32> = dense<0.5> : tensor<2x3xf32> sources ["fc.weight"]
pith.parameter @bias : tensor<3xf32> = dense<0.25> : tensor<3xf32> sources ["fc.bias"]

// CHECK-LABEL: func @graph
func.func @graph(%x: tensor<5x4xf32>) -> (tensor<5x3xf32>, tensor<5x4xf32>) {
  // CHECK: %[[W:.*]] = pith.use @shared : tensor<2x4xf32>
  %w = pith.use @shared : tensor<2x4xf32>
  // CHECK: %[[U:.*]] = pith.use @u : tensor<4x2xf32>
  %u = pith.use @u : tensor<4x2xf32>
  %v = pith.use @v : tensor<2x3xf32>
  %b = pith.use @bias : tensor<3xf32>
  // CHECK: pith.factored_linear %{{.*}}, %[[U]], %{{.*}} bias %{{.*}} : (tensor<5x4xf32>, tensor<4x2xf32>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  %y = pith.factored_linear %x, %u, %v bias %b : (tensor<5x4xf32>, tensor<4x2xf32>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  // CHECK: pith.factored_linear %{{.*}}, %[[U]], %{{.*}} : (tensor<5x4xf32>, tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  %z = pith.factored_linear %x, %u, %v : (tensor<5x4xf32>, tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  // CHECK: pith.checkpoint "recompute" %{{.*}} : tensor<5x4xf32>
  %h = pith.checkpoint "recompute" %x : tensor<5x4xf32>
  // CHECK: onnx.Add{{.*}}pith.precision = #pith.precision<compute = f16, accumulate = f32>
  %s = onnx.Add(%h, %x) {pith.precision = #pith.precision<compute = f16, accumulate = f32>} : (tensor<5x4xf32>, tensor<5x4xf32>) -> tensor<5x4xf32>
  return %y, %s : tensor<5x3xf32>, tensor<5x4xf32>
}
