//===- ONNXDialect.td - The onnx dialect and its op base classes -*- tablegen -*-===//
//
// The `onnx` dialect mirrors ONNX: one op per operator signature, ONNX's
// operand, result and attribute names, and the opset recorded on the module.
// It is the level Pith imports to and exports from.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_ONNX_DIALECT_TD
#define PITH_ONNX_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def ONNX_Dialect : Dialect {
  let name = "onnx";
  let cppNamespace = "::pith::ONNX";
  let summary = "A faithful mirror of ONNX operators, types and graphs";
  let description = [{
    Every ai.onnx operator version whose signature differs from its
    predecessor is an op: `onnx.Conv`, `onnx.Split` (newest), `onnx.SplitV13`
    (the form opsets 13-17 use). Missing optional inputs and outputs are
    values of type `none`. Graph attributes (If, Loop, Scan bodies) are regions
    ending in `onnx.Yield`; they may use values of the enclosing graph.
    Operators from other domains, or unknown to the schema, import as
    `onnx.Custom`, which keeps domain, type, attributes and subgraphs.

    The module carries the model header:
    `onnx.opset_import = {ai.onnx = 17 : i64, ...}`, `onnx.ir_version`, and
    producer and metadata attributes. Value names live in `onnx.names`
    (results) and `onnx.name` (function arguments and results); node names
    are the ops' locations.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class ONNX_Op<string mnemonic, list<Trait> traits = []>
    : Op<ONNX_Dialect, mnemonic, traits>;

// An op generated from ONNX's schema. All such ops share one readable
// assembly form, `onnx.Op(%a, %b) {attrs} ({regions}) : (types) -> types`,
// and one verifier (region terminators, then per-operator checks).
class ONNX_SchemaOp<string mnemonic, string onnxType, list<int> opsetVersions,
                    list<Trait> traits = []>
    : ONNX_Op<mnemonic, traits> {
  string onnxOpType = onnxType;
  list<int> versions = opsetVersions;
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::ParseResult $cppClass::parse(::mlir::OpAsmParser &parser,
                                         ::mlir::OperationState &result) {
      return ::pith::ONNX::parseSchemaOp(parser, result);
    }
    void $cppClass::print(::mlir::OpAsmPrinter &printer) {
      ::pith::ONNX::printSchemaOp(getOperation(), printer);
    }
    ::llvm::LogicalResult $cppClass::verify() {
      return ::pith::ONNX::verifySchemaOp(getOperation());
    }
  }];
}

#endif // PITH_ONNX_DIALECT_TD
