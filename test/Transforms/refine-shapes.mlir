// RUN: pith-opt %s --pith-refine-shapes | FileCheck %s

// Reshape(X, Shape(A)) of a static A (the expanded SoftmaxCrossEntropyLoss):
// the result and what follows it become static, and so does the function's
// result type; its attributes stay.
// CHECK-LABEL: func.func @reshape_to_shape_of
// CHECK-SAME: -> (tensor<3x5x6xf32> {onnx.name = "y"})
// CHECK: onnx.ReshapeV5(%{{.*}}, %{{.*}}) : (tensor<90xf32>, tensor<3xi64>) -> tensor<3x5x6xf32>
// CHECK: onnx.Neg(%{{.*}}) : (tensor<3x5x6xf32>) -> tensor<3x5x6xf32>
// CHECK: return %{{.*}} : tensor<3x5x6xf32>
func.func @reshape_to_shape_of(%x: tensor<90xf32>, %a: tensor<3x5x6xf32>) -> (tensor<*xf32> {onnx.name = "y"}) {
  %s = onnx.ShapeV1(%a) : (tensor<3x5x6xf32>) -> tensor<3xi64>
  %r = onnx.ReshapeV5(%x, %s) : (tensor<90xf32>, tensor<3xi64>) -> tensor<*xf32>
  %n = onnx.Neg(%r) : (tensor<*xf32>) -> tensor<*xf32>
  return %n : tensor<*xf32>
}

// Shape -> Gather -> Unsqueeze -> Concat -> Reshape (attention heads) with a
// symbolic batch: the known entries of the shape are used, the batch stays
// dynamic.
// CHECK-LABEL: func.func @symbolic_batch
// CHECK-SAME: -> tensor<?x12x128x32xf32>
// CHECK: onnx.Concat({{.*}}) -> tensor<4xi64>
// CHECK: onnx.Reshape(%{{.*}}, %{{.*}}) : (tensor<?x128x384xf32>, tensor<4xi64>) -> tensor<?x128x12x32xf32>
// CHECK: onnx.Transpose(%{{.*}}) {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x128x12x32xf32>) -> tensor<?x12x128x32xf32>
func.func @symbolic_batch(%x: tensor<?x128x384xf32>) -> tensor<*xf32> {
  %s = onnx.Shape(%x) : (tensor<?x128x384xf32>) -> tensor<?xi64>
  %c0 = onnx.Constant() {value = dense<0> : tensor<i64>} : () -> tensor<i64>
  %c1 = onnx.Constant() {value = dense<1> : tensor<i64>} : () -> tensor<i64>
  %b = onnx.Gather(%s, %c0) {axis = 0 : i64} : (tensor<?xi64>, tensor<i64>) -> tensor<i64>
  %t = onnx.Gather(%s, %c1) {axis = 0 : i64} : (tensor<?xi64>, tensor<i64>) -> tensor<i64>
  %axes = onnx.Constant() {value = dense<0> : tensor<1xi64>} : () -> tensor<1xi64>
  %bu = onnx.Unsqueeze(%b, %axes) : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %tu = onnx.Unsqueeze(%t, %axes) : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %h = onnx.Constant() {value = dense<[12, 32]> : tensor<2xi64>} : () -> tensor<2xi64>
  %shape = onnx.Concat(%bu, %tu, %h) {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<2xi64>) -> !onnx.unknown
  %r = onnx.Reshape(%x, %shape) : (tensor<?x128x384xf32>, !onnx.unknown) -> tensor<*xf32>
  %p = onnx.Transpose(%r) {perm = array<i64: 0, 2, 1, 3>} : (tensor<*xf32>) -> tensor<*xf32>
  return %p : tensor<*xf32>
}

