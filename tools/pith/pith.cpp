//===- pith.cpp - The Pith driver -----------------------------------------===//
//
//   pith inspect MODEL.onnx     what a model contains: opsets, interface,
//                               operators, parameters
//
// One subcommand per job an ML engineer runs on a model file; each is a thin
// layer over the library.
//
//===----------------------------------------------------------------------===//

#include "pith/Analysis/ModelSummary.h"
#include "pith/Import/ONNXImporter.h"
#include "pith/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

namespace {
const char *kUsage = "usage: pith <command> [args]\n"
                     "commands:\n"
                     "  inspect MODEL.onnx   print opsets, inputs/outputs, "
                     "operators and parameters\n";

int fail(const llvm::Twine &message) {
  llvm::errs() << "pith: error: " << message << "\n";
  return 1;
}

int inspect(llvm::ArrayRef<const char *> args) {
  if (args.size() != 1)
    return fail("usage: pith inspect MODEL.onnx");
  mlir::DialectRegistry registry;
  pith::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  auto module = pith::importONNXFile(args[0], &context);
  if (!module)
    return fail(llvm::toString(module.takeError()));
  llvm::outs() << "model:        " << args[0] << "\n";
  pith::printModelSummary(pith::summarizeModel(**module), llvm::outs());
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  if (argc < 2 || llvm::StringRef(argv[1]) == "--help" ||
      llvm::StringRef(argv[1]) == "-h") {
    llvm::outs() << kUsage;
    return argc < 2 ? 1 : 0;
  }
  llvm::StringRef command = argv[1];
  llvm::ArrayRef<const char *> args(argv + 2, argv + argc);
  if (command == "inspect")
    return inspect(args);
  llvm::errs() << kUsage;
  return fail("unknown command '" + command + "'");
}
