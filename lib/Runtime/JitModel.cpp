//===- JitModel.cpp - Compile an ONNX model in process and run it ---------===//
//
// Lowers with the shared compilation path (Compilation.cpp), JIT-compiles
// with MLIR's ExecutionEngine, and calls `pith_graph_packed` with memref
// descriptors for inputs, weights (the imported blobs, not copied), outputs
// and the planned arena.
//
//===----------------------------------------------------------------------===//

#include "pith/Runtime/JitModel.h"

#include "pith/Kernels/CPUKernels.h"
#include "pith/Runtime/ArenaPool.h"
#include "pith/Runtime/Compilation.h"
#include "pith/Runtime/MemRefDescriptor.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

#include <chrono>
#include <functional>

using namespace mlir;
using namespace pith;

struct JitModel::Impl {
  std::unique_ptr<LoweredModel> lowered;
  std::unique_ptr<ArenaPool> arenas;
  std::unique_ptr<ExecutionEngine> engine;
  PackedEntry entry = nullptr;
};

JitModel::JitModel() : impl(std::make_unique<Impl>()) {}
JitModel::~JitModel() {
  if (impl->lowered)
    for (llvm::ArrayRef<char> data : impl->lowered->weightData)
      pith_kernel_forget_weights(data.begin(), data.end());
}

namespace {
llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(message.str());
}

TensorSpec specOf(const ModelMetadata::Value &value) {
  return {value.name, value.dataType, value.shape};
}

std::string shapeText(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "," : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return text + "]";
}
} // namespace

llvm::Expected<std::unique_ptr<JitModel>>
JitModel::compileFile(llvm::StringRef path,
                      const std::map<std::string, std::vector<int64_t>> &inputShapes) {
  auto start = std::chrono::steady_clock::now();
  return fromLowered(lowerONNXFileForCPU(path, inputShapes), path, start);
}

llvm::Expected<std::unique_ptr<JitModel>>
JitModel::compileBytes(llvm::StringRef bytes, llvm::StringRef displayName,
                       const std::map<std::string, std::vector<int64_t>> &inputShapes) {
  auto start = std::chrono::steady_clock::now();
  return fromLowered(lowerONNXBytesForCPU(bytes, displayName, inputShapes), displayName,
                     start);
}

llvm::Expected<std::unique_ptr<JitModel>>
JitModel::fromLowered(llvm::Expected<std::unique_ptr<LoweredModel>> lowered,
                      llvm::StringRef path, std::chrono::steady_clock::time_point start) {
  std::unique_ptr<JitModel> model(new JitModel());
  if (!lowered)
    return lowered.takeError();
  model->impl->lowered = std::move(*lowered);
  // The kernels may keep reordered copies of these (constant) weights.
  for (llvm::ArrayRef<char> data : model->impl->lowered->weightData)
    pith_kernel_register_weights(data.begin(), data.end());
  const ModelMetadata &meta = model->impl->lowered->metadata;
  for (const auto &value : meta.inputs)
    model->inputSpecs.push_back(specOf(value));
  for (const auto &value : meta.outputs)
    model->outputSpecs.push_back(specOf(value));
  model->arenaBytes = meta.arenaBytes;
  model->impl->arenas = std::make_unique<ArenaPool>(meta.arenaBytes);

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  // Optimize for this CPU: without a target machine LLVM's vectorizer does
  // not know the vector registers and leaves loops scalar.
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return error(path + ": " + llvm::toString(builder.takeError()));
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto machine = builder->createTargetMachine();
  if (!machine)
    return error(path + ": " + llvm::toString(machine.takeError()));
  ExecutionEngineOptions options;
  // ExecutionEngineOptions::transformer is a function_ref: the optimizer it
  // refers to must outlive ExecutionEngine::create (a temporary bound to it
  // left the JIT code unoptimized, several times slower than the same
  // module compiled ahead of time).
  std::function<llvm::Error(llvm::Module *)> optimize =
      makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0, machine->get());
  options.transformer = optimize;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // Resolve the kernels in their library by path, not among the process's
  // global symbols: a host that loaded Pith with RTLD_LOCAL (Python
  // extension modules) has none.
  auto kernels = kernelsLibraryPath();
  if (!kernels)
    return error(path + ": " + llvm::toString(kernels.takeError()));
  std::vector<llvm::StringRef> libraries = {*kernels};
  options.sharedLibPaths = libraries;
  auto engine = ExecutionEngine::create(*model->impl->lowered->module, options);
  if (!engine)
    return error(path + ": JIT compilation failed: " +
                 llvm::toString(engine.takeError()));
  model->impl->engine = std::move(*engine);
  auto entry = model->impl->engine->lookup(kEntrySymbol);
  if (!entry)
    return error(path + ": " + llvm::toString(entry.takeError()));
  model->impl->entry = reinterpret_cast<PackedEntry>(*entry);
  model->compileTime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::move(model);
}