// The same chain on a static input is static all through.
// CHECK-LABEL: func.func @static_batch
// CHECK: onnx.Reshape(%{{.*}}, %{{.*}}) : (tensor<2x128x384xf32>, tensor<4xi64>) -> tensor<2x128x12x32xf32>
func.func @static_batch(%x: tensor<2x128x384xf32>) -> tensor<*xf32> {
  %s = onnx.Shape(%x) : (tensor<2x128x384xf32>) -> tensor<?xi64>
  %c0 = onnx.Constant() {value = dense<[0, 1]> : tensor<2xi64>} : () -> tensor<2xi64>
  %bt = onnx.Gather(%s, %c0) {axis = 0 : i64} : (tensor<?xi64>, tensor<2xi64>) -> tensor<?xi64>
  %h = onnx.Constant() {value = dense<[12, 32]> : tensor<2xi64>} : () -> tensor<2xi64>
  %shape = onnx.Concat(%bt, %h) {axis = 0 : i64} : (tensor<?xi64>, tensor<2xi64>) -> tensor<?xi64>
  %r = onnx.Reshape(%x, %shape) : (tensor<2x128x384xf32>, tensor<?xi64>) -> tensor<*xf32>
  return %r : tensor<*xf32>
}

// Reshape: 0 copies the input's size, -1 takes the rest; with allowzero, 0
// is a size. Shapes from a dense_resource initializer are read too.
// CHECK-LABEL: func.func @reshape_special_sizes
// CHECK: onnx.Reshape(%{{.*}}, %{{.*}}) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
// CHECK: onnx.Reshape(%{{.*}}, %{{.*}}) : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<24xf32>
// CHECK: onnx.Reshape(%{{.*}}, %{{.*}}) {allowzero = 1 : i64} : (tensor<0x5xf32>, tensor<2xi64>) -> tensor<0x7xf32>
// CHECK: onnx.Reshape(%{{.*}}, %{{.*}}) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
func.func @reshape_special_sizes(%x: tensor<2x3x4xf32>, %z: tensor<0x5xf32>) -> (tensor<*xf32>, !onnx.unknown, tensor<*xf32>, tensor<?x?xf32>) {
  %s0 = onnx.Constant() {value = dense<[0, -1]> : tensor<2xi64>} : () -> tensor<2xi64>
  %r0 = onnx.Reshape(%x, %s0) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  %s1 = onnx.Constant() {value_ints = array<i64: -1>} : () -> tensor<1xi64>
  %r1 = onnx.Reshape(%x, %s1) : (tensor<2x3x4xf32>, tensor<1xi64>) -> !onnx.unknown
  %s2 = onnx.Constant() {value = dense<[0, 7]> : tensor<2xi64>} : () -> tensor<2xi64>
  %r2 = onnx.Reshape(%z, %s2) {allowzero = 1 : i64} : (tensor<0x5xf32>, tensor<2xi64>) -> tensor<*xf32>
  %s3 = onnx.Initializer "shape" dense_resource<shape_blob> : tensor<2xi64>
  %r3 = onnx.Reshape(%x, %s3) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r0, %r1, %r2, %r3 : tensor<*xf32>, !onnx.unknown, tensor<*xf32>, tensor<?x?xf32>
}

// A static type is never contradicted (an invalid model), and the rule's
// answer is not half applied.
// CHECK-LABEL: func.func @no_contradiction
// CHECK: onnx.Reshape(%{{.*}}, %{{.*}}) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<3x8xf32>
// CHECK: onnx.Reshape(%{{.*}}, %{{.*}}) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x8xf32>
func.func @no_contradiction(%x: tensor<2x3x4xf32>) -> (tensor<3x8xf32>, tensor<?x8xf32>) {
  %s = onnx.Constant() {value = dense<[4, 6]> : tensor<2xi64>} : () -> tensor<2xi64>
  %r0 = onnx.Reshape(%x, %s) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<3x8xf32>
  %r1 = onnx.Reshape(%x, %s) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x8xf32>
  return %r0, %r1 : tensor<3x8xf32>, tensor<?x8xf32>
}

