//===- LinalgToKernels.cpp - Matmuls and convolutions as kernel calls -----===//
//
// The heavy contractions go to tuned library kernels (lib/Kernels) rather
// than generated loops; the kernels' C interface takes memref descriptors,
// so the calls pass the buffers as they are, cast to dynamic shapes.
//
//===----------------------------------------------------------------------===//

#include "pith/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

namespace pith {
#define GEN_PASS_DEF_LINALGTOKERNELCALLSPASS
#include "pith/Conversion/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {

/// f32, identity layout: what the kernels take.
bool isPlainF32(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getElementType().isF32() && type.getLayout().isIdentity();
}

/// The memref cast to all-dynamic sizes, so one kernel declaration serves
/// every shape.
Value toDynamic(OpBuilder &b, Location loc, Value value) {
  auto type = cast<MemRefType>(value.getType());
  SmallVector<int64_t> shape(type.getRank(), ShapedType::kDynamic);
  return memref::CastOp::create(b, loc, MemRefType::get(shape, type.getElementType()),
                                value);
}

/// Declares `name(args...)` with a C interface, once per module.
func::FuncOp kernelDecl(ModuleOp module, StringRef name, TypeRange args) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder b(module.getBodyRegion());
  auto decl = func::FuncOp::create(b, module.getLoc(), name,
                                   b.getFunctionType(args, {}));
  decl.setPrivate();
  decl->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(), b.getUnitAttr());
  return decl;
}

/// Replaces `op` by a call to `name` with its operands (cast to dynamic
/// shapes) followed by integer parameters.
void replaceWithCall(ModuleOp module, Operation *op, StringRef name,
                     ArrayRef<int64_t> parameters) {
  OpBuilder b(op);
  Location loc = op->getLoc();
  SmallVector<Value> args;
  for (Value operand : op->getOperands())
    args.push_back(toDynamic(b, loc, operand));
  for (int64_t parameter : parameters)
    args.push_back(arith::ConstantIntOp::create(b, loc, parameter, 64));
  func::FuncOp decl = kernelDecl(module, name, ValueRange(args).getTypes());
  func::CallOp::create(b, loc, decl, args);
  op->erase();
}

bool allPlainF32(Operation *op) {
  return llvm::all_of(op->getOperands(), isPlainF32);
}

struct LinalgToKernelCallsPass
    : public pith::impl::LinalgToKernelCallsPassBase<LinalgToKernelCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Operation *> matmuls, batchMatmuls, convs, depthwise;
    module.walk([&](Operation *op) {
      auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
      if (!linalgOp || !linalgOp.hasPureBufferSemantics() || !allPlainF32(op))
        return;
      if (auto matmul = dyn_cast<linalg::MatmulOp>(op)) {
        if (!matmul.hasUserDefinedMaps())
          matmuls.push_back(op);
      } else if (auto batch = dyn_cast<linalg::BatchMatmulOp>(op)) {
        if (!batch.hasUserDefinedMaps())
          batchMatmuls.push_back(op);
      } else if (isa<linalg::Conv2DNchwFchwOp>(op)) {
        convs.push_back(op);
      } else if (isa<linalg::DepthwiseConv2DNchwChwOp>(op)) {
        depthwise.push_back(op);
      }
    });
    // Pattern: linalg.matmul(A, B) -> C  ==>  call @pith_kernel_matmul_f32(A, B, C)
    for (Operation *op : matmuls)
      replaceWithCall(module, op, "pith_kernel_matmul_f32", {});
    // Pattern: linalg.batch_matmul ==> call @pith_kernel_batch_matmul_f32
    for (Operation *op : batchMatmuls)
      replaceWithCall(module, op, "pith_kernel_batch_matmul_f32", {});
    // Pattern: linalg.conv_2d_nchw_fchw{strides, dilations}(X, W) -> Y
    //          ==> call @pith_kernel_conv2d_nchw_f32(X, W, Y, sh, sw, dh, dw)
    for (Operation *op : convs) {
      auto conv = cast<linalg::Conv2DNchwFchwOp>(op);
      SmallVector<int64_t> parameters;
      for (int64_t s : conv.getStrides().getValues<int64_t>())
        parameters.push_back(s);
      for (int64_t d : conv.getDilations().getValues<int64_t>())
        parameters.push_back(d);
      replaceWithCall(module, op, "pith_kernel_conv2d_nchw_f32", parameters);
    }
    // Pattern: linalg.depthwise_conv_2d_nchw_chw{strides, dilations}(X, W) -> Y
    //          ==> call @pith_kernel_depthwise_conv2d_nchw_f32(X, W, Y, sh, sw, dh, dw)
    for (Operation *op : depthwise) {
      auto conv = cast<linalg::DepthwiseConv2DNchwChwOp>(op);
      SmallVector<int64_t> parameters;
      for (int64_t s : conv.getStrides().getValues<int64_t>())
        parameters.push_back(s);
      for (int64_t d : conv.getDilations().getValues<int64_t>())
        parameters.push_back(d);
      replaceWithCall(module, op, "pith_kernel_depthwise_conv2d_nchw_f32", parameters);
    }
  }
};
} // namespace
