//===- Passes.h - Pith's transformation passes ------------------*- C++ -*-===//

#ifndef PITH_TRANSFORMS_PASSES_H
#define PITH_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace pith {
#define GEN_PASS_DECL
#include "pith/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

#endif // PITH_TRANSFORMS_PASSES_H
