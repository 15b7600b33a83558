// RUN: pith-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{does not satisfy its sparsity pattern: the group of 4 starting at element 4 along axis 1 has 3 nonzeros, more than 2}}
pith.parameter @w : tensor<2x4xf32> = dense<[[1.0, 0.0, 2.0, 0.0], [1.0, 3.0, 0.0, 4.0]]> : tensor<2x4xf32> sources ["w"] sparsity <pattern = "2:4", axis = 1, fraction = 0.5 : f64>

// -----

// expected-error @+1 {{a 2:4 pattern needs dimension 1 (3) to be a multiple of 4}}
pith.parameter @w : tensor<2x3xf32> = dense<0.0> : tensor<2x3xf32> sources ["w"] sparsity <pattern = "2:4", axis = 1, fraction = 0.5 : f64>

// -----

// expected-error @+1 {{1 of 4 blocks are zero, fewer than the fraction 0.5}}
pith.parameter @w : tensor<2x4xf32> = dense<[[0.0, 0.0, 2.0, 1.0], [1.0, 0.0, 5.0, 4.0]]> : tensor<2x4xf32> sources ["w"] sparsity <pattern = "block1x2", axis = 0, fraction = 0.5 : f64>

// -----

// expected-error @+1 {{1 of 4 elements are zero, fewer than the fraction 0.5}}
pith.parameter @w : tensor<4xf32> = dense<[0.0, 1.0, 2.0, 3.0]> : tensor<4xf32> sources ["w"] sparsity <pattern = "unstructured", axis = 0, fraction = 0.5 : f64>

// -----

// expected-error @+1 {{unknown sparsity pattern 'diagonal'}}
pith.parameter @w : tensor<4xf32> = dense<0.0> : tensor<4xf32> sources ["w"] sparsity <pattern = "diagonal", axis = 0, fraction = 0.5 : f64>

// -----

// expected-error @+1 {{an N:M pattern needs 0 <= N <= M, got '5:4'}}
pith.parameter @w : tensor<4xf32> = dense<0.0> : tensor<4xf32> sources ["w"] sparsity <pattern = "5:4", axis = 0, fraction = 0.5 : f64>

// -----

// expected-error @+1 {{value of type 'tensor<4xf32>' does not match the parameter type 'tensor<2x2xf32>'}}
pith.parameter @w : tensor<2x2xf32> = dense<0.0> : tensor<4xf32> sources ["w"]

// -----

func.func @use_unknown() -> tensor<4xf32> {
  // expected-error @+1 {{names no pith.parameter 'missing'}}
  %w = pith.use @missing : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

pith.parameter @w : tensor<4xf32> = dense<0.0> : tensor<4xf32> sources ["w"]
func.func @use_wrong_type() -> tensor<2x2xf32> {
  // expected-error @+1 {{has type 'tensor<2x2xf32>' but parameter 'w' is 'tensor<4xf32>'}}
  %w = pith.use @w : tensor<2x2xf32>
  return %w : tensor<2x2xf32>
}

// -----

func.func @rank_mismatch(%x: tensor<5x4xf32>, %u: tensor<4x2xf32>, %v: tensor<3x3xf32>) -> tensor<5x3xf32> {
  // expected-error @+1 {{U's columns 2 do not match V's rows (the rank) 3}}
  %y = pith.factored_linear %x, %u, %v : (tensor<5x4xf32>, tensor<4x2xf32>, tensor<3x3xf32>) -> tensor<5x3xf32>
  return %y : tensor<5x3xf32>
}

// -----

func.func @input_mismatch(%x: tensor<5x6xf32>, %u: tensor<4x2xf32>, %v: tensor<2x3xf32>) -> tensor<5x3xf32> {
  // expected-error @+1 {{input's last dimension 6 does not match U's rows 4}}
  %y = pith.factored_linear %x, %u, %v : (tensor<5x6xf32>, tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  return %y : tensor<5x3xf32>
}

// -----

func.func @bad_bias(%x: tensor<5x4xf32>, %u: tensor<4x2xf32>, %v: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<5x3xf32> {
  // expected-error @+1 {{bias must be 1-D with V's 3 columns}}
  %y = pith.factored_linear %x, %u, %v bias %b : (tensor<5x4xf32>, tensor<4x2xf32>, tensor<2x3xf32>, tensor<4xf32>) -> tensor<5x3xf32>
  return %y : tensor<5x3xf32>
}

// -----

func.func @bad_policy(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{policy must be 'recompute' or 'save', got 'discard'}}
  %y = pith.checkpoint "discard" %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @narrowing_accumulator(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{accumulating in 'f16' loses precision computed in 'f32'}}
  %y = onnx.Relu(%x) {pith.precision = #pith.precision<compute = f32, accumulate = f16>} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @precision_not_an_attr(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'pith.precision' must be a #pith.precision attribute}}
  %y = onnx.Relu(%x) {pith.precision = "fp16"} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @recompute_mark_not_a_name(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'pith.recompute' must name the recomputed node (a string)}}
  %y = onnx.Relu(%x) {pith.backward, pith.recompute = 3 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @recompute_outside_the_backward_pass(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{a recomputed op ('pith.recompute') belongs to the backward pass ('pith.backward')}}
  %y = onnx.Relu(%x) {pith.recompute = "relu1"} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @backward_mark_not_unit(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'pith.backward' is a unit attribute}}
  %y = onnx.Relu(%x) {pith.backward = "yes"} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
