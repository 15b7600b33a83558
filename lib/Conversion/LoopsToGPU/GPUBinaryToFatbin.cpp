//===- GPUBinaryToFatbin.cpp - PTX to cubins for several chips, one fatbin ===//
//
// MLIR's NVVM target compiles a module's PTX to a cubin for one chip. A
// model library should run on every GPU Pith supports, so the PTX (made for
// the lowest chip) is assembled by ptxas once per chip and packed with
// `fatbinary`, together with the PTX itself, which the driver JIT-compiles
// on chips newer than all of them.
//
//===----------------------------------------------------------------------===//

#include "pith/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

namespace pith {
#define GEN_PASS_DEF_GPUBINARYTOFATBINPASS
#include "pith/Conversion/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {

/// "sm_90" -> "90".
std::optional<StringRef> smNumber(StringRef chip) {
  if (!chip.consume_front("sm_") || chip.empty() ||
      !llvm::all_of(chip, [](char c) { return llvm::isDigit(c) || c == 'a'; }))
    return std::nullopt;
  return chip;
}

struct GPUBinaryToFatbinPass
    : public pith::impl::GPUBinaryToFatbinPassBase<GPUBinaryToFatbinPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<std::string> targets(chips.begin(), chips.end());
    if (targets.empty())
      targets = {"sm_80", "sm_90"};
    for (const std::string &chip : targets)
      if (!smNumber(chip)) {
        getOperation().emitError("pith-gpu-binary-to-fatbin: bad chip '") << chip << "'";
        return signalPassFailure();
      }
    std::string root = toolkit;
    if (root.empty())
      root = llvm::sys::Process::GetEnv("CUDA_PATH").value_or("/usr/local/cuda");
    auto tool = [&](StringRef name) -> std::string {
      llvm::SmallString<128> path(root);
      llvm::sys::path::append(path, "bin", name);
      return std::string(path);
    };
    WalkResult result = getOperation().walk([&](gpu::BinaryOp binary) {
      if (failed(convert(binary, targets, tool("ptxas"), tool("fatbinary"))))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult run(Operation *anchor, StringRef program, ArrayRef<std::string> args) {
    SmallVector<StringRef> argv = {program};
    for (const std::string &arg : args)
      argv.push_back(arg);
    std::string message;
    // The tools' own messages (ptxas errors) go to our stderr.
    int status = llvm::sys::ExecuteAndWait(program, argv, std::nullopt, {}, 0, 0, &message);
    if (status == 0)
      return success();
    return anchor->emitError("GPU code generation: ")
           << llvm::sys::path::filename(program) << " failed"
           << (message.empty() ? "" : ": " + message) << " (is the CUDA toolkit at "
           << llvm::sys::path::parent_path(llvm::sys::path::parent_path(program)) << "?)";
  }

  LogicalResult convert(gpu::BinaryOp binary, ArrayRef<std::string> targets,
                        const std::string &ptxas, const std::string &fatbinary) {
    auto objects = binary.getObjects();
    if (objects.size() != 1)
      return binary.emitError("expected one PTX object per GPU binary");
    auto object = cast<gpu::ObjectAttr>(objects[0]);
    if (object.getFormat() != gpu::CompilationTarget::Assembly)
      return binary.emitError("expected PTX (format isa) to pack into a fatbin");
    StringRef ptx = object.getObject().getValue();
    // The PTX's own target: the lowest chip it runs on.
    StringRef ptxChip = "sm_80";
    if (size_t at = ptx.find(".target "); at != StringRef::npos)
      ptxChip = ptx.substr(at + 8).take_while([](char c) { return !isspace(c) && c != ','; });

    llvm::SmallString<128> directory;
    if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("pith-gpu", directory))
      return binary.emitError("cannot create a temporary directory: ") << ec.message();
    auto removeDirectory = llvm::scope_exit([&] { llvm::sys::fs::remove_directories(directory); });
    auto file = [&](const Twine &name) {
      llvm::SmallString<128> path(directory);
      llvm::sys::path::append(path, name);
      return std::string(path);
    };
    std::string ptxPath = file("kernels.ptx"), fatbinPath = file("kernels.fatbin");
    {
      std::error_code ec;
      llvm::raw_fd_ostream os(ptxPath, ec);
      if (ec)
        return binary.emitError("cannot write ") << ptxPath << ": " << ec.message();
      os << ptx;
    }
    SmallVector<std::string> pack = {"-64", "--create", fatbinPath};
    for (const std::string &chip : targets) {
      std::string cubin = file(chip + ".cubin");
      if (failed(run(binary, ptxas, {"-arch=" + chip, "-O3", ptxPath, "-o", cubin})))
        return failure();
      pack.push_back(("--image3=kind=elf,sm=" + *smNumber(chip) + ",file=" + cubin).str());
    }
    if (auto number = smNumber(ptxChip))
      pack.push_back(("--image3=kind=ptx,sm=" + *number + ",file=" + ptxPath).str());
    if (failed(run(binary, fatbinary, pack)))
      return failure();
    auto bytes = llvm::MemoryBuffer::getFile(fatbinPath);
    if (!bytes)
      return binary.emitError("cannot read ") << fatbinPath;
    MLIRContext *ctx = binary.getContext();
    auto fatbin = gpu::ObjectAttr::get(ctx, object.getTarget(), gpu::CompilationTarget::Fatbin,
                                       StringAttr::get(ctx, (*bytes)->getBuffer()),
                                       object.getProperties(), object.getKernels());
    binary.setObjectsAttr(ArrayAttr::get(ctx, {fatbin}));
    return success();
  }
};

} // namespace
