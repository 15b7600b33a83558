//===- Pith.td - The pith dialect: efficiency transforms' IR -*- tablegen -*-===//
//
// What Pith's efficiency transforms produce, on top of the onnx dialect:
// shared parameters, factored linear maps, sparse weights with their
// pattern, compute precision and recompute marks. Designed for all five
// transform families at once (see docs/dialects/PithRationale.md), so that
// later passes only fill it in. Every op expands back to onnx ops
// (pith-expand-to-onnx), which is how the CPU backend and ONNX export see it.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_DIALECT_TD
#define PITH_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Pith_Dialect : Dialect {
  let name = "pith";
  let cppNamespace = "::pith::dialect";
  let summary = "Shared parameters, factored and sparse weights, precision and recompute marks";
  let description = [{
    The IR of Pith's efficiency transforms. A model imported from ONNX is in
    the `onnx` dialect; transforms introduce `pith` ops and attributes where
    the standard operators cannot say what they did: that several layers
    share one weight, that a weight is a low-rank product, that a weight's
    zeros follow a pattern, in which precision an op computes, which
    activations a training graph recomputes. `pith-expand-to-onnx` rewrites
    all of them as standard onnx ops for the CPU backend and for export.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
}

class Pith_Op<string mnemonic, list<Trait> traits = []>
    : Op<Pith_Dialect, mnemonic, traits>;

class Pith_Attr<string name, string attrMnemonic>
    : AttrDef<Pith_Dialect, name> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def Pith_SparsityAttr : Pith_Attr<"Sparsity", "sparsity"> {
  let summary = "which entries of a weight are zero";
  let description = [{
    The pattern a sparse weight's zeros follow, checked against the data by
    the verifier of the `pith.parameter` that carries it.

    - `"N:M"` (e.g. `"2:4"`): in every group of M consecutive elements along
      `axis` (the reduction dimension of the op using the weight), at most N
      are nonzero.
    - `"blockRxC"` (e.g. `"block4x4"`): the weight, seen as a matrix of its
      first `axis` + 1 dimensions by the rest, is tiled by R x C blocks; at
      least `fraction` of the blocks are entirely zero.
    - `"unstructured"`: at least `fraction` of the elements are zero.

    ```mlir
    #pith.sparsity<pattern = "2:4", axis = 0, fraction = 5.000000e-01 : f64>
    ```
  }];
  let parameters = (ins StringRefParameter<"the pattern">:$pattern,
                        "int64_t":$axis,
                        "::mlir::FloatAttr":$fraction);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// N and M of an "N:M" pattern.
    std::optional<std::pair<int64_t, int64_t>> getNM() const;
    /// Rows and columns of a "blockRxC" pattern.
    std::optional<std::pair<int64_t, int64_t>> getBlock() const;
  }];
}

def Pith_PrecisionAttr : Pith_Attr<"Precision", "precision"> {
  let summary = "the precision an op computes and accumulates in";
  let description = [{
    Set as `pith.precision` on an onnx op by mixed-precision transforms:
    operands are rounded to `compute` and products summed in `accumulate`.
    The verifier requires float types, and an accumulator at least as wide
    as the compute type. Until code generation profits from it, expansion
    to onnx keeps the op in its original type.

    ```mlir
    %y = onnx.MatMul(%x, %w) {pith.precision = #pith.precision<compute = f16, accumulate = f32>}
    ```
  }];
  let parameters = (ins "::mlir::Type":$compute, "::mlir::Type":$accumulate);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

def Pith_ParameterOp : Pith_Op<"parameter", [Symbol]> {
  let summary = "a named weight, shared by all its users";
  let description = [{
    A weight as a module-level symbol. Every `pith.use` of it reads the same
    data: a weight tied across layers, or deduplicated, is one parameter
    with several users, stored and loaded once. `sources` lists the ONNX
    initializers it stands for (traceability: a tied weight names every
    initializer it replaced). An optional `sparsity` states the pattern of
    its zeros, which the verifier checks against the data.

    ```mlir
    pith.parameter @encoder.ffn.weight : tensor<384x1536xf32>
        = dense_resource<w> sources ["layer.0.ffn.weight", "layer.1.ffn.weight"]
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttr:$type,
                       ElementsAttr:$value, StrArrayAttr:$sources,
                       OptionalAttr<Pith_SparsityAttr>:$sparsity);
  let assemblyFormat = [{
    $sym_name `:` $type `=` $value `sources` $sources (`sparsity` $sparsity^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Pith_UseOp : Pith_Op<"use", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the value of a parameter";
  let description = [{
    Reads the `pith.parameter` named `parameter`. Uses may appear in the
    main graph and in subgraphs (If branches, Loop bodies) alike.

    ```mlir
    %w = pith.use @encoder.ffn.weight : tensor<384x1536xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$parameter);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$parameter attr-dict `:` type($result)";
}

def Pith_FactoredLinearOp : Pith_Op<"factored_linear", [Pure]> {
  let summary = "y = (x . U) . V (+ bias): a low-rank linear map";
  let description = [{
    A linear layer whose K x N weight is replaced by the product of U (K x R)
    and V (R x N), R the rank: K*R + R*N parameters instead of K*N, and the
    product never materializes the full weight. `input` has any rank >= 1;
    its last dimension is K. The optional `bias` has N elements. Input and
    result may be unranked, as ONNX import leaves values whose shapes
    inference did not find.

    ```mlir
    %y = pith.factored_linear %x, %u, %v : (tensor<8x384xf32>, tensor<384x32xf32>, tensor<32x1536xf32>) -> tensor<8x1536xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$input, AnyRankedTensor:$left,
                       AnyRankedTensor:$right, Optional<AnyRankedTensor>:$bias);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = [{
    $input `,` $left `,` $right (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Pith_CheckpointOp : Pith_Op<"checkpoint", [Pure, SameOperandsAndResultType]> {
  let summary = "marks an activation as recomputed or saved for the backward pass";
  let description = [{
    The identity on values, carrying a decision of activation
    checkpointing: `recompute` (free the activation after the forward pass
    and recompute it when the backward pass needs it) or `save` (keep it).
    Expansion to onnx drops the mark.

    ```mlir
    %h = pith.checkpoint "recompute" %x : tensor<8x384xf32>
    ```
  }];
  let arguments = (ins AnyType:$input, StrAttr:$policy);
  let results = (outs AnyType:$result);
  let assemblyFormat = "$policy $input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

#endif // PITH_DIALECT_TD
