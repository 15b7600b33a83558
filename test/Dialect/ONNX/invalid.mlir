// RUN: pith-opt %s -split-input-file -verify-diagnostics

// One case per check of the onnx dialect: ODS arity and attributes, the
// subgraph region structure, the ONNX semantic verifiers (ONNXVerifiers.cpp),
// onnx.Custom, and the model-header attributes on modules and ops.

//===----------------------------------------------------------------------===//
// ODS: required attributes, operand, result and region counts
//===----------------------------------------------------------------------===//

// Concat's `axis` is required.
func.func @missing_required_attribute(%x: tensor<2xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'onnx.Concat' op requires attribute 'axis'}}
  %0 = onnx.Concat(%x, %x) : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Relu takes exactly one input.
func.func @too_many_operands(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.Relu' op requires a single operand}}
  %0 = onnx.Relu(%x, %x) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Gemm's optional C is still an operand: absent means `onnx.None`, not
// left out.
func.func @too_few_operands(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'onnx.Gemm' op expected 3 operands, but found 2}}
  %0 = onnx.Gemm(%a, %b) : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Relu has exactly one output.
func.func @too_many_results(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.Relu' op requires one result}}
  %0:2 = onnx.Relu(%x) : (tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>)
  return %0#0 : tensor<2xf32>
}

// -----

