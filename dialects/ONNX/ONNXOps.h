//===- ONNXOps.h - Ops of the onnx dialect --------------------*- C++ -*-===//
//
// Declares every onnx op (the structural ones and those generated from ONNX's
// schema) and the assembly and verification shared by the generated ones.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_DIALECTS_ONNX_ONNXOPS_H
#define PITH_DIALECTS_ONNX_ONNXOPS_H

#include "ONNX/ONNXDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace pith::ONNX {
class ONNXDialect;

/// The assembly form of every schema op:
///   %r = onnx.Op(%a, %b) {attrs} ({region}, ...) : (types) -> types
mlir::ParseResult parseSchemaOp(mlir::OpAsmParser &parser,
                                mlir::OperationState &result);
void printSchemaOp(mlir::Operation *op, mlir::OpAsmPrinter &printer);

/// Checks common to schema ops (subgraph terminators, attribute kinds), then
/// the semantic checks registered for the op's ONNX type (ONNXVerifiers.cpp).
llvm::LogicalResult verifySchemaOp(mlir::Operation *op);

/// Semantic checks for one ONNX operator type; defined in ONNXVerifiers.cpp.
llvm::LogicalResult verifyOperatorSemantics(mlir::Operation *op,
                                            llvm::StringRef onnxOpType);

/// The ai.onnx opset `module` imports (the newest Pith supports when it
/// names none).
int64_t defaultOpsetOf(mlir::ModuleOp module);

/// An op of ONNX type `opType`, in the version `module`'s opset uses, with
/// one result: what transforms insert (casts, reshapes, convolutions).
mlir::Value createOp(mlir::OpBuilder &b, mlir::Location loc, mlir::ModuleOp module,
                     llvm::StringRef opType, mlir::ValueRange operands, mlir::Type resultType,
                     llvm::ArrayRef<mlir::NamedAttribute> attributes = {});
} // namespace pith::ONNX

#define GET_OP_CLASSES
#include "ONNX/ONNXOps.h.inc"

#endif // PITH_DIALECTS_ONNX_ONNXOPS_H
