//===- Passes.h - Pith's conversion passes ----------------------*- C++ -*-===//

#ifndef PITH_CONVERSION_PASSES_H
#define PITH_CONVERSION_PASSES_H

#include "mlir/Pass/Pass.h"

namespace pith {
/// On a weight argument of the graph function: the fraction of its elements
/// that are zero (f64), set when a model is compiled.
inline constexpr llvm::StringLiteral kZeroFractionAttrName = "pith.zero_fraction";
/// Matmuls whose weight has at least this fraction of zeros call the sparse
/// kernel, which still measures itself against the dense one.
inline constexpr double kSparseWeightFrom = 0.5;

#define GEN_PASS_DECL
#include "pith/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "pith/Conversion/Passes.h.inc"
} // namespace pith

#endif // PITH_CONVERSION_PASSES_H
