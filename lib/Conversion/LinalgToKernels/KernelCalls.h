//===- KernelCalls.h - Building calls to Pith's CPU kernels -----*- C++ -*-===//
//
// What the passes that replace bufferized linalg ops by kernel calls share:
// which buffers the kernels take, and how a call and its declaration are
// made.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_CONVERSION_LINALGTOKERNELS_KERNELCALLS_H
#define PITH_LIB_CONVERSION_LINALGTOKERNELS_KERNELCALLS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinOps.h"

namespace pith::kernels {

/// f32 with the identity layout: what the kernels take.
bool isPlainF32(mlir::Value value);

/// The memref cast to all-dynamic sizes, so one kernel declaration serves
/// every shape.
mlir::Value toDynamic(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value);

/// The 2-D memref cast to dynamic sizes, offset and strides (what the
/// strided kernels take: transposed views and tiles).
mlir::Value toStrided(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value);

/// Declares `name(args...)` with a C interface, once per module.
mlir::func::FuncOp kernelDecl(mlir::ModuleOp module, llvm::StringRef name,
                              mlir::TypeRange args);

/// Whether a matmul reads its B operand transposed: A[m,k] * B[n,k].
bool readsTransposedRhs(mlir::linalg::MatmulOp op);

/// A matmul's B operand as the kernels read it: B itself, or a transposed
/// view of B when the matmul reads it transposed.
mlir::Value rhsAsRead(mlir::OpBuilder &b, mlir::linalg::MatmulOp op);

} // namespace pith::kernels

#endif // PITH_LIB_CONVERSION_LINALGTOKERNELS_KERNELCALLS_H
