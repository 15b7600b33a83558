//===- pith-opt.cpp - mlir-opt with Pith's dialects and passes ------------===//
//
// Runs passes on MLIR files; everything is registered through InitAll.h.
//
//===----------------------------------------------------------------------===//

#include "pith/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  pith::registerAllDialects(registry);
  pith::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Pith optimizer driver\n", registry));
}
