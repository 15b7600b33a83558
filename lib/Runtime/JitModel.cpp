//===- JitModel.cpp - Compile an ONNX model in process and run it ---------===//
//
// The compiled graph function takes memref descriptors for (inputs...,
// weights..., outputs...) through its C interface; this file builds them
// around host buffers and the imported weight blobs.
//
//===----------------------------------------------------------------------===//

#include "pith/Runtime/JitModel.h"

#include "ONNX/ONNXOps.h"
#include "pith/Conversion/Passes.h"
#include "pith/Import/ONNXImporter.h"
#include "pith/InitAll.h"
#include "pith/Pipelines/Pipelines.h"
#include "pith/Proto/ONNXProto.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/Support/TargetSelect.h"

#include <chrono>

using namespace mlir;
using namespace pith;

struct JitModel::Impl {
  std::unique_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<ExecutionEngine> engine;
  std::string entry;
  /// Weight data in argument order; points into the context's blobs or
  /// into `ownedWeights`.
  std::vector<ArrayRef<char>> weights;
  std::vector<std::vector<int64_t>> weightShapes;
  std::vector<std::vector<char>> ownedWeights;
  /// The planned intermediates' memory, allocated once (64 bytes of slack to
  /// align it).
  std::vector<char> arena;
};

JitModel::JitModel() : impl(std::make_unique<Impl>()) {}
JitModel::~JitModel() = default;

namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(message.str());
}

/// "node 'conv1'" from a NameLoc, "" otherwise.
std::string nodeOf(Location loc) {
  if (auto named = dyn_cast<NameLoc>(loc))
    return "node '" + named.getName().str() + "': ";
  return "";
}

/// Runs `pm` and turns the first diagnostic into a one-line error.
llvm::Error runPasses(PassManager &pm, ModuleOp module, llvm::StringRef path) {
  std::string message;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diag) {
    if (message.empty() && diag.getSeverity() == DiagnosticSeverity::Error)
      message = nodeOf(diag.getLocation()) + diag.str();
    return success();
  });
  if (succeeded(pm.run(module)))
    return llvm::Error::success();
  return error(path + ": " + (message.empty() ? "code generation failed" : message));
}

TensorSpec specOf(llvm::StringRef name, Type type) {
  TensorSpec spec;
  spec.name = name.str();
  if (auto shaped = dyn_cast<ShapedType>(type)) {
    spec.dataType = proto::elementTypeToONNX(shaped.getElementType()).value_or(0);
    if (shaped.hasRank())
      for (int64_t d : shaped.getShape())
        spec.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  }
  return spec;
}

/// A strided memref descriptor {allocated, aligned, offset, sizes, strides}
/// for a dense row-major buffer.
std::vector<int64_t> descriptor(const void *data, llvm::ArrayRef<int64_t> shape) {
  std::vector<int64_t> desc(3 + 2 * shape.size());
  desc[0] = desc[1] = reinterpret_cast<int64_t>(data);
  desc[2] = 0;
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    desc[3 + i] = shape[i];
    desc[3 + shape.size() + i] = stride;
    stride *= shape[i];
  }
  return desc;
}

std::string shapeText(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "," : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return text + "]";
}
} // namespace

