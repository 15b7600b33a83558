//===- ONNXOps.td - Ops of the onnx dialect -*- tablegen -*-===//
//
// The structural ops written by hand (graph constants, absent values,
// subgraph terminators, operators outside the schema), then every operator
// generated from ONNX's schema registry (ONNXSchemaOps.td).
//
//===----------------------------------------------------------------------===//

#ifndef PITH_ONNX_OPS_TD
#define PITH_ONNX_OPS_TD

include "ONNXDialect.td"
include "ONNXAttrs.td"
include "ONNXTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def ONNX_NoneOp : ONNX_Op<"None", [Pure]> {
  let summary = "an absent optional input";
  let description = [{
    ONNX writes a missing optional input as an empty name. Pith passes a
    value of type `none` in its place, so every op keeps its operand order.

    ```mlir
    %none = onnx.None
    %y = onnx.Clip(%x, %none, %max) : (tensor<4xf32>, none, tensor<f32>) -> tensor<4xf32>
    ```
  }];
  let results = (outs NoneType:$none);
  let assemblyFormat = "attr-dict";
}

def ONNX_InitializerOp : ONNX_Op<"Initializer", [Pure,
    TypesMatchWith<"result type is the value's type", "value", "result",
                   "$_self">]> {
  let summary = "a graph initializer: a named, stored tensor";
  let description = [{
    An entry of GraphProto.initializer. The data is usually a
    `dense_resource` blob, so large weights are neither copied element by
    element nor printed unless asked.

    ```mlir
    %w = onnx.Initializer "fc.weight" dense_resource<fc.weight> : tensor<10x16xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, ElementsAttr:$value);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$name $value attr-dict";
}

def ONNX_YieldOp : ONNX_Op<"Yield", [Pure, Terminator, ReturnLike]> {
  let summary = "the outputs of a subgraph";
  let description = [{
    Ends the region of a graph attribute (If branches, Loop and Scan bodies):
    its operands are the subgraph's outputs, in order.

    ```mlir
    onnx.Yield %cond, %sum : tensor<i1>, tensor<f32>
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$outputs);
  let assemblyFormat = "($outputs^ `:` type($outputs))? attr-dict";
}

def ONNX_CustomOp : ONNX_Op<"Custom", [RecursiveMemoryEffects]> {
  let summary = "an operator outside Pith's schema, kept verbatim";
  let description = [{
    A node of another domain (com.microsoft, ai.onnx.ml, a model-local
    function), or an ai.onnx operator the model's opset does not define. It
    keeps domain, op type, attributes and graph attributes, so that
    optimize-and-export works on any model; code generation rejects it by
    name. `graph_attrs` names the regions, in order.

    ```mlir
    %y = onnx.Custom "com.microsoft" "FusedMatMul"(%a, %b) {alpha = 1.0 : f32}
           graphs [] : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$inputs, StrAttr:$domain,
                   StrAttr:$op_type, DictionaryAttr:$attrs,
                   StrArrayAttr:$graph_attrs);
  let results = (outs Variadic<AnyType>:$outputs);
  let regions = (region VariadicRegion<AnyRegion>:$graphs);
  let assemblyFormat = [{
    $domain $op_type `(` $inputs `)` $attrs attr-dict `graphs` $graph_attrs
      $graphs `:` functional-type($inputs, $outputs)
  }];
  let hasVerifier = 1;
}

include "ONNXSchemaOps.td"

#endif // PITH_ONNX_OPS_TD
