// RUN: pith-translate --export-onnx %s -o %t.onnx
// RUN: %python %inputs/onnx_to_textproto.py %t.onnx | FileCheck %s

// Initializers export their data as raw_data whatever the attribute holding
// it: a dense_resource blob, dense elements, a splat (expanded to every
// element), booleans (one byte each); strings as string_data, a splat
// expanded. raw_data is shown as hex.

// CHECK: initializer: dims: 2 data_type: 1 name: "blob" raw_data: "0000803f00000040"
// CHECK: initializer: dims: 2 data_type: 7 name: "dense" raw_data: "01000000000000000200000000000000"
// CHECK: initializer: dims: 4 data_type: 1 name: "splat" raw_data: "0000003f0000003f0000003f0000003f"
// CHECK: initializer: dims: 3 data_type: 9 name: "flags" raw_data: "010001"
// CHECK: initializer: dims: 0 data_type: 1 name: "empty" raw_data: ""
// CHECK: initializer: dims: 3 data_type: 8 string_data: "ab" string_data: "ab" string_data: "ab" name: "words"

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @initializers() -> (tensor<2xf32> {onnx.name = "blob"}, tensor<2xi64> {onnx.name = "dense"}, tensor<4xf32> {onnx.name = "splat"}, tensor<3xi1> {onnx.name = "flags"}, tensor<0xf32> {onnx.name = "empty"}, tensor<3x!onnx.string> {onnx.name = "words"}) {
    %0 = onnx.Initializer "blob" dense_resource<blob> : tensor<2xf32>
    %1 = onnx.Initializer "dense" dense<[1, 2]> : tensor<2xi64>
    %2 = onnx.Initializer "splat" dense<0.5> : tensor<4xf32>
    %3 = onnx.Initializer "flags" dense<[true, false, true]> : tensor<3xi1>
    %4 = onnx.Initializer "empty" dense<> : tensor<0xf32>
    %5 = onnx.Initializer "words" dense<"ab"> : tensor<3x!onnx.string>
    return %0, %1, %2, %3, %4, %5 : tensor<2xf32>, tensor<2xi64>, tensor<4xf32>, tensor<3xi1>, tensor<0xf32>, tensor<3x!onnx.string>
  }
}

{-#
  dialect_resources: {
    builtin: {
      blob: "0x040000000000803F00000040"
    }
  }
#-}
