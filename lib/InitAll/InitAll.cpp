//===- InitAll.cpp - Register every Pith dialect and pass -----------------===//
//
// Only the dialects Pith uses are registered (not mlir/InitAllDialects.h),
// which keeps builds and tool start-up fast.
//
//===----------------------------------------------------------------------===//

#include "pith/InitAll.h"

#include "ONNX/ONNXDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"

void pith::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<pith::ONNX::ONNXDialect, mlir::func::FuncDialect>();
}

void pith::registerAllPasses() {
  // Pith's own passes register here as they are added.
}
