//===- KernelCalls.cpp - Building calls to Pith's CPU kernels -------------===//

#include "KernelCalls.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

namespace pith::kernels {

bool isPlainF32(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.getElementType().isF32() && type.getLayout().isIdentity();
}

Value toDynamic(OpBuilder &b, Location loc, Value value) {
  auto type = cast<MemRefType>(value.getType());
  SmallVector<int64_t> shape(type.getRank(), ShapedType::kDynamic);
  return memref::CastOp::create(b, loc, MemRefType::get(shape, type.getElementType()),
                                value);
}

Value toStrided(OpBuilder &b, Location loc, Value value) {
  auto strided = MemRefType::get(
      {ShapedType::kDynamic, ShapedType::kDynamic}, cast<MemRefType>(value.getType()).getElementType(),
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                             {ShapedType::kDynamic, ShapedType::kDynamic}));
  return memref::CastOp::create(b, loc, strided, value);
}

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

bool readsTransposedRhs(linalg::MatmulOp op) {
  MLIRContext *ctx = op.getContext();
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  SmallVector<AffineMap> want{AffineMap::get(3, 0, {m, k}, ctx), AffineMap::get(3, 0, {n, k}, ctx),
                              AffineMap::get(3, 0, {m, n}, ctx)};
  return op.getIndexingMapsArray() == want;
}

Value rhsAsRead(OpBuilder &b, linalg::MatmulOp op) {
  Value rhs = op.getDpsInputs()[1];
  if (!readsTransposedRhs(op))
    return rhs;
  return memref::TransposeOp::create(
      b, op.getLoc(), rhs,
      AffineMapAttr::get(AffineMap::getPermutationMap(ArrayRef<unsigned>{1, 0},
                                                      b.getContext())));
}

} // namespace pith::kernels
