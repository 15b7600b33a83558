//===- LiftParameters.cpp - Float initializers as pith parameters ---------===//

#include "pith/Transforms/Passes.h"

#include "ONNX/ONNXOps.h"
#include "Pith/PithDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace pith {
#define GEN_PASS_DEF_LIFTPARAMETERSPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;

void pith::liftParameters(ModuleOp module) {
  SymbolTable symbols(module);
    SmallVector<pith::ONNX::InitializerOp> initializers;
    module.walk([&](pith::ONNX::InitializerOp op) {
      if (isa<FloatType>(op.getType().getElementType()))
        initializers.push_back(op);
    });
    OpBuilder atEnd(module.getBodyRegion());
    for (pith::ONNX::InitializerOp init : initializers) {
      auto parameter = pith::dialect::ParameterOp::create(
          atEnd, init.getLoc(), atEnd.getStringAttr(init.getName()), TypeAttr::get(init.getType()),
          init.getValue(), atEnd.getStrArrayAttr({init.getName()}),
          pith::dialect::SparsityAttr());
      // Initializer names are unique per graph, not across subgraphs: the
      // symbol table renames a clash.
      symbols.insert(parameter);
      OpBuilder b(init);
      auto use = pith::dialect::UseOp::create(b, init.getLoc(), init.getType(),
                                              FlatSymbolRefAttr::get(parameter.getSymNameAttr()));
      init.getResult().replaceAllUsesWith(use.getResult());
      init.erase();
    }
}

namespace {
struct LiftParametersPass
    : public pith::impl::LiftParametersPassBase<LiftParametersPass> {
  void runOnOperation() override { pith::liftParameters(getOperation()); }
};
} // namespace
