//===- pith-translate.cpp - ONNX <-> MLIR ---------------------------------===//
//
//   pith-translate --import-onnx model.onnx [-o model.mlir] [--emit-bytecode]
//   pith-translate --export-onnx model.mlir -o model.onnx [--onnx-text]
//
// Errors are one line naming the file (and node); output files appear only
// when complete.
//
//===----------------------------------------------------------------------===//

#include "pith/Export/ONNXExporter.h"
#include "pith/Import/ONNXImporter.h"
#include "pith/InitAll.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace {
enum class Direction { None, Import, Export };

cl::opt<Direction> direction(
    cl::desc("Translation:"), cl::init(Direction::None),
    cl::values(clEnumValN(Direction::Import, "import-onnx",
                          "ONNX (binary, or text if *.onnxtxt) -> MLIR"),
               clEnumValN(Direction::Export, "export-onnx",
                          "MLIR (text or bytecode) -> ONNX")));
cl::opt<std::string> inputPath(cl::Positional, cl::desc("<input>"),
                               cl::init("-"));
cl::opt<std::string> outputPath("o", cl::desc("Output file"),
                                cl::value_desc("path"), cl::init("-"));
cl::opt<bool> emitBytecode("emit-bytecode",
                           cl::desc("Write MLIR bytecode instead of text"));
cl::opt<bool> onnxText("onnx-text",
                       cl::desc("Write ONNX text format instead of binary"));
cl::opt<std::string> externalData(
    "external-data",
    cl::desc("Store large initializers in this file next to the model"),
    cl::value_desc("file name"));
cl::opt<int64_t> externalDataThreshold(
    "external-data-threshold",
    cl::desc("Initializers of at least this many bytes go to external data"),
    cl::init(1024));
cl::opt<bool> sparseInitializers(
    "sparse-initializers",
    cl::desc("Write float initializers with fewer than a third of their elements nonzero "
             "as ONNX sparse initializers"));
cl::opt<bool> noShapeInference(
    "no-shape-inference",
    cl::desc("Do not run ONNX shape inference to type intermediate values"));

int fail(const Twine &message) {
  errs() << "pith-translate: error: " << message << "\n";
  return 1;
}

int importModel(mlir::MLIRContext &context) {
  pith::ImportOptions options;
  options.inferShapes = !noShapeInference;
  auto module = pith::importONNXFile(inputPath, &context, options);
  if (!module)
    return fail(toString(module.takeError()));
  // Written to a temporary file and renamed: no partial output on failure.
  Error written = writeToOutput(outputPath, [&](raw_ostream &os) -> Error {
    if (emitBytecode) {
      if (failed(mlir::writeBytecodeToFile(**module, os)))
        return createStringError(outputPath + ": cannot write bytecode");
      return Error::success();
    }
    (*module)->print(os, mlir::OpPrintingFlags());
    os << "\n";
    return Error::success();
  });
  if (written)
    return fail(toString(std::move(written)));
  return 0;
}

int exportModel(mlir::MLIRContext &context) {
  std::string message;
  auto input = mlir::openInputFile(inputPath, &message);
  if (!input)
    return fail(message);
  // A shared source manager lets bytecode resources point into the mapped
  // input file instead of being copied.
  auto sourceMgr = std::make_shared<SourceMgr>();
  sourceMgr->AddNewSourceBuffer(std::move(input), SMLoc());
  mlir::SourceMgrDiagnosticHandler handler(*sourceMgr, &context);
  mlir::ParserConfig config(&context);
  auto module = mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, config);
  if (!module)
    return 1;
  pith::ExportOptions options;
  options.textFormat = onnxText;
  options.externalDataFile = externalData;
  options.externalDataThreshold = externalDataThreshold;
  options.sparseInitializers = sparseInitializers;
  if (Error err = pith::exportONNXFile(*module, outputPath, options))
    return fail(toString(std::move(err)));
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  cl::ParseCommandLineOptions(argc, argv, "Pith ONNX <-> MLIR translator\n");
  mlir::DialectRegistry registry;
  pith::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  switch (direction) {
  case Direction::Import:
    return importModel(context);
  case Direction::Export:
    return exportModel(context);
  case Direction::None:
    break;
  }
  return fail("choose --import-onnx or --export-onnx");
}
