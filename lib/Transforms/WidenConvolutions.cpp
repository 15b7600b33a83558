//===- WidenConvolutions.cpp - fp16/bf16 convolutions computed in f32 -----===//
//
// The CPU's convolution kernels (oneDNN 2.6 on this hardware) take f32;
// a 16-bit convolution would otherwise become loops summing in 16 bits.
// Widening keeps the model's numbers as pith-mixed-precision promised:
// 16-bit operands and result, f32 products and sums.
//
//===----------------------------------------------------------------------===//

#include "pith/Transforms/Passes.h"

#include "ONNX/ONNXOps.h"
#include "ONNX/ONNXSchema.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace pith {
#define GEN_PASS_DEF_WIDENCONVOLUTIONSPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {

bool isHalfWidth(Type type) {
  auto tensor = dyn_cast<TensorType>(type);
  return tensor && (tensor.getElementType().isF16() || tensor.getElementType().isBF16());
}

/// An onnx.Cast of `value` to `element` (ONNX's `to` code `onnxType`).
Value castTo(OpBuilder &b, Location loc, ModuleOp module, Value value, Type element,
             int64_t onnxType) {
  return pith::ONNX::createOp(b, loc, module, "Cast", value,
                              cast<TensorType>(value.getType()).clone(element),
                              b.getNamedAttr("to", b.getI64IntegerAttr(onnxType)));
}

struct WidenConvolutionsPass
    : public pith::impl::WidenConvolutionsPassBase<WidenConvolutionsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Operation *> convolutions;
    module.walk([&](Operation *op) {
      const auto *schema = pith::ONNX::lookupSchemaByOpName(op->getName().getStringRef());
      if (schema && (StringRef(schema->opType) == "Conv" ||
                     StringRef(schema->opType) == "ConvTranspose") &&
          op->getNumResults() == 1 && isHalfWidth(op->getResult(0).getType()))
        convolutions.push_back(op);
    });
    if (convolutions.empty())
      return;
    for (Operation *op : convolutions) {
      OpBuilder b(op);
      Location loc = op->getLoc();
      Type f32 = b.getF32Type();
      auto resultType = cast_if_present<TensorType>(op->getResult(0).getType());
      int64_t lowCode = resultType.getElementType().isF16() ? 10 : 16;
      for (OpOperand &operand : op->getOpOperands())
        if (isHalfWidth(operand.get().getType()))
          operand.set(castTo(b, loc, module, operand.get(), f32, 1));
      b.setInsertionPointAfter(op);
      op->getResult(0).setType(resultType.clone(f32));
      Value narrowed = castTo(b, loc, module, op->getResult(0), resultType.getElementType(),
                              lowCode);
      op->getResult(0).replaceAllUsesExcept(narrowed, narrowed.getDefiningOp());
    }
  }
};

} // namespace
