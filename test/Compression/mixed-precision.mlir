// pith-mixed-precision: the default policy, the fewest casts, integer-valued
// floats, weights that underflow, overrides, and bad options.
// RUN: pith-opt %s --pith-mixed-precision="precision=fp16 keep-io-types=true" | FileCheck %s --check-prefix=FP16

// Contractions in fp16 with f32 accumulation; LayerNormalization, Softmax
// in float32; Relu and Sigmoid (free to follow) stay float32: both read
// 'a', so one cast of 'a' serves both, where converting them would need
// two casts after them (a minimum cut, not a greedy walk).
// FP16: "fp16: 2 ops in fp16 (Add 1, MatMul 1); 11 float32 (Add 2, Cast 1, LayerNormalization 2, MatMul 1, Mul 2, Relu 1, Sigmoid 1, Softmax 1)"
// FP16-SAME: "casts: 2 inserted (1 to fp16, 1 to float32), the fewest for this assignment"
// FP16-SAME: "weights: 2 converted, 144 B -> 72 B; 4 kept float32"
// FP16-SAME: "weight 'tiny' stays float32 with its readers: rounding to fp16 loses 1.00e+00 relative (underflow; unit roundoff 4.88e-04)"
// FP16-SAME: "no calibration inputs: activation ranges not checked
// FP16-DAG: pith.parameter @w : tensor<8x4xf16>
// FP16-DAG: pith.parameter @b : tensor<4xf16>
// FP16-DAG: pith.parameter @gamma : tensor<4xf32>
// FP16-DAG: pith.parameter @tiny : tensor<8x4xf32>
// FP16: func.func @policy(%arg0: tensor<4x8xf32> {onnx.name = "x"}) -> (tensor<4x4xf32> {onnx.name = "y"}, tensor<4x4xf32> {onnx.name = "t"})
// FP16: %[[X:.*]] = onnx.CastV6(%arg0) {onnx.names = ["x_to_fp16"], to = 10 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf16>
// FP16: %[[M:.*]] = onnx.MatMul(%[[X]], %{{.*}}) {{{.*}}pith.precision = #pith.precision<compute = f16, accumulate = f32>} : (tensor<4x8xf16>, tensor<8x4xf16>) -> tensor<4x4xf16>
// FP16: %[[A:.*]] = onnx.Add(%[[M]], %{{.*}}) {onnx.names = ["a"]} : (tensor<4x4xf16>, tensor<4xf16>) -> tensor<4x4xf16>
// FP16: %[[A32:.*]] = onnx.CastV6(%[[A]]) {onnx.names = ["a_to_fp32"], to = 1 : i64} : (tensor<4x4xf16>) -> tensor<4x4xf32>
// FP16: onnx.Relu(%[[A32]]) {{.*}} -> tensor<4x4xf32>
// FP16: onnx.Sigmoid(%[[A32]]) {{.*}} -> tensor<4x4xf32>
// FP16: onnx.Softmax({{.*}} -> tensor<4x4xf32>
// A float computed from the shape stays float32, and so does what reads it.
// FP16: %[[ROWS:.*]] = onnx.CastV6({{.*}}) {onnx.names = ["rowsf"], to = 1 : i64} : (tensor<i64>) -> tensor<f32>
// FP16: onnx.Mul(%[[ROWS]], {{.*}}) -> tensor<f32>
// The tiny weight's MatMul reads x in float32: no cast rounds the weight.
// FP16: onnx.MatMul(%arg0, %{{.*}}) {onnx.names = ["t"]} : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>

// bf16 has float32's exponent: the tiny weight converts, its MatMul reads
// the shared cast of x.
// RUN: pith-opt %s --pith-mixed-precision="precision=bf16 keep-io-types=true" | FileCheck %s --check-prefix=BF16
// BF16: "bf16: 3 ops in bf16 (Add 1, MatMul 2);
// BF16-SAME: "casts: 3 inserted (1 to bf16, 2 to float32), the fewest for this assignment"
// BF16-SAME: "weights: 3 converted, 272 B -> 136 B; 3 kept float32"
// BF16: pith.parameter @tiny : tensor<8x4xbf16>

