//===- Passes.h - Training passes -------------------------------*- C++ -*-===//
//
// Passes that build training steps from inference models: reverse-mode
// differentiation and optimizer updates (pith-autodiff).
//
//===----------------------------------------------------------------------===//

#ifndef PITH_TRAINING_PASSES_H
#define PITH_TRAINING_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace pith {
#define GEN_PASS_DECL
#include "pith/Training/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "pith/Training/Passes.h.inc"
} // namespace pith

#endif // PITH_TRAINING_PASSES_H