llvm::Expected<std::unique_ptr<JitModel>>
JitModel::compileFile(llvm::StringRef path) {
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<JitModel> model(new JitModel());
  Impl &impl = *model->impl;

  DialectRegistry registry;
  registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  impl.context = std::make_unique<MLIRContext>(registry);
  impl.context->loadAllAvailableDialects();

  auto imported = importONNXFile(path, impl.context.get());
  if (!imported)
    return imported.takeError();
  impl.module = std::move(*imported);
  auto funcs = llvm::to_vector(impl.module->getOps<func::FuncOp>());
  if (funcs.size() != 1)
    return error(path + ": expected one graph");
  func::FuncOp func = funcs.front();
  impl.entry = func.getSymName().str();
  func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                UnitAttr::get(impl.context.get()));

  // Interface and weights, before lowering erases the onnx-level names.
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    auto name = func.getArgAttrOfType<StringAttr>(i, ONNX::attrs::kName);
    model->inputSpecs.push_back(specOf(name ? name.getValue() : "", type));
  }
  for (auto [i, type] : llvm::enumerate(func.getResultTypes())) {
    auto name = func.getResultAttrOfType<StringAttr>(i, ONNX::attrs::kName);
    model->outputSpecs.push_back(specOf(name ? name.getValue() : "", type));
  }
  llvm::StringMap<ElementsAttr> initializers;
  for (auto init : func.getBody().front().getOps<ONNX::InitializerOp>())
    initializers[init.getName()] = init.getValue();

  PassManager convert(impl.context.get());
  convert.addPass(createConvertONNXToLinalgPass());
  if (llvm::Error err = runPasses(convert, *impl.module, path))
    return std::move(err);
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto weight = func.getArgAttrOfType<StringAttr>(i, "pith.weight");
    if (!weight)
      continue;
    ElementsAttr value = initializers.lookup(weight.getValue());
    ArrayRef<int64_t> dims = value.getShapedType().getShape();
    std::vector<int64_t> shape(dims.begin(), dims.end());
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
      impl.weights.push_back(resource.getRawHandle().getBlob()->getData());
    } else if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
      std::vector<char> bytes;
      if (dense.getElementType().isInteger(1))
        for (bool b : dense.getValues<bool>())
          bytes.push_back(b);
      else
        for (int64_t e = 0; e < dense.getNumElements(); ++e) {
          ArrayRef<char> raw = dense.getRawData();
          size_t width = dense.isSplat() ? raw.size() : raw.size() / dense.getNumElements();
          size_t offset = dense.isSplat() ? 0 : e * width;
          bytes.insert(bytes.end(), raw.begin() + offset, raw.begin() + offset + width);
        }
      impl.ownedWeights.push_back(std::move(bytes));
      impl.weights.push_back(impl.ownedWeights.back());
    } else {
      return error(path + ": initializer '" + weight.getValue() +
                   "' has a form code generation cannot pass");
    }
    impl.weightShapes.push_back(shape);
  }

  PassManager bufferize(impl.context.get());
  buildCPUBufferizePipeline(bufferize);
  if (llvm::Error err = runPasses(bufferize, *impl.module, path))
    return std::move(err);
  if (auto bytes = func->getAttrOfType<IntegerAttr>("pith.arena_bytes"))
    model->arenaBytes = bytes.getInt();
  impl.arena.resize(std::max<int64_t>(model->arenaBytes, 1) + 64);

  PassManager lower(impl.context.get());
  buildCPULowerToLLVMPipeline(lower);
  if (llvm::Error err = runPasses(lower, *impl.module, path))
    return std::move(err);

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  ExecutionEngineOptions options;
  options.transformer = makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                                  /*targetMachine=*/nullptr);
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = ExecutionEngine::create(*impl.module, options);
  if (!engine)
    return error(path + ": JIT compilation failed: " +
                 llvm::toString(engine.takeError()));
  impl.engine = std::move(*engine);
  model->compileTime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::move(model);
}

llvm::Expected<std::vector<HostTensor>>
JitModel::run(const std::vector<HostTensor> &inputs) {
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
    if (input.data.size() != input.numElements() * byteWidthOf(input.dataType))
      return error("input '" + spec.name + "' holds the wrong number of bytes");
    descriptors.push_back(descriptor(input.data.data(), input.shape));
  }
  for (auto [data, shape] : llvm::zip(impl->weights, impl->weightShapes))
    descriptors.push_back(descriptor(data.data(), shape));
  std::vector<HostTensor> outputs;
  for (const TensorSpec &spec : outputSpecs) {
    if (llvm::any_of(spec.shape, [](int64_t d) { return d < 0; }))
      return error("output '" + spec.name + "' has a dynamic shape " +
                   shapeText(spec.shape) + "; not supported yet");
    HostTensor out;
    out.dataType = spec.dataType;
    out.shape = spec.shape;
    out.data.resize(out.numElements() * byteWidthOf(spec.dataType));
    outputs.push_back(std::move(out));
  }
  for (HostTensor &out : outputs)
    descriptors.push_back(descriptor(out.data.data(), out.shape));
  uintptr_t arenaStart = reinterpret_cast<uintptr_t>(impl->arena.data());
  void *arena = reinterpret_cast<void *>((arenaStart + 63) / 64 * 64);
  descriptors.push_back(descriptor(arena, {std::max<int64_t>(arenaBytes, 1)}));

  // The C interface takes one pointer per memref; the packed form takes a
  // pointer to each argument.
  std::vector<void *> pointers, arguments;
  for (auto &desc : descriptors)
    pointers.push_back(desc.data());
  for (void *&pointer : pointers)
    arguments.push_back(&pointer);
  if (llvm::Error err =
          impl->engine->invokePacked("_mlir_ciface_" + impl->entry, arguments))
    return error("running the model failed: " + llvm::toString(std::move(err)));
  return outputs;
}