// If has two graph attributes, so two regions.
func.func @missing_region(%c: tensor<i1>, %x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.If' op expected 2 regions}}
  %0 = onnx.If(%c) ({
    onnx.Yield %x : tensor<2xf32>
  }) : (tensor<i1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// An op name that is no ONNX operator version is not an op of the dialect.
func.func @unknown_op(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{custom op 'onnx.NoSuchOp' is unknown}}
  %0 = onnx.NoSuchOp(%x) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Subgraph regions
//===----------------------------------------------------------------------===//

// A subgraph ends in onnx.Yield, not in another terminator.
func.func @region_not_ending_in_yield(%c: tensor<i1>, %x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.If' op subgraph region must end with onnx.Yield}}
  %0 = onnx.If(%c) ({
    func.return %x : tensor<2xf32>
  }, {
    onnx.Yield %x : tensor<2xf32>
  }) : (tensor<i1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A subgraph whose last op is no terminator at all.
func.func @region_without_terminator(%c: tensor<i1>, %x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.If' op subgraph region must end with onnx.Yield}}
  %0 = onnx.If(%c) ({
    %1 = onnx.Neg(%x) : (tensor<2xf32>) -> tensor<2xf32>
  }, {
    onnx.Yield %x : tensor<2xf32>
  }) : (tensor<i1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A subgraph is a single block.
func.func @region_with_two_blocks(%c: tensor<i1>, %x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.If' op region #0 ('else_branch') failed to verify constraint: region with 1 blocks}}
  %0 = onnx.If(%c) ({
    onnx.Yield %x : tensor<2xf32>
  ^bb1:
    onnx.Yield %x : tensor<2xf32>
  }, {
    onnx.Yield %x : tensor<2xf32>
  }) : (tensor<i1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Semantic checks: Gemm, MatMul
//===----------------------------------------------------------------------===//

// Gemm's A and B are matrices.
func.func @gemm_operand_not_matrix(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  %none = onnx.None
  // expected-error @+1 {{'onnx.Gemm' op operand 0 must be a matrix, has rank 3}}
  %0 = onnx.Gemm(%a, %b, %none) : (tensor<2x3x4xf32>, tensor<4x5xf32>, none) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// Gemm's C broadcasts to (M, N): rank <= 2.
func.func @gemm_bias_rank(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<1x2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'onnx.Gemm' op C must have rank <= 2, has rank 3}}
  %0 = onnx.Gemm(%a, %b, %c) : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<1x2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// MatMul of a scalar.
func.func @matmul_scalar(%a: tensor<f32>, %b: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'onnx.MatMul' op operands must have rank >= 1}}
  %0 = onnx.MatMul(%a, %b) : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Semantic checks: convolutions and pooling
//===----------------------------------------------------------------------===//

// kernel_shape has one value per spatial axis.
func.func @conv_kernel_shape_length(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %none = onnx.None
  // expected-error @+1 {{'onnx.Conv' op 'kernel_shape' has 3 values, expected 2}}
  %0 = onnx.Conv(%x, %w, %none) {kernel_shape = array<i64: 3, 3, 3>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// pads has a begin and an end per spatial axis.
func.func @conv_pads_length(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32> {
  %none = onnx.None
  // expected-error @+1 {{'onnx.Conv' op 'pads' has 2 values, expected 4}}
  %0 = onnx.Conv(%x, %w, %none) {pads = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

// strides, like kernel_shape, has one value per spatial axis (here on a pool).
func.func @maxpool_strides_length(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32> {
  // expected-error @+1 {{'onnx.MaxPool' op 'strides' has 1 values, expected 2}}
  %y, %i = onnx.MaxPool(%x) {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2>} : (tensor<1x3x8x8xf32>) -> (tensor<1x3x4x4xf32>, none)
  return %y : tensor<1x3x4x4xf32>
}

// -----

// A convolution's input is (N, C, spatial...).
func.func @conv_input_rank(%x: tensor<3x8xf32>, %w: tensor<4x3xf32>) -> tensor<4x8xf32> {
  %none = onnx.None
  // expected-error @+1 {{'onnx.Conv' op input must have rank >= 3 (N, C, spatial...), has 2}}
  %0 = onnx.Conv(%x, %w, %none) : (tensor<3x8xf32>, tensor<4x3xf32>, none) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// The weight has the input's rank.
func.func @conv_weight_rank(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %none = onnx.None
  // expected-error @+1 {{'onnx.Conv' op weight rank 3 differs from input rank 4}}
  %0 = onnx.Conv(%x, %w, %none) : (tensor<1x3x8x8xf32>, tensor<4x3x3xf32>, none) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

// QLinearConv(x, x_scale, x_zero_point, w, ...): the weight is operand 3.
func.func @qlinearconv_weight_rank(%x: tensor<1x3x8x8xi8>, %s: tensor<f32>, %z: tensor<i8>, %w: tensor<4x3x3xi8>) -> tensor<1x4x6x6xi8> {
  // expected-error @+1 {{'onnx.QLinearConv' op weight rank 3 differs from input rank 4}}
  %0 = onnx.QLinearConv(%x, %s, %z, %w, %s, %z, %s, %z, %z) : (tensor<1x3x8x8xi8>, tensor<f32>, tensor<i8>, tensor<4x3x3xi8>, tensor<f32>, tensor<i8>, tensor<f32>, tensor<i8>, tensor<i8>) -> tensor<1x4x6x6xi8>
  return %0 : tensor<1x4x6x6xi8>
}

// -----

//===----------------------------------------------------------------------===//
// Semantic checks: Transpose, Concat, Cast, Constant
//===----------------------------------------------------------------------===//

// perm must be a permutation: no repeated axis.
func.func @transpose_perm_repeats(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{'onnx.Transpose' op 'perm' must be a permutation of 0..rank-1}}
  %0 = onnx.Transpose(%x) {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// perm has one entry per input axis.
func.func @transpose_perm_length(%x: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{'onnx.Transpose' op 'perm' has 2 entries for an input of rank 3}}
  %0 = onnx.Transpose(%x) {perm = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  return %0 : tensor<3x2x4xf32>
}

// -----

// Concat's inputs share a rank.
func.func @concat_ranks_differ(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{'onnx.Concat' op all inputs must have the same rank}}
  %0 = onnx.Concat(%a, %b) {axis = 0 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// Concat's axis lies in [-rank, rank).
func.func @concat_axis_out_of_range(%a: tensor<2x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'onnx.Concat' op axis 2 is out of range for rank 2}}
  %0 = onnx.Concat(%a, %a) {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Cast's `to` is a TensorProto.DataType; 0 is UNDEFINED.
func.func @cast_to_undefined(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.Cast' op 'to' = 0 is not an ONNX data type}}
  %0 = onnx.Cast(%x) {to = 0 : i64} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// ... and no data type has a number beyond the newest one (FLOAT6E3M2 = 28).
func.func @cast_to_unknown(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.Cast' op 'to' = 99 is not an ONNX data type}}
  %0 = onnx.Cast(%x) {to = 99 : i64} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A Constant without a value.
func.func @constant_without_value() -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.Constant' op must have exactly one value attribute, has 0}}
  %0 = onnx.Constant() : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A Constant with two values.
func.func @constant_two_values() -> tensor<f32> {
  // expected-error @+1 {{'onnx.Constant' op must have exactly one value attribute, has 2}}
  %0 = onnx.Constant() {value_float = 1.0 : f32, value_int = 1 : i64} : () -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

//===----------------------------------------------------------------------===//
// Semantic checks: If and Loop subgraph arities
//===----------------------------------------------------------------------===//

// Each If branch yields one value per result.
func.func @if_branch_yield_count(%c: tensor<i1>, %x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.If' op branch yields 2 values for 1 results}}
  %0 = onnx.If(%c) ({
    onnx.Yield %x, %x : tensor<2xf32>, tensor<2xf32>
  }, {
    onnx.Yield %x : tensor<2xf32>
  }) : (tensor<i1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Loop's body takes (iteration, condition, carried...).
func.func @loop_body_inputs(%m: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.Loop' op body takes 2 inputs, expected 2 + 1}}
  %0 = onnx.Loop(%m, %c, %v) ({
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>):
    onnx.Yield %cond, %v : tensor<i1>, tensor<2xf32>
  }) : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Loop's body yields the condition and then one value per result.
func.func @loop_body_yield_count(%m: tensor<i64>, %c: tensor<i1>, %v: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.Loop' op body yields 1 values, expected 1 + 1}}
  %0 = onnx.Loop(%m, %c, %v) ({
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %acc: tensor<2xf32>):
    onnx.Yield %cond : tensor<i1>
  }) : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Semantic checks: axis ranges
//===----------------------------------------------------------------------===//

// Softmax's axis lies in [-rank, rank).
func.func @softmax_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'onnx.Softmax' op axis -3 is out of range for rank 2}}
  %0 = onnx.Softmax(%x) {axis = -3 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Flatten's axis may equal the rank, but not exceed it.
func.func @flatten_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<6x1xf32> {
  // expected-error @+1 {{'onnx.Flatten' op axis 3 is out of range for rank 2}}
  %0 = onnx.Flatten(%x) {axis = 3 : i64} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return %0 : tensor<6x1xf32>
}

// -----

// The axis check covers every version of an operator, e.g. Split-13.
func.func @split_v13_axis_out_of_range(%x: tensor<6xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %none = onnx.None
  // expected-error @+1 {{'onnx.SplitV13' op axis 1 is out of range for rank 1}}
  %0:2 = onnx.SplitV13(%x, %none) {axis = 1 : i64} : (tensor<6xf32>, none) -> (tensor<3xf32>, tensor<3xf32>)
  return %0#0, %0#1 : tensor<3xf32>, tensor<3xf32>
}

// -----

//===----------------------------------------------------------------------===//
// onnx.Custom
//===----------------------------------------------------------------------===//

// graph_attrs names each region, so the counts agree.
func.func @custom_graph_attrs_mismatch(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.Custom' op names 2 graph attributes but has 1 regions}}
  %0 = onnx.Custom "com.example" "Foo"(%x) {} graphs ["body", "other"] {
    onnx.Yield %x : tensor<2xf32>
  } : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Custom's regions are subgraphs too: they end in onnx.Yield.
func.func @custom_region_not_ending_in_yield(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.Custom' op subgraph region must end with onnx.Yield}}
  %0 = onnx.Custom "com.example" "Foo"(%x) {} graphs ["body"] {
    func.return %x : tensor<2xf32>
  } : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Model header and value-name attributes
//===----------------------------------------------------------------------===//

// onnx.opset_import maps domains to versions.
// expected-error @+1 {{'builtin.module' op 'onnx.opset_import' must be a dictionary of domain to version}}
module attributes {onnx.opset_import = [17]} {}

// -----

// Opset versions are integers.
// expected-error @+1 {{'builtin.module' op opset version of domain 'ai.onnx' must be an integer}}
module attributes {onnx.opset_import = {ai.onnx = "17"}} {}

// -----

// ai.onnx opsets beyond the schema table are rejected.
// expected-error @+1 {{'builtin.module' op unsupported ai.onnx opset 99 (Pith supports 1 to 28)}}
module attributes {onnx.opset_import = {ai.onnx = 99 : i64}} {}

// -----

// ... and so is opset 0.
// expected-error @+1 {{'builtin.module' op unsupported ai.onnx opset 0 (Pith supports 1 to 28)}}
module attributes {onnx.opset_import = {ai.onnx = 0 : i64}} {}

// -----

// onnx.ir_version is an integer.
// expected-error @+1 {{'builtin.module' op 'onnx.ir_version' must be an integer}}
module attributes {onnx.ir_version = "8"} {}

// -----

// onnx.names holds one name per result...
func.func @names_count(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.Relu' op 'onnx.names' must hold one string per result}}
  %0 = onnx.Relu(%x) {onnx.names = ["a", "b"]} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// ... and each name is a string.
func.func @names_not_strings(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'onnx.Relu' op 'onnx.names' must hold one string per result}}
  %0 = onnx.Relu(%x) {onnx.names = [1]} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Operands the specification types with one parameter T must agree.
func.func @matmul_mixed_types(%a: tensor<2x3xf32>, %b: tensor<3x4xf64>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'onnx.MatMul' op operand 1 has element type 'f64' but operand 0 has 'f32': MatMul takes one type for both}}
  %0 = onnx.MatMul(%a, %b) : (tensor<2x3xf32>, tensor<3x4xf64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @concat_mixed_types(%a: tensor<2xf32>, %b: tensor<2xf16>) -> tensor<4xf32> {
  // expected-error @+1 {{'onnx.Concat' op operand 1 has element type 'f16' but operand 0 has 'f32'}}
  %0 = onnx.Concat(%a, %b) {axis = 0 : i64} : (tensor<2xf32>, tensor<2xf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
