//===- Passes.h - Pith's conversion passes ----------------------*- C++ -*-===//

#ifndef PITH_CONVERSION_PASSES_H
#define PITH_CONVERSION_PASSES_H

#include "mlir/Pass/Pass.h"

namespace pith {
#define GEN_PASS_DECL
#include "pith/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "pith/Conversion/Passes.h.inc"
} // namespace pith

#endif // PITH_CONVERSION_PASSES_H
