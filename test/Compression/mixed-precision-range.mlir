// pith-mixed-precision's range check on calibration inputs: 'big' (x . w,
// 8 * 100 * 100 = 80000) overflows fp16, so its MatMul and its reader stay
// float32; 'small' (x . v = 0.8) converts; bf16 has the range and converts
// both.
// RUN: %python -c "import numpy as np; np.savez('%t.npz', x=np.full((2, 8), 100, np.float32))"
// RUN: pith-opt %s --pith-mixed-precision="precision=fp16 keep-io-types=true calibration=%t.npz" | FileCheck %s --check-prefix=FP16
// FP16: "range check on 2 calibration samples: 3 activations checked, 2 tensors kept float32"
// FP16-SAME: "'big' stays float32 with its producer and readers: max |x| 8.00e+04 is within 2x of fp16's largest value 6.55e+04"
// FP16-SAME: "'big_relu' stays float32
// FP16: onnx.MatMul(%arg0, %{{.*}}) {onnx.names = ["big"]} : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
// FP16: onnx.Relu(%{{.*}}) {onnx.names = ["big_relu"]} : (tensor<2x4xf32>) -> tensor<2x4xf32>
// FP16: onnx.MatMul(%{{.*}}, %{{.*}}) {onnx.names = ["small"]{{.*}} : (tensor<2x8xf16>, tensor<8x4xf16>) -> tensor<2x4xf16>
// RUN: pith-opt %s --pith-mixed-precision="precision=bf16 keep-io-types=true calibration=%t.npz" | FileCheck %s --check-prefix=BF16
// BF16: "range check on 2 calibration samples: 3 activations checked, 0 tensors kept float32"
// BF16: onnx.MatMul(%{{.*}}, %{{.*}}) {onnx.names = ["big"]{{.*}} -> tensor<2x4xbf16>

// A calibration file that does not fit the model is an error naming it.
// RUN: %python -c "import numpy as np; np.savez('%t.bad.npz', y=np.zeros((2, 8), np.float32))"
// RUN: not pith-opt %s --pith-mixed-precision="precision=fp16 calibration=%t.bad.npz" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: pith-mixed-precision: calibration {{.*}}.bad.npz: 'y' is not an input of the model (inputs: x)

module attributes {onnx.ir_version = 8 : i64, onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @range(%x: tensor<2x8xf32> {onnx.name = "x"})
      -> (tensor<2x4xf32> {onnx.name = "y"}, tensor<2x4xf32> {onnx.name = "z"}) {
    %w = onnx.Initializer "w" dense<100.0> : tensor<8x4xf32>
    %v = onnx.Initializer "v" dense<1.0e-3> : tensor<8x4xf32>
    %big = onnx.MatMul(%x, %w) {onnx.names = ["big"]} : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
    %y = onnx.Relu(%big) {onnx.names = ["big_relu"]} : (tensor<2x4xf32>) -> tensor<2x4xf32>
    %z = onnx.MatMul(%x, %v) {onnx.names = ["small"]} : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
    return %y, %z : tensor<2x4xf32>, tensor<2x4xf32>
  }
}
