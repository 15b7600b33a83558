//===- PithDialect.h - The pith dialect --------------------------*- C++ -*-===//
//
// Shared parameters, factored linear maps, sparse weights, precision and
// recompute marks: the IR of Pith's efficiency transforms (Pith.td).
//
//===----------------------------------------------------------------------===//

#ifndef PITH_DIALECT_PITHDIALECT_H
#define PITH_DIALECT_PITHDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "Pith/PithDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "Pith/PithAttrs.h.inc"

#define GET_OP_CLASSES
#include "Pith/PithOps.h.inc"

namespace pith::dialect {
/// The discardable attribute that carries an op's PrecisionAttr.
inline constexpr llvm::StringLiteral kPrecisionAttrName = "pith.precision";
/// Training steps (pith-autodiff, pith-remat): a unit attribute on the ops of
/// the loss, backward pass and update, which pith-remat tells from the
/// forward pass by it...
inline constexpr llvm::StringLiteral kBackwardAttrName = "pith.backward";
/// ...and, on a backward-pass copy of a forward op, the name of the node it
/// recomputes (a string).
inline constexpr llvm::StringLiteral kRecomputeAttrName = "pith.recompute";
} // namespace pith::dialect

#endif // PITH_DIALECT_PITHDIALECT_H
