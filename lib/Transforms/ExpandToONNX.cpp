//===- ExpandToONNX.cpp - pith ops as standard onnx ops -------------------===//
//
// The one place that says what each pith op means in standard ONNX, used
// by the CPU pipeline and by ONNX export alike:
//
//  - a parameter becomes one onnx.Initializer per graph function that uses
//    it, named after the parameter: however many layers share it, the model
//    stores it once and the runtime loads it once;
//  - pith.factored_linear becomes MatMul(MatMul(x, U), V) (+ Add bias): the
//    full weight is never formed, the intermediate has the rank's width;
//  - pith.checkpoint is the identity;
//  - pith.precision marks are dropped (the op computes in its type).
//
//===----------------------------------------------------------------------===//

#include "pith/Transforms/Passes.h"

#include "ONNX/ONNXOps.h"
#include "Pith/PithDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace pith {
#define GEN_PASS_DEF_EXPANDTOONNXPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;
using namespace pith::dialect;

namespace {

/// An onnx op of `type` built generically (the onnx ops have no
/// hand-written builders).
Value onnxOp(OpBuilder &b, Location loc, StringRef type, ValueRange operands,
             Type result) {
  OperationState state(loc, ("onnx." + type).str());
  state.addOperands(operands);
  state.addTypes(result);
  return b.create(state)->getResult(0);
}

/// x . U (+ . V): the type of multiplying `input` by a matrix with
/// `columns` columns (unranked if `input` is).
TensorType timesMatrix(Value input, int64_t columns) {
  auto type = dyn_cast<RankedTensorType>(input.getType());
  if (!type)
    return cast<TensorType>(input.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = columns;
  return RankedTensorType::get(shape, type.getElementType());
}

void expandFactoredLinear(FactoredLinearOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto right = cast<RankedTensorType>(op.getRight().getType());
  auto left = cast<RankedTensorType>(op.getLeft().getType());
  Value reduced = onnxOp(b, loc, "MatMul", {op.getInput(), op.getLeft()},
                         timesMatrix(op.getInput(), left.getDimSize(1)));
  Value result = onnxOp(b, loc, "MatMul", {reduced, op.getRight()},
                        op.getBias() ? Type(timesMatrix(reduced, right.getDimSize(1)))
                                     : op.getType());
  if (Value bias = op.getBias())
    result = onnxOp(b, loc, "Add", {result, bias}, op.getType());
  op.replaceAllUsesWith(result);
  op.erase();
}

} // namespace

LogicalResult pith::expandToONNX(ModuleOp module) {
  SymbolTable symbols(module);
  // Parameters: one initializer per graph function and parameter.
  for (auto func : module.getOps<func::FuncOp>()) {
    llvm::DenseMap<StringAttr, Value> initializers;
    Block &entry = func.getBody().front();
    // Initializers go first in the graph, in the order they are first used.
    OpBuilder b(func.getContext());
    Operation *lastInitializer = nullptr;
    WalkResult walk = func.walk([&](UseOp use) {
      auto parameter = symbols.lookup<ParameterOp>(use.getParameter());
      if (!parameter) {
        use.emitOpError("names no pith.parameter '") << use.getParameter() << "'";
        return WalkResult::interrupt();
      }
      Value &initializer = initializers[parameter.getSymNameAttr()];
      if (!initializer) {
        if (lastInitializer)
          b.setInsertionPointAfter(lastInitializer);
        else
          b.setInsertionPointToStart(&entry);
        initializer = ONNX::InitializerOp::create(b, parameter.getLoc(), parameter.getType(),
                                                  parameter.getSymName(), parameter.getValue());
        lastInitializer = initializer.getDefiningOp();
      }
      use.replaceAllUsesWith(initializer);
      use.erase();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
  }
  for (auto parameter : llvm::make_early_inc_range(module.getOps<ParameterOp>()))
    parameter.erase();
  module.walk([](FactoredLinearOp op) { expandFactoredLinear(op); });
  module.walk([](CheckpointOp op) {
    op.replaceAllUsesWith(op.getInput());
    op.erase();
  });
  module.walk([](Operation *op) { op->removeAttr(kPrecisionAttrName); });
  return success();
}

bool pith::containsPithIR(ModuleOp module) {
  bool found = false;
  module.walk([&](Operation *op) {
    found |= isa<PithDialect>(op->getDialect()) || op->hasAttr(kPrecisionAttrName);
    return found ? WalkResult::interrupt() : WalkResult::advance();
  });
  return found;
}

namespace {
struct ExpandToONNXPass : public pith::impl::ExpandToONNXPassBase<ExpandToONNXPass> {
  void runOnOperation() override {
    if (failed(pith::expandToONNX(getOperation())))
      signalPassFailure();
  }
};
} // namespace
