// RUN: pith-opt %s | pith-opt | FileCheck %s
// RUN: pith-opt %s --mlir-print-op-generic | pith-opt | FileCheck %s

// Round trip of the onnx dialect's printed form: every kind of ONNX
// attribute, variadic operands and results, absent optional values, graph
// attributes as regions, initializers, the dialect's types and the module's
// model header. onnx.Custom has its own file, custom.mlir.

// The model header survives as module attributes.
// CHECK: module attributes {onnx.ir_version = 8 : i64, onnx.opset_import = {ai.onnx = 18 : i64, com.microsoft = 1 : i64}}
module attributes {onnx.opset_import = {ai.onnx = 18 : i64, com.microsoft = 1 : i64}, onnx.ir_version = 8 : i64} {

// `onnx.None` fills an absent optional input, so operands keep their ONNX
// positions.
// CHECK-LABEL: func.func @gemm
func.func @gemm(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  // CHECK: %[[NONE:.*]] = onnx.None
  %none = onnx.None
  // CHECK: onnx.Gemm(%{{.*}}, %{{.*}}, %[[NONE]]) {alpha = 5.000000e-01 : f32, transB = 0 : i64}
  %0 = onnx.Gemm(%a, %b, %none) {alpha = 0.5 : f32, transB = 0 : i64} : (tensor<2x3xf32>, tensor<3x4xf32>, none) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// ONNX attribute kinds and the builtin attributes that hold them: INT (i64),
// FLOAT (f32), STRING, INTS (array<i64>), FLOATS (array<f32>), STRINGS
// (array of strings), TENSOR (dense elements, numeric and string),
// TYPE_PROTO (a type), SPARSE_TENSOR (#onnx.proto, kept verbatim).
// CHECK-LABEL: func.func @attribute_kinds
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8x8xf32>, %[[W:.*]]: tensor<4x3x3x3xf32>, %[[S:.*]]: tensor<2x!onnx.string>)
func.func @attribute_kinds(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %s: tensor<2x!onnx.string>) -> (tensor<1x4x8x8xf32>, tensor<2x!onnx.string>) {
  %none = onnx.None
  // CHECK: %[[CONV:.*]] = onnx.Conv(%[[X]], %[[W]], %{{.*}}) {auto_pad = "SAME_UPPER", group = 1 : i64, kernel_shape = array<i64: 3, 3>}
  %0 = onnx.Conv(%x, %w, %none) {auto_pad = "SAME_UPPER", group = 1 : i64, kernel_shape = array<i64: 3, 3>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x8x8xf32>
  // CHECK: onnx.LeakyRelu(%[[CONV]]) {alpha = 2.000000e-01 : f32}
  %1 = onnx.LeakyRelu(%0) {alpha = 0.2 : f32} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  // CHECK: onnx.StringNormalizer(%[[S]]) {case_change_action = "LOWER", stopwords = ["a", "the"]}
  %2 = onnx.StringNormalizer(%s) {case_change_action = "LOWER", stopwords = ["a", "the"]} : (tensor<2x!onnx.string>) -> tensor<2x!onnx.string>
  // CHECK: onnx.Constant() {value_floats = array<f32: 1.000000e+00, 2.500000e+00>}
  %3 = onnx.Constant() {value_floats = array<f32: 1.0, 2.5>} : () -> tensor<2xf32>
  // CHECK: onnx.Constant() {value = dense<{{\[}}[1, 2], [3, 4]]> : tensor<2x2xi64>}
  %4 = onnx.Constant() {value = dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>} : () -> tensor<2x2xi64>
  // CHECK: onnx.Constant() {value = dense<["hello", "world"]> : tensor<2x!onnx.string>}
  %5 = onnx.Constant() {value = dense<["hello", "world"]> : tensor<2x!onnx.string>} : () -> tensor<2x!onnx.string>
  // CHECK: onnx.Optional(%[[X]]) {type = tensor<1x3x8x8xf32>} : (tensor<1x3x8x8xf32>) -> !onnx.opt<tensor<1x3x8x8xf32>>
  %6 = onnx.Optional(%x) {type = tensor<1x3x8x8xf32>} : (tensor<1x3x8x8xf32>) -> !onnx.opt<tensor<1x3x8x8xf32>>
  // CHECK: onnx.Constant() {sparse_value = #onnx.proto<"SparseTensorProto", "\08\02">}
  %7 = onnx.Constant() {sparse_value = #onnx.proto<"SparseTensorProto", "\08\02">} : () -> tensor<4xf32>
  return %1, %2 : tensor<1x4x8x8xf32>, tensor<2x!onnx.string>
}

// Variadic operands (Concat) and variadic results (Split-18), and the value
// names a node's outputs had in ONNX.
// CHECK-LABEL: func.func @variadic
// CHECK-SAME: (%[[X:.*]]: tensor<6x4xf32>, %[[SIZES:.*]]: tensor<2xi64>)
func.func @variadic(%x: tensor<6x4xf32>, %sizes: tensor<2xi64>) -> tensor<12x4xf32> {
  // CHECK: %[[PARTS:.*]]:2 = onnx.Split(%[[X]], %[[SIZES]]) {axis = 0 : i64, onnx.names = ["top", "bottom"]} : (tensor<6x4xf32>, tensor<2xi64>) -> (tensor<3x4xf32>, tensor<3x4xf32>)
  %top, %bottom = onnx.Split(%x, %sizes) {axis = 0 : i64, onnx.names = ["top", "bottom"]} : (tensor<6x4xf32>, tensor<2xi64>) -> (tensor<3x4xf32>, tensor<3x4xf32>)
  // CHECK: onnx.Concat(%[[PARTS]]#1, %[[PARTS]]#0, %[[X]]) {axis = 0 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>, tensor<6x4xf32>) -> tensor<12x4xf32>
  %0 = onnx.Concat(%bottom, %top, %x) {axis = 0 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>, tensor<6x4xf32>) -> tensor<12x4xf32>
  return %0 : tensor<12x4xf32>
}

// Older signatures of an operator are ops of their own: Split-13 takes
// `split` as an input, Split-2/11 as an INTS attribute.
// CHECK-LABEL: func.func @versioned_ops
func.func @versioned_ops(%x: tensor<6xf32>, %sizes: tensor<2xi64>) -> (tensor<2xf32>, tensor<4xf32>) {
  // CHECK: onnx.SplitV13(%{{.*}}, %{{.*}}) {axis = 0 : i64} : (tensor<6xf32>, tensor<2xi64>) -> (tensor<2xf32>, tensor<4xf32>)
  %a:2 = onnx.SplitV13(%x, %sizes) {axis = 0 : i64} : (tensor<6xf32>, tensor<2xi64>) -> (tensor<2xf32>, tensor<4xf32>)
  // CHECK: onnx.SplitV2(%{{.*}}) {axis = 0 : i64, split = array<i64: 2, 4>} : (tensor<6xf32>) -> (tensor<2xf32>, tensor<4xf32>)
  %b:2 = onnx.SplitV2(%x) {axis = 0 : i64, split = array<i64: 2, 4>} : (tensor<6xf32>) -> (tensor<2xf32>, tensor<4xf32>)
  return %a#0, %b#1 : tensor<2xf32>, tensor<4xf32>
}

// Absent optional outputs are results of type `none`.
// CHECK-LABEL: func.func @absent_outputs
func.func @absent_outputs(%x: tensor<1x1x4x4xf32>, %scale: tensor<4xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x4x4xf32>) {
  // CHECK: onnx.MaxPool(%{{.*}}) {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, none)
  %y, %indices = onnx.MaxPool(%x) {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, none)
  %none = onnx.None
  // CHECK: onnx.LayerNormalization(%{{.*}}, %{{.*}}, %{{.*}}) {axis = -1 : i64} : (tensor<1x1x4x4xf32>, tensor<4xf32>, none) -> (tensor<1x1x4x4xf32>, none, none)
  %n:3 = onnx.LayerNormalization(%x, %scale, %none) {axis = -1 : i64} : (tensor<1x1x4x4xf32>, tensor<4xf32>, none) -> (tensor<1x1x4x4xf32>, none, none)
  return %y, %n#0 : tensor<1x1x2x2xf32>, tensor<1x1x4x4xf32>
}

// If: two regions (else_branch, then_branch: the schema's attribute order)
// that read a value of the enclosing graph.
// CHECK-LABEL: func.func @if
// CHECK-SAME: (%[[COND:.*]]: tensor<i1>, %[[X:.*]]: tensor<2xf32>)
func.func @if(%cond: tensor<i1>, %x: tensor<2xf32>) -> tensor<2xf32> {
  // CHECK: onnx.If(%[[COND]]) {onnx.subgraphs = [{inputs = [], name = "else"}, {inputs = [], name = "then"}]} ({
  // CHECK-NEXT: %[[NEG:.*]] = onnx.Neg(%[[X]])
  // CHECK-NEXT: onnx.Yield %[[NEG]] : tensor<2xf32>
  // CHECK-NEXT: }, {
  // CHECK-NEXT: onnx.Yield %[[X]] : tensor<2xf32>
  // CHECK-NEXT: }) : (tensor<i1>) -> tensor<2xf32>
  %0 = onnx.If(%cond) {onnx.subgraphs = [{inputs = [], name = "else"}, {inputs = [], name = "then"}]} ({
    %n = onnx.Neg(%x) : (tensor<2xf32>) -> tensor<2xf32>
    onnx.Yield %n : tensor<2xf32>
  }, {
    onnx.Yield %x : tensor<2xf32>
  }) : (tensor<i1>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// Loop: the body's block arguments are (iteration, condition, carried...);
// it yields the condition, the carried values and the scan outputs.
// CHECK-LABEL: func.func @loop
// CHECK-SAME: (%[[M:.*]]: tensor<i64>, %[[C:.*]]: tensor<i1>, %[[INIT:.*]]: tensor<2xf32>, %[[STEP:.*]]: tensor<2xf32>)
func.func @loop(%m: tensor<i64>, %c: tensor<i1>, %init: tensor<2xf32>, %step: tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>) {
  // CHECK: %[[LOOP:.*]]:2 = onnx.Loop(%[[M]], %[[C]], %[[INIT]])
  // CHECK-NEXT: ^bb0(%{{.*}}: tensor<i64>, %[[ITER_COND:.*]]: tensor<i1>, %[[ACC:.*]]: tensor<2xf32>):
  // CHECK-NEXT: %[[SUM:.*]] = onnx.Add(%[[ACC]], %[[STEP]])
  // CHECK-NEXT: onnx.Yield %[[ITER_COND]], %[[SUM]], %[[SUM]] : tensor<i1>, tensor<2xf32>, tensor<2xf32>
  // CHECK-NEXT: }) : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>)
  %0:2 = onnx.Loop(%m, %c, %init) {onnx.subgraphs = [{inputs = ["i", "cond", "acc"], name = "body"}]} ({
  ^bb0(%i: tensor<i64>, %cond: tensor<i1>, %acc: tensor<2xf32>):
    %sum = onnx.Add(%acc, %step) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    onnx.Yield %cond, %sum, %sum : tensor<i1>, tensor<2xf32>, tensor<2xf32>
  }) : (tensor<i64>, tensor<i1>, tensor<2xf32>) -> (tensor<2xf32>, tensor<?x2xf32>)
  // CHECK: return %[[LOOP]]#0, %[[LOOP]]#1
  return %0#0, %0#1 : tensor<2xf32>, tensor<?x2xf32>
}

// Initializers hold a dense_resource blob (weights) or inline dense data.
// CHECK-LABEL: func.func @initializers
func.func @initializers() -> (tensor<2xf32>, tensor<2xi64>) {
  // CHECK: onnx.Initializer "fc.weight" dense_resource<fc.weight> : tensor<2xf32>
  %0 = onnx.Initializer "fc.weight" dense_resource<fc.weight> : tensor<2xf32>
  // CHECK: onnx.Initializer "shape" dense<[1, 2]> : tensor<2xi64>
  %1 = onnx.Initializer "shape" dense<[1, 2]> : tensor<2xi64>
  return %0, %1 : tensor<2xf32>, tensor<2xi64>
}

// The dialect's types: sequences, optionals, string elements, and values
// whose type the model does not state.
// CHECK-LABEL: func.func @types
// CHECK-SAME: (%{{.*}}: tensor<2xf32>, %{{.*}}: !onnx.opt<!onnx.seq<tensor<?x!onnx.string>>>) -> (!onnx.seq<tensor<2xf32>>, !onnx.unknown)
func.func @types(%x: tensor<2xf32>, %o: !onnx.opt<!onnx.seq<tensor<?x!onnx.string>>>) -> (!onnx.seq<tensor<2xf32>>, !onnx.unknown) {
  // CHECK: onnx.SequenceConstruct(%{{.*}}, %{{.*}}) : (tensor<2xf32>, tensor<2xf32>) -> !onnx.seq<tensor<2xf32>>
  %0 = onnx.SequenceConstruct(%x, %x) : (tensor<2xf32>, tensor<2xf32>) -> !onnx.seq<tensor<2xf32>>
  // CHECK: onnx.Relu(%{{.*}}) : (tensor<2xf32>) -> !onnx.unknown
  %1 = onnx.Relu(%x) : (tensor<2xf32>) -> !onnx.unknown
  return %0, %1 : !onnx.seq<tensor<2xf32>>, !onnx.unknown
}

}

// CHECK: dialect_resources
// CHECK: fc.weight: "0x040000000000803F00000040"
{-#
  dialect_resources: {
    builtin: {
      fc.weight: "0x040000000000803F00000040"
    }
  }
#-}