// Without keep-io-types the model's float inputs and outputs change type.
// RUN: pith-opt %s --pith-mixed-precision="precision=fp16" | FileCheck %s --check-prefix=IO
// IO: func.func @policy(%arg0: tensor<4x8xf16> {onnx.name = "x"}) -> (tensor<4x4xf16> {onnx.name = "y"}, tensor<4x4xf16> {onnx.name = "t"})
// IO-NOT: x_to_fp16
// The output keeps its name on the cast that makes it.
// IO: onnx.CastV6(%{{.*}}) {onnx.names = ["y"], to = 10 : i64} : (tensor<4x4xf32>) -> tensor<4x4xf16>

// Overrides by op type and by node name: keep-fp32 holds the MatMul 'mm'
// (and so its bias Add follows it), low converts Softmax.
// RUN: pith-opt %s --pith-mixed-precision="precision=fp16 keep-io-types=true keep-fp32=mm low=Softmax" | FileCheck %s --check-prefix=OVERRIDE
// OVERRIDE: "fp16: 1 ops in fp16 (Softmax 1);
// OVERRIDE: onnx.MatMul(%arg0, %{{.*}}) {onnx.names = ["m"]} : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
// OVERRIDE: onnx.Softmax({{.*}} : (tensor<4x4xf16>) -> tensor<4x4xf16>

// RUN: not pith-opt %s --pith-mixed-precision="precision=fp8" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: pith-mixed-precision: precision: expected 'fp16' or 'bf16', got 'fp8'
// RUN: not pith-opt %s --pith-mixed-precision="precision=fp16 keep-fp32=Add low=Add" 2>&1 | FileCheck %s --check-prefix=BOTH
// BOTH: error: pith-mixed-precision: 'Add' is in both keep-fp32 and low

module attributes {onnx.ir_version = 8 : i64, onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @policy(%x: tensor<4x8xf32> {onnx.name = "x"})
      -> (tensor<4x4xf32> {onnx.name = "y"}, tensor<4x4xf32> {onnx.name = "t"}) {
    %w = onnx.Initializer "w" dense<0.5> : tensor<8x4xf32>
    %b = onnx.Initializer "b" dense<0.25> : tensor<4xf32>
    %gamma = onnx.Initializer "gamma" dense<1.0> : tensor<4xf32>
    %beta = onnx.Initializer "beta" dense<0.0> : tensor<4xf32>
    %two = onnx.Initializer "two" dense<2.0> : tensor<f32>
    %zero = onnx.Initializer "zero" dense<0> : tensor<i64>
    %tiny = onnx.Initializer "tiny" dense<1.0e-9> : tensor<8x4xf32>
    %m = onnx.MatMul(%x, %w) {onnx.names = ["m"]} : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32> loc("mm")
    %a = onnx.Add(%m, %b) {onnx.names = ["a"]} : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
    %r = onnx.Relu(%a) {onnx.names = ["r"]} : (tensor<4x4xf32>) -> tensor<4x4xf32>
    %s = onnx.Sigmoid(%a) {onnx.names = ["s"]} : (tensor<4x4xf32>) -> tensor<4x4xf32>
    %ln1, %mean1, %inv1 = onnx.LayerNormalization(%r, %gamma, %beta) {axis = -1 : i64, onnx.names = ["ln1", "", ""]} : (tensor<4x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4x4xf32>, none, none)
    %ln2, %mean2, %inv2 = onnx.LayerNormalization(%s, %gamma, %beta) {axis = -1 : i64, onnx.names = ["ln2", "", ""]} : (tensor<4x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4x4xf32>, none, none)
    %sum = onnx.Add(%ln1, %ln2) {onnx.names = ["sum"]} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %p = onnx.Softmax(%sum) {axis = -1 : i64, onnx.names = ["p"]} : (tensor<4x4xf32>) -> tensor<4x4xf32>
    %p2 = onnx.Mul(%p, %two) {onnx.names = ["p2"]} : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
    %shape = onnx.Shape(%x) {onnx.names = ["shape"]} : (tensor<4x8xf32>) -> tensor<2xi64>
    %rows = onnx.Gather(%shape, %zero) {axis = 0 : i64, onnx.names = ["rows"]} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
    %rowsf = onnx.CastV6(%rows) {onnx.names = ["rowsf"], to = 1 : i64} : (tensor<i64>) -> tensor<f32>
    %rows2 = onnx.Mul(%rowsf, %two) {onnx.names = ["rows2"]} : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %y = onnx.Add(%p2, %rows2) {onnx.names = ["y"]} : (tensor<4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
    %t = onnx.MatMul(%x, %tiny) {onnx.names = ["t"]} : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
    return %y, %t : tensor<4x4xf32>, tensor<4x4xf32>
  }
}
