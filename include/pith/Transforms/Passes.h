//===- Passes.h - Pith's transformation passes ------------------*- C++ -*-===//

#ifndef PITH_TRANSFORMS_PASSES_H
#define PITH_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace pith {
/// Rewrites every pith op and attribute of `module` as standard onnx ops
/// (what pith-expand-to-onnx runs; export and the CPU pipeline call it).
mlir::LogicalResult expandToONNX(mlir::ModuleOp module);

/// Makes every float initializer a pith.parameter read through pith.use
/// (what pith-lift-parameters runs; weight transforms call it first).
void liftParameters(mlir::ModuleOp module);

/// Whether `module` holds pith ops or attributes.
bool containsPithIR(mlir::ModuleOp module);

#define GEN_PASS_DECL
#include "pith/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

#endif // PITH_TRANSFORMS_PASSES_H