// Shape arithmetic: Shape with start, Slice, Mul, Div, Cast, Size.
// CHECK-LABEL: func.func @shape_arithmetic
// CHECK: onnx.Shape(%{{.*}}) {start = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2xi64>
// CHECK: onnx.Reshape(%{{.*}}, %{{.*}}) : (tensor<48xf32>, tensor<2xi64>) -> tensor<6x8xf32>
// CHECK: onnx.Reshape(%{{.*}}, %{{.*}}) : (tensor<48xf32>, tensor<2xi64>) -> tensor<2x24xf32>
// CHECK: onnx.Reshape(%{{.*}}, %{{.*}}) : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<24xf32>
func.func @shape_arithmetic(%x: tensor<2x3x4xf32>, %y: tensor<48xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %s = onnx.Shape(%x) {start = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<?xi64>
  %two = onnx.Constant() {value = dense<2> : tensor<i64>} : () -> tensor<i64>
  %m = onnx.Mul(%s, %two) : (tensor<?xi64>, tensor<i64>) -> tensor<?xi64>
  %r0 = onnx.Reshape(%y, %m) : (tensor<48xf32>, tensor<?xi64>) -> tensor<*xf32>
  %full = onnx.ShapeV1(%x) : (tensor<2x3x4xf32>) -> tensor<3xi64>
  %st = onnx.Constant() {value = dense<0> : tensor<1xi64>} : () -> tensor<1xi64>
  %en = onnx.Constant() {value = dense<2> : tensor<1xi64>} : () -> tensor<1xi64>
  %none = onnx.None
  %sl = onnx.Slice(%full, %st, %en, %none, %none) : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<?xi64>
  %i32 = onnx.CastV6(%sl) {to = 6 : i64} : (tensor<?xi64>) -> !onnx.unknown
  %c13 = onnx.Constant() {value = dense<[1, 3]> : tensor<2xi32>} : () -> tensor<2xi32>
  %d = onnx.Div(%i32, %c13) : (!onnx.unknown, tensor<2xi32>) -> !onnx.unknown
  %c124 = onnx.Constant() {value = dense<[1, 24]> : tensor<2xi32>} : () -> tensor<2xi32>
  %e = onnx.Mul(%d, %c124) : (!onnx.unknown, tensor<2xi32>) -> !onnx.unknown
  %back = onnx.CastV6(%e) {to = 7 : i64} : (!onnx.unknown) -> !onnx.unknown
  %r1 = onnx.Reshape(%y, %back) : (tensor<48xf32>, !onnx.unknown) -> tensor<*xf32>
  %n = onnx.Size(%x) : (tensor<2x3x4xf32>) -> tensor<i64>
  %a = onnx.Constant() {value = dense<0> : tensor<1xi64>} : () -> tensor<1xi64>
  %nu = onnx.Unsqueeze(%n, %a) : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %r2 = onnx.Reshape(%x, %nu) : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<*xf32>
  return %r0, %r1, %r2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// Expand, ConstantOfShape, Tile and Range with known inputs.
// CHECK-LABEL: func.func @generators
// CHECK: onnx.Expand(%{{.*}}, %{{.*}}) : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
// CHECK: onnx.ConstantOfShape(%{{.*}}) {value = dense<1> : tensor<1xi32>} : (tensor<3xi64>) -> tensor<2x3x4xi32>
// CHECK: onnx.ConstantOfShape(%{{.*}}) : (tensor<3xi64>) -> tensor<2x3x4xf32>
// CHECK: onnx.Tile(%{{.*}}, %{{.*}}) : (tensor<3x1xf32>, tensor<2xi64>) -> tensor<6x4xf32>
// CHECK: onnx.Range(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
// CHECK: onnx.Range(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<8xf32>
// CHECK: onnx.Range(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<2xi32>
func.func @generators(%y: tensor<3x1xf32>) -> (tensor<*xf32>, !onnx.unknown, !onnx.unknown, tensor<?x?xf32>, tensor<?xi64>, tensor<?xf32>, !onnx.unknown) {
  %shape = onnx.Constant() {value = dense<[2, 3, 4]> : tensor<3xi64>} : () -> tensor<3xi64>
  %e = onnx.Expand(%y, %shape) : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<*xf32>
  %c = onnx.ConstantOfShape(%shape) {value = dense<1> : tensor<1xi32>} : (tensor<3xi64>) -> !onnx.unknown
  %f = onnx.ConstantOfShape(%shape) : (tensor<3xi64>) -> !onnx.unknown
  %reps = onnx.Constant() {value = dense<[2, 4]> : tensor<2xi64>} : () -> tensor<2xi64>
  %t = onnx.Tile(%y, %reps) : (tensor<3x1xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %start = onnx.Constant() {value = dense<0> : tensor<i64>} : () -> tensor<i64>
  %limit = onnx.Constant() {value = dense<10> : tensor<i64>} : () -> tensor<i64>
  %delta = onnx.Constant() {value = dense<3> : tensor<i64>} : () -> tensor<i64>
  %r = onnx.Range(%start, %limit, %delta) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %fs = onnx.Constant() {value = dense<1.0> : tensor<f32>} : () -> tensor<f32>
  %fl = onnx.Constant() {value = dense<5.0> : tensor<f32>} : () -> tensor<f32>
  %fd = onnx.Constant() {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %rf = onnx.Range(%fs, %fl, %fd) : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<?xf32>
  %is = onnx.Constant() {value = dense<10> : tensor<i32>} : () -> tensor<i32>
  %il = onnx.Constant() {value = dense<6> : tensor<i32>} : () -> tensor<i32>
  %id = onnx.Constant() {value = dense<-3> : tensor<i32>} : () -> tensor<i32>
  %ri = onnx.Range(%is, %il, %id) : (tensor<i32>, tensor<i32>, tensor<i32>) -> !onnx.unknown
  return %e, %c, %f, %t, %r, %rf, %ri : tensor<*xf32>, !onnx.unknown, !onnx.unknown, tensor<?x?xf32>, tensor<?xi64>, tensor<?xf32>, !onnx.unknown
}

// Elementwise ops: unary ops and Cast keep the input's shape, binary and
// variadic ones broadcast numpy-style, comparisons give i1, Where takes
// its values' element type.
// CHECK-LABEL: func.func @elementwise
// CHECK: onnx.Relu(%{{.*}}) : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: onnx.CastV6(%{{.*}}) {to = 6 : i64} : (tensor<2x3xf32>) -> tensor<2x3xi32>
// CHECK: onnx.Add(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK: onnx.Add(%{{.*}}, %{{.*}}) : (tensor<?x3xf32>, tensor<4x1xf32>) -> tensor<4x3xf32>
// CHECK: onnx.Sum(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>, tensor<1x1x3xf32>) -> tensor<1x2x3xf32>
// CHECK: onnx.Equal(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
// CHECK: onnx.Where(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<2x3xi1>, tensor<3xf32>, tensor<f32>) -> tensor<2x3xf32>
// CHECK: onnx.Mul(%{{.*}}, %{{.*}}) : (tensor<2x3xf32>, tensor<*xf32>) -> tensor<*xf32>
func.func @elementwise(%x: tensor<2x3xf32>, %b: tensor<3xf32>, %d: tensor<?x3xf32>, %e: tensor<4x1xf32>, %f: tensor<1x1x3xf32>, %s: tensor<f32>, %u: tensor<*xf32>)
    -> (!onnx.unknown, !onnx.unknown, tensor<*xf32>, tensor<?x?xf32>, !onnx.unknown, !onnx.unknown, !onnx.unknown, tensor<*xf32>) {
  %0 = onnx.Relu(%x) : (tensor<2x3xf32>) -> !onnx.unknown
  %1 = onnx.CastV6(%x) {to = 6 : i64} : (tensor<2x3xf32>) -> !onnx.unknown
  %2 = onnx.Add(%x, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<*xf32>
  %3 = onnx.Add(%d, %e) : (tensor<?x3xf32>, tensor<4x1xf32>) -> tensor<?x?xf32>
  %4 = onnx.Sum(%x, %b, %f) : (tensor<2x3xf32>, tensor<3xf32>, tensor<1x1x3xf32>) -> !onnx.unknown
  %5 = onnx.Equal(%x, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> !onnx.unknown
  %6 = onnx.Where(%5, %b, %s) : (!onnx.unknown, tensor<3xf32>, tensor<f32>) -> !onnx.unknown
  %7 = onnx.Mul(%x, %u) : (tensor<2x3xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : !onnx.unknown, !onnx.unknown, tensor<*xf32>, tensor<?x?xf32>, !onnx.unknown, !onnx.unknown, !onnx.unknown, tensor<*xf32>
}

// Ops whose rule is simple, on results the model leaves unknown.
// CHECK-LABEL: func.func @simple_rules
// CHECK: onnx.Identity(%{{.*}}) : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK: onnx.Softmax(%{{.*}}) {axis = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK: onnx.Transpose(%{{.*}}) : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
// CHECK: onnx.Unsqueeze(%{{.*}}, %{{.*}}) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<1x2x3x4x1xf32>
// CHECK: onnx.Squeeze(%{{.*}}, %{{.*}}) : (tensor<1x2x3x4x1xf32>, tensor<1xi64>) -> tensor<1x2x3x4xf32>
// CHECK: onnx.Squeeze(%{{.*}}, %{{.*}}) : (tensor<1x2x3x4x1xf32>, none) -> tensor<2x3x4xf32>
// CHECK: onnx.Flatten(%{{.*}}) {axis = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
// CHECK: onnx.MatMul(%{{.*}}, %{{.*}}) : (tensor<2x3x4xf32>, tensor<5x1x4x7xf32>) -> tensor<5x2x3x7xf32>
// CHECK: onnx.MatMul(%{{.*}}, %{{.*}}) : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3xf32>
// CHECK: onnx.Gather(%{{.*}}, %{{.*}}) {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<5x6xi64>) -> tensor<2x5x6x4xf32>
// CHECK: onnx.ReduceMeanV1(%{{.*}}) {axes = array<i64: -1>} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
func.func @simple_rules(%x: tensor<2x3x4xf32>, %w: tensor<5x1x4x7xf32>, %v: tensor<4xf32>, %i: tensor<5x6xi64>) {
  %0 = onnx.Identity(%x) : (tensor<2x3x4xf32>) -> !onnx.unknown
  %1 = onnx.Softmax(%x) {axis = -1 : i64} : (tensor<2x3x4xf32>) -> !onnx.unknown
  %2 = onnx.Transpose(%x) : (tensor<2x3x4xf32>) -> !onnx.unknown
  %axes = onnx.Constant() {value = dense<[0, -1]> : tensor<2xi64>} : () -> tensor<2xi64>
  %3 = onnx.Unsqueeze(%x, %axes) : (tensor<2x3x4xf32>, tensor<2xi64>) -> !onnx.unknown
  %last = onnx.Constant() {value = dense<4> : tensor<1xi64>} : () -> tensor<1xi64>
  %4 = onnx.Squeeze(%3, %last) : (!onnx.unknown, tensor<1xi64>) -> !onnx.unknown
  %none = onnx.None
  %5 = onnx.Squeeze(%3, %none) : (!onnx.unknown, none) -> !onnx.unknown
  %6 = onnx.Flatten(%x) {axis = 2 : i64} : (tensor<2x3x4xf32>) -> !onnx.unknown
  %7 = onnx.MatMul(%x, %w) : (tensor<2x3x4xf32>, tensor<5x1x4x7xf32>) -> !onnx.unknown
  %8 = onnx.MatMul(%x, %v) : (tensor<2x3x4xf32>, tensor<4xf32>) -> !onnx.unknown
  %9 = onnx.Gather(%x, %i) {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<5x6xi64>) -> !onnx.unknown
  %10 = onnx.ReduceMeanV1(%x) {axes = array<i64: -1>} : (tensor<2x3x4xf32>) -> !onnx.unknown
  return
}

// Subgraphs: values inside are refined, the If's own result types stay.
// CHECK-LABEL: func.func @subgraph
// CHECK: %[[R:.*]] = onnx.Relu(%{{.*}}) : (tensor<2xf32>) -> tensor<2xf32>
// CHECK: onnx.If
// CHECK: onnx.Neg(%[[R]]) : (tensor<2xf32>) -> tensor<2xf32>
// CHECK: onnx.Yield %{{.*}} : tensor<2xf32>
// CHECK: onnx.Yield %[[R]] : tensor<2xf32>
// CHECK: }) : (tensor<i1>) -> tensor<*xf32>
func.func @subgraph(%cond: tensor<i1>, %x: tensor<2xf32>) -> tensor<*xf32> {
  %u = onnx.Relu(%x) : (tensor<2xf32>) -> tensor<*xf32>
  %0 = onnx.If(%cond) {onnx.subgraphs = [{inputs = [], name = "else"}, {inputs = [], name = "then"}]} ({
    %n = onnx.Neg(%u) : (tensor<*xf32>) -> tensor<*xf32>
    onnx.Yield %n : tensor<*xf32>
  }, {
    onnx.Yield %u : tensor<*xf32>
  }) : (tensor<i1>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

{-#
  dialect_resources: {
    builtin: {
      shape_blob: "0x080000000400000000000000FFFFFFFFFFFFFFFF"
    }
  }
#-}