llvm::Expected<std::vector<HostTensor>>
JitModel::run(const std::vector<HostTensor> &inputs) {
  return run(refsOf(inputs));
}

llvm::Expected<std::vector<HostTensor>>
JitModel::run(const std::vector<HostTensorRef> &inputs) {
  if (inputs.size() != inputSpecs.size())
    return error("the model takes " + llvm::Twine(inputSpecs.size()) +
                 " inputs, got " + llvm::Twine(inputs.size()));
  std::vector<std::vector<int64_t>> descriptors;
  for (auto [spec, input] : llvm::zip(inputSpecs, inputs)) {
    if (input.dataType != spec.dataType)
      return error("input '" + spec.name + "' must be " +
                   dataTypeName(spec.dataType) + ", got " +
                   dataTypeName(input.dataType));
    bool shapeOk = input.shape.size() == spec.shape.size();
    for (size_t d = 0; shapeOk && d < spec.shape.size(); ++d)
      shapeOk = spec.shape[d] < 0 || spec.shape[d] == input.shape[d];
    if (!shapeOk)
      return error("input '" + spec.name + "' must have shape " +
                   shapeText(spec.shape) + ", got " + shapeText(input.shape));
    int64_t elements = 1;
    for (int64_t size : input.shape)
      elements *= size;
    if (!input.data && elements > 0)
      return error("input '" + spec.name + "' has no data");
    if (input.bytes != elements * int64_t(byteWidthOf(input.dataType)))
      return error("input '" + spec.name + "' holds the wrong number of bytes");
    descriptors.push_back(makeDescriptor(input.data, input.shape));
  }
  const LoweredModel &lowered = *impl->lowered;
  for (auto [weight, data] : llvm::zip(lowered.metadata.weights, lowered.weightData))
    descriptors.push_back(makeDescriptor(data.data(), weight.shape));
  std::vector<HostTensor> outputs;
  std::vector<std::vector<int64_t>> outputShapes;
  std::vector<size_t> outputRanks;
  for (const TensorSpec &spec : outputSpecs) {
    outputShapes.push_back(spec.shape);
    outputRanks.push_back(spec.shape.size());
    HostTensor out;
    out.dataType = spec.dataType;
    out.shape = spec.shape;
    outputs.push_back(std::move(out));
  }
  bool returned = returnsOutputs(outputShapes);
  if (!returned)
    for (HostTensor &out : outputs) {
      out.data.resize(out.numElements() * byteWidthOf(out.dataType));
      descriptors.push_back(makeDescriptor(out.data.data(), out.shape));
    }
  // Each run has its own arena, so runs may proceed in parallel.
  void *arena = impl->arenas->acquire();
  descriptors.push_back(makeDescriptor(arena, {impl->arenas->size()}));

  ReturnedOutputs results(outputRanks);
  std::vector<void *> pointers;
  if (returned)
    pointers.push_back(results.slot());
  for (auto &desc : descriptors)
    pointers.push_back(desc.data());
  impl->entry(pointers.data());
  impl->arenas->release(arena);
  if (returned)
    for (auto [i, out] : llvm::enumerate(outputs)) {
      out.shape = results.shape(i);
      out.data.resize(out.numElements() * byteWidthOf(out.dataType));
      results.copyTo(i, out.data.data(), byteWidthOf(out.dataType));
    }
  return outputs;
}
