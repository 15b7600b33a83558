// RUN: pith-translate --export-onnx %s -o %t.onnx
// RUN: %python %inputs/onnx_to_textproto.py %t.onnx | FileCheck %s --check-prefix=BINARY
// RUN: pith-translate --export-onnx %s --onnx-text | FileCheck %s --check-prefix=TEXT

// onnx.Custom exports as a node of its domain and op type, with its
// attributes and its regions as graph attributes named by graph_attrs; the
// module's opset imports include the other domains.

// BINARY: model: {{.*}}opset_import { domain: "" version: 17 } opset_import { domain: "com.microsoft" version: 1 }
// BINARY: node: input: "x" output: "g" op_type: "FusedGelu" attribute { name: "alpha" f: 1.5 type: FLOAT } domain: "com.microsoft"
// BINARY: node: input: "c" output: "z" op_type: "MyIf" attribute { name: "then_branch" g { node { input: "x" output: "t" op_type: "Relu" } name: "g1" output { name: "t" {{.*}} } } type: GRAPH } attribute { name: "else_branch" g { {{.*}} } type: GRAPH } domain: "com.microsoft"

// ONNX text names a node of another domain as domain.OpType.
// TEXT: opset_import: ["" : 17, "com.microsoft" : 1]
// TEXT: g = com.microsoft.FusedGelu <alpha = 1.5> (x)
// TEXT: z = com.microsoft.MyIf <then_branch = g1 () => (float[2] t)

module attributes {onnx.opset_import = {ai.onnx = 17 : i64, com.microsoft = 1 : i64}} {
  func.func @domains(%x: tensor<2xf32> {onnx.name = "x"}, %c: tensor<i1> {onnx.name = "c"})
      -> (tensor<2xf32> {onnx.name = "g"}, tensor<2xf32> {onnx.name = "z"}) {
    %0 = onnx.Custom "com.microsoft" "FusedGelu"(%x) {alpha = 1.5 : f32} {onnx.names = ["g"]} graphs [] : (tensor<2xf32>) -> tensor<2xf32>
    %1 = onnx.Custom "com.microsoft" "MyIf"(%c) {} {onnx.names = ["z"], onnx.subgraphs = [{inputs = [], name = "g1"}, {inputs = [], name = "g2"}]} graphs ["then_branch", "else_branch"] {
      %2 = onnx.Relu(%x) {onnx.names = ["t"]} : (tensor<2xf32>) -> tensor<2xf32>
      onnx.Yield %2 : tensor<2xf32>
    }, {
      %2 = onnx.Neg(%x) {onnx.names = ["e"]} : (tensor<2xf32>) -> tensor<2xf32>
      onnx.Yield %2 : tensor<2xf32>
    } : (tensor<i1>) -> tensor<2xf32>
    return %0, %1 : tensor<2xf32>, tensor<2xf32>
  }
}
