//===- RefineShapes.cpp - Static types for onnx values ---------------------===//

#include "pith/Transforms/Passes.h"

namespace pith {
#define GEN_PASS_DEF_REFINESHAPESPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {
struct RefineShapesPass : public pith::impl::RefineShapesPassBase<RefineShapesPass> {
  void runOnOperation() override {}
};
} // namespace
