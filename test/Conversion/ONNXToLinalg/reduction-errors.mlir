// RUN: pith-opt %s -split-input-file -verify-diagnostics --pith-convert-onnx-to-linalg

// Ten ways to remove three dimensions of 2x2x2x2x2 leave 2x2: too many
// reductions to build and pick from at run time.
module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @reduce_sum_ambiguous_runtime_axes(%x: tensor<2x2x2x2x2xf32>, %axes: tensor<3xi64>) -> tensor<2x2xf32> {
    // expected-error @+2 {{axes known only at run time are ambiguous for these shapes; give axes as a constant}}
    // expected-error @+1 {{failed to legalize operation 'onnx.ReduceSum'}}
    %0 = onnx.ReduceSum(%x, %axes) {keepdims = 0 : i64} : (tensor<2x2x2x2x2xf32>, tensor<3xi64>) -> tensor<2x2xf32>
    return %0 : tensor<2x2xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @reduce_sum_runtime_axes_dynamic(%x: tensor<?x4xf32>, %axes: tensor<1xi64>) -> tensor<?x1xf32> {
    // expected-error @+2 {{axes known only at run time need static input and result shapes}}
    // expected-error @+1 {{failed to legalize operation 'onnx.ReduceSum'}}
    %0 = onnx.ReduceSum(%x, %axes) : (tensor<?x4xf32>, tensor<1xi64>) -> tensor<?x1xf32>
    return %0 : tensor<?x1xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @reduce_l2_integers(%x: tensor<3x4xi32>) -> tensor<3x1xi32> {
    // expected-error @+2 {{this reduction of integers is not supported}}
    // expected-error @+1 {{failed to legalize operation 'onnx.ReduceL2V1'}}
    %0 = onnx.ReduceL2V1(%x) {axes = array<i64: 1>} : (tensor<3x4xi32>) -> tensor<3x1xi32>
    return %0 : tensor<3x1xi32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @mvn_axis_out_of_range(%x: tensor<2x3x4x5xf32>) -> tensor<2x3x4x5xf32> {
    // expected-error @+2 {{axis 5 is out of range for rank 4}}
    // expected-error @+1 {{failed to legalize operation 'onnx.MeanVarianceNormalization'}}
    %0 = onnx.MeanVarianceNormalization(%x) {axes = array<i64: 0, 5>} : (tensor<2x3x4x5xf32>) -> tensor<2x3x4x5xf32>
    return %0 : tensor<2x3x4x5xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @top_k_dynamic_k(%x: tensor<3x4xf32>, %k: tensor<1xi64>) -> (tensor<3x?xf32>, tensor<3x?xi64>) {
    // expected-error @+2 {{TopK needs k known at compile time}}
    // expected-error @+1 {{failed to legalize operation 'onnx.TopK'}}
    %v, %i = onnx.TopK(%x, %k) : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x?xf32>, tensor<3x?xi64>)
    return %v, %i : tensor<3x?xf32>, tensor<3x?xi64>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @lp_normalization_p3(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
    // expected-error @+2 {{LpNormalization needs a float input and p of 1 or 2}}
    // expected-error @+1 {{failed to legalize operation 'onnx.LpNormalization'}}
    %0 = onnx.LpNormalization(%x) {p = 3 : i64} : (tensor<3x4xf32>) -> tensor<3x4xf32>
    return %0 : tensor<3x4xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 21 : i64}} {
  func.func @group_norm_indivisible(%x: tensor<1x6x4xf32>, %s: tensor<6xf32>, %b: tensor<6xf32>) -> tensor<1x6x4xf32> {
    // expected-error @+2 {{GroupNormalization needs a float input of static shape, rank 3 or more, and channels divisible by num_groups}}
    // expected-error @+1 {{failed to legalize operation 'onnx.GroupNormalization'}}
    %0 = onnx.GroupNormalization(%x, %s, %b) {num_groups = 4 : i64} : (tensor<1x6x4xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<1x6x4xf32>
    return %0 : tensor<1x6x4xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @nll_loss_unknown_reduction(%x: tensor<3x5xf32>, %t: tensor<3xi64>) -> tensor<f32> {
    %none = onnx.None
    // expected-error @+2 {{unknown reduction 'max'}}
    // expected-error @+1 {{failed to legalize operation 'onnx.NegativeLogLikelihoodLoss'}}
    %0 = onnx.NegativeLogLikelihoodLoss(%x, %t, %none) {reduction = "max"} : (tensor<3x5xf32>, tensor<3xi64>, none) -> tensor<f32>
    return %0 : tensor<f32>
  }
}
