//===- StridedCopiesToLinalg.cpp - Strided copies as loops, not calls -----===//
//
// memref.copy between buffers that are not both contiguous lowers to a call
// of the C runner utilities' memrefCopy, an element-at-a-time walk through
// the strides: on MobileNetV2 the copies into padded buffers cost more than
// the convolutions. As linalg.copy they become ordinary loops.
//
//===----------------------------------------------------------------------===//

#include "pith/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace pith {
#define GEN_PASS_DEF_STRIDEDCOPIESTOLINALGPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {
bool isContiguous(Value value) {
  auto type = cast<BaseMemRefType>(value.getType());
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref.getLayout().isIdentity();
}

struct StridedCopiesToLinalgPass
    : public pith::impl::StridedCopiesToLinalgPassBase<StridedCopiesToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    getOperation().walk([&](memref::CopyOp copy) {
      Value source = copy.getSource(), target = copy.getTarget();
      if ((!allCopies && isContiguous(source) && isContiguous(target)) ||
          !isa<MemRefType>(source.getType()) || !isa<MemRefType>(target.getType()))
        return;
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), source, target);
      copy.erase();
    });
  }
};
} // namespace
