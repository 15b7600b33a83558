//===- SharedLibrary.cpp - Ahead-of-time output: library + weights --------===//
//
// The lowered module gets its metadata as a global string, is translated to
// LLVM IR, optimized and compiled for the host CPU into an object file, and
// linked into a shared library by the system C compiler (with libm, which
// the generated code calls for some math functions).
//
//===----------------------------------------------------------------------===//

#include "pith/Runtime/Compilation.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/ADT/ScopeExit.h"
#include <cstring>
#include <dlfcn.h>
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace pith;

// Any symbol of libpith_kernels.so, to find where it is (dladdr).
extern "C" void _mlir_ciface_pith_kernel_matmul_f32(void *, void *, void *);

static llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(message.str());
}

llvm::Expected<std::string> pith::kernelsLibraryPath() {
  Dl_info kernels;
  if (!dladdr(reinterpret_cast<void *>(&_mlir_ciface_pith_kernel_matmul_f32), &kernels) ||
      !kernels.dli_fname)
    return error("cannot locate libpith_kernels.so");
  return std::string(kernels.dli_fname);
}

llvm::Expected<std::string> pith::cudaRuntimeLibraryPath() {
  auto kernels = kernelsLibraryPath();
  if (!kernels)
    return kernels.takeError();
  llvm::SmallString<256> path(llvm::sys::path::parent_path(*kernels));
  llvm::sys::path::append(path, "libpith_cuda_runtime.so");
  if (!llvm::sys::fs::exists(path))
    return error("cannot find " + path + " (Pith's GPU runtime)");
  return std::string(path);
}

llvm::Error pith::writeWeightsFile(LoweredModel &model, llvm::StringRef path) {
  uint64_t hash = fnv1a(nullptr, 0);
  for (auto [weight, data] : llvm::zip(model.metadata.weights, model.weightData)) {
    hash = fnv1a(weight.name.data(), weight.name.size(), hash);
    hash = fnv1a(data.data(), data.size(), hash);
  }
  model.metadata.weightsHash = hash;
  uint64_t payload = kWeightsHeaderBytes;
  if (!model.metadata.weights.empty()) {
    const auto &last = model.metadata.weights.back();
    payload = last.offset + last.bytes;
  }
  return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    char header[kWeightsHeaderBytes] = {};
    std::memcpy(header, kWeightsMagic, sizeof(kWeightsMagic));
    std::memcpy(header + 8, &hash, sizeof(hash));
    std::memcpy(header + 16, &payload, sizeof(payload));
    os.write(header, sizeof(header));
    uint64_t at = kWeightsHeaderBytes;
    for (auto [weight, data] : llvm::zip(model.metadata.weights, model.weightData)) {
      os.write_zeros(weight.offset - at);
      os.write(data.data(), data.size());
      at = weight.offset + data.size();
    }
    return llvm::Error::success();
  });
}

llvm::Error pith::emitSharedLibrary(LoweredModel &model, llvm::StringRef path) {
  ModuleOp module = *model.module;
  MLIRContext *ctx = model.context.get();
  {
    // The metadata, NUL-terminated, as an exported constant.
    std::string text = model.metadata.serialize();
    text.push_back('\0');
    OpBuilder b(ctx);
    b.setInsertionPointToEnd(module.getBody());
    auto type = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), text.size());
    LLVM::GlobalOp::create(b, module.getLoc(), type, /*isConstant=*/true,
                           LLVM::Linkage::External, kMetadataSymbol,
                           b.getStringAttr(text));
  }

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getProcessTriple();
  std::string lookupError;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!target)
    return error("no LLVM target for " + triple + ": " + lookupError);
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      llvm::Triple(triple), llvm::sys::getHostCPUName(), "", targetOptions,
      llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return error(path + ": translation to LLVM IR failed");
  llvmModule->setTargetTriple(machine->getTargetTriple());
  llvmModule->setDataLayout(machine->createDataLayout());
  if (llvm::Error err = makeOptimizingTransformer(3, 0, machine.get())(llvmModule.get()))
    return err;

  llvm::SmallString<128> objectPath;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("pith", "o", objectPath))
    return error("cannot create a temporary object file: " + ec.message());
  llvm::scope_exit removeObject([&] { llvm::sys::fs::remove(objectPath); });
  {
    std::error_code ec;
    llvm::raw_fd_ostream object(objectPath, ec);
    if (ec)
      return error("cannot write " + objectPath + ": " + ec.message());
    llvm::legacy::PassManager passes;
    if (machine->addPassesToEmitFile(passes, object, nullptr,
                                     llvm::CodeGenFileType::ObjectFile))
      return error("the target cannot emit object files");
    passes.run(*llvmModule);
  }

  auto compiler = llvm::sys::findProgramByName("cc");
  if (!compiler)
    return error("no C compiler ('cc') to link the shared library");
  // Link to a temporary name, then rename: no partial library on failure.
  llvm::SmallString<256> temporary(path);
  temporary += ".tmp";
  // Generated code calls the kernels library (the GPU runtime for cuda):
  // link it where this process found it.
  auto kernels = model.metadata.target == "cuda" ? cudaRuntimeLibraryPath()
                                                 : kernelsLibraryPath();
  if (!kernels)
    return kernels.takeError();
  std::string kernelsPath = *kernels;
  std::string rpath = "-Wl,-rpath," + llvm::sys::path::parent_path(kernelsPath).str();
  // --no-as-needed: the kernels library also brings the OpenMP runtime the
  // generated parallel loops call, even into a model that calls no kernel.
  llvm::SmallVector<llvm::StringRef> args = {*compiler,   "-shared",
                                             "-o",        temporary,
                                             objectPath,  "-Wl,--no-as-needed",
                                             kernelsPath, "-Wl,--as-needed",
                                             rpath,       "-lm"};
  std::string linkError;
  int status = llvm::sys::ExecuteAndWait(*compiler, args, std::nullopt, {}, 0, 0,
                                         &linkError);
  if (status != 0) {
    llvm::sys::fs::remove(temporary);
    return error(path + ": linking the shared library failed" +
                 (linkError.empty() ? "" : ": " + linkError));
  }
  if (std::error_code ec = llvm::sys::fs::rename(temporary, path))
    return error(path + ": " + ec.message());
  return llvm::Error::success();
}
