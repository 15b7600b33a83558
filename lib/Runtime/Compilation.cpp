//===- Compilation.cpp - ONNX model to LLVM dialect, for JIT and AOT ------===//
//
// Runs the CPU pipeline in its three stages, reading between them what the
// runtime needs: the interface before lowering erases the ONNX names, the
// weights after the conversion made them arguments, the arena size after
// bufferization planned it. Finally adds `pith_graph_packed(void **)`, which
// calls the graph's C interface with the descriptors in the array.
//
//===----------------------------------------------------------------------===//

#include "pith/Runtime/Compilation.h"

#include "ONNX/ONNXOps.h"
#include "pith/Conversion/Passes.h"
#include "pith/Import/ONNXImporter.h"
#include "pith/InitAll.h"
#include "pith/Pipelines/Pipelines.h"
#include "pith/Transforms/Passes.h"
#include "pith/Proto/ONNXProto.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"

using namespace mlir;
using namespace pith;

namespace {

/// The name the graph function gets, so that the entry points are fixed.
constexpr llvm::StringLiteral kGraphName = "pith_graph";

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(message.str());
}

std::string nodeOf(Location loc) {
  if (auto named = dyn_cast<NameLoc>(loc))
    return "node '" + named.getName().str() + "': ";
  return "";
}

/// Runs `pm`; the first error becomes a one-line message.
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

ModelMetadata::Value valueOf(llvm::StringRef name, Type type) {
  ModelMetadata::Value value;
  value.name = name.str();
  if (auto shaped = dyn_cast<ShapedType>(type)) {
    value.dataType = proto::elementTypeToONNX(shaped.getElementType()).value_or(0);
    if (shaped.hasRank())
      for (int64_t d : shaped.getShape())
        value.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  }
  return value;
}

/// The bytes of a weight: the blob itself, or a converted copy.
llvm::Expected<ArrayRef<char>> weightBytes(ElementsAttr value, LoweredModel &model) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return error("weight data was elided");
    return blob->getData();
  }
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense)
    return error("unsupported weight attribute");
  std::vector<char> bytes;
  if (dense.getElementType().isInteger(1)) {
    for (bool b : dense.getValues<bool>())
      bytes.push_back(b);
  } else {
    ArrayRef<char> raw = dense.getRawData();
    int64_t count = dense.getNumElements();
    size_t width = dense.isSplat() ? raw.size() : raw.size() / std::max<int64_t>(count, 1);
    for (int64_t e = 0; e < count; ++e) {
      size_t offset = dense.isSplat() ? 0 : e * width;
      bytes.insert(bytes.end(), raw.begin() + offset, raw.begin() + offset + width);
    }
  }
  model.ownedWeights.push_back(std::move(bytes));
  return ArrayRef<char>(model.ownedWeights.back());
}

/// `pith_graph_packed(void **args)`: calls the graph's C interface with
/// args[0..n).
void addPackedEntry(ModuleOp module) {
  auto ciface = module.lookupSymbol<LLVM::LLVMFuncOp>(
      ("_mlir_ciface_" + kGraphName).str());
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module.getBody());
  Location loc = module.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr});
  auto packed = LLVM::LLVMFuncOp::create(b, loc, kEntrySymbol, type);
  Block *entry = packed.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  SmallVector<Value> args;
  for (unsigned i = 0; i < ciface.getNumArguments(); ++i) {
    Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, entry->getArgument(0),
                                     ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
    args.push_back(LLVM::LoadOp::create(b, loc, ptr, slot));
  }
  LLVM::CallOp::create(b, loc, ciface, args);
  LLVM::ReturnOp::create(b, loc, ValueRange{});
}
} // namespace

namespace {
/// A lowered model with its context, before anything is imported into it.
std::unique_ptr<LoweredModel> emptyModel() {
  auto model = std::make_unique<LoweredModel>();
  DialectRegistry registry;
  registerAllDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  model->context = std::make_unique<MLIRContext>(registry);
  model->context->loadAllAvailableDialects();
  return model;
}

llvm::Expected<std::unique_ptr<LoweredModel>>
lowerImported(std::unique_ptr<LoweredModel> model, llvm::StringRef path,
              const CompileTarget &target,
              const std::map<std::string, std::vector<int64_t>> &inputShapes);
} // namespace

std::string CompileTarget::parse(llvm::StringRef target, llvm::StringRef gpuMath,
                                 CompileTarget &out, llvm::StringRef gpuContractions) {
  if (target == "cpu")
    out.kind = Kind::CPU;
  else if (target == "cuda")
    out.kind = Kind::CUDA;
  else
    return "unknown target '" + target.str() + "' (cpu or cuda)";
  if (!llvm::is_contained({"fp32", "tf32", "fp16", "bf16"}, gpuMath))
    return "unknown GPU math '" + gpuMath.str() + "' (fp32, tf32, fp16 or bf16)";
  if (out.kind == Kind::CPU && gpuMath != "fp32")
    return "--gpu-math applies to --target cuda only";
  if (gpuContractions != "library" && gpuContractions != "generated")
    return "unknown GPU contractions '" + gpuContractions.str() + "' (library or generated)";
  if (out.kind == Kind::CPU && gpuContractions != "library")
    return "--gpu-contractions applies to --target cuda only";
  out.libraryContractions = gpuContractions == "library";
#ifndef PITH_ENABLE_CUDA
  if (out.kind == Kind::CUDA)
    return "this Pith was built without the CUDA toolkit: --target cuda is not available";
#endif
  out.gpuMath = gpuMath.str();
  return "";
}

llvm::Expected<std::unique_ptr<LoweredModel>>
pith::lowerONNXFile(llvm::StringRef path, const CompileTarget &target,
                    const std::map<std::string, std::vector<int64_t>> &inputShapes) {
  std::unique_ptr<LoweredModel> model = emptyModel();
  ImportOptions options;
  options.inputShapes = inputShapes;
  auto imported = importONNXFile(path, model->context.get(), options);
  if (!imported)
    return imported.takeError();
  model->module = std::move(*imported);
  return lowerImported(std::move(model), path, target, inputShapes);
}

llvm::Expected<std::unique_ptr<LoweredModel>>
pith::lowerONNXFileForCPU(
    llvm::StringRef path,
    const std::map<std::string, std::vector<int64_t>> &inputShapes) {
  return lowerONNXFile(path, CompileTarget(), inputShapes);
}

llvm::Expected<std::unique_ptr<LoweredModel>>
pith::lowerONNXBytesForCPU(
    llvm::StringRef bytes, llvm::StringRef displayName,
    const std::map<std::string, std::vector<int64_t>> &inputShapes) {
  return lowerONNXBytes(bytes, displayName, CompileTarget(), inputShapes);
}

llvm::Expected<std::unique_ptr<LoweredModel>>
pith::lowerONNXBytes(llvm::StringRef bytes, llvm::StringRef displayName,
                     const CompileTarget &target,
                     const std::map<std::string, std::vector<int64_t>> &inputShapes) {
  std::unique_ptr<LoweredModel> model = emptyModel();
  ImportOptions options;
  options.inputShapes = inputShapes;
  auto imported = importONNXBuffer(bytes, /*isText=*/false, displayName, /*baseDirectory=*/"",
                                   model->context.get(), options);
  if (!imported)
    return imported.takeError();
  model->module = std::move(*imported);
  return lowerImported(std::move(model), displayName, target, inputShapes);
}

namespace {
llvm::Expected<std::unique_ptr<LoweredModel>>
lowerImported(std::unique_ptr<LoweredModel> model, llvm::StringRef path,
              const CompileTarget &target,
              const std::map<std::string, std::vector<int64_t>> &inputShapes) {
  bool cuda = target.kind == CompileTarget::Kind::CUDA;
  auto funcs = llvm::to_vector(model->module->getOps<func::FuncOp>());
  if (funcs.size() != 1)
    return error(path + ": expected one graph");
  func::FuncOp func = funcs.front();
  func.setSymName(kGraphName);
  func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                UnitAttr::get(model->context.get()));

  // IR version < 4 models list initializers among the graph inputs as
  // defaults. An input the caller does not give takes its default, as a
  // weight.
  llvm::StringMap<ONNX::InitializerOp> defaults;
  for (auto init : func.getBody().front().getOps<ONNX::InitializerOp>())
    defaults[init.getName()] = init;
  for (int i = static_cast<int>(func.getNumArguments()) - 1; i >= 0; --i) {
    auto name = func.getArgAttrOfType<StringAttr>(i, ONNX::attrs::kName);
    ONNX::InitializerOp init = name ? defaults.lookup(name.getValue()) : nullptr;
    if (!init || inputShapes.count(name.str()))
      continue;
    func.getArgument(i).replaceAllUsesWith(init.getResult());
    if (failed(func.eraseArgument(i)))
      return error(path + ": cannot bind the default of input '" + name.getValue() + "'");
  }

  ModelMetadata &meta = model->metadata;
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    auto name = func.getArgAttrOfType<StringAttr>(i, ONNX::attrs::kName);
    meta.inputs.push_back(valueOf(name ? name.getValue() : "", type));
  }
  llvm::StringMap<ElementsAttr> initializers;
  for (auto init : func.getBody().front().getOps<ONNX::InitializerOp>())
    initializers[init.getName()] = init.getValue();

  // Shape refinement can make the outputs' types static: read them after.
  PassManager refine(model->context.get());
  refine.addPass(createExpandToONNXPass());
  refine.addPass(createRefineShapesPass());
  refine.addPass(createWidenConvolutionsPass());
  if (llvm::Error err = runPasses(refine, *model->module, path))
    return std::move(err);
  for (auto [i, type] : llvm::enumerate(func.getResultTypes())) {
    auto name = func.getResultAttrOfType<StringAttr>(i, ONNX::attrs::kName);
    meta.outputs.push_back(valueOf(name ? name.getValue() : "", type));
  }
  if (cuda) {
    // Device buffers are planned and allocated before the run: every size
    // must be known.
    for (const auto &values : {meta.inputs, meta.outputs})
      for (const ModelMetadata::Value &value : values)
        if (llvm::is_contained(value.shape, -1))
          return error(path + ": --target cuda needs static shapes; '" + value.name +
                       "' has a symbolic dimension (fix inputs with --input-shape NAME=DIMS)");
    meta.target = "cuda";
    meta.gpuMath = target.gpuMath;
  }

  PassManager convert(model->context.get());
  convert.addPass(createConvertONNXToLinalgPass());
  if (llvm::Error err = runPasses(convert, *model->module, path))
    return std::move(err);
  uint64_t offset = kWeightsHeaderBytes;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto name = func.getArgAttrOfType<StringAttr>(i, "pith.weight");
    if (!name)
      continue;
    ElementsAttr value = initializers.lookup(name.getValue());
    auto bytes = weightBytes(value, *model);
    if (!bytes)
      return error(path + ": initializer '" + name.getValue() +
                   "': " + llvm::toString(bytes.takeError()));
    ModelMetadata::Weight weight;
    ModelMetadata::Value shape = valueOf(name.getValue(), value.getShapedType());
    weight.name = shape.name;
    weight.dataType = shape.dataType;
    weight.shape = shape.shape;
    offset = (offset + kWeightsAlignment - 1) / kWeightsAlignment * kWeightsAlignment;
    weight.offset = offset;
    weight.bytes = bytes->size();
    offset += bytes->size();
    meta.weights.push_back(weight);
    model->weightData.push_back(*bytes);
  }

  PassManager bufferize(model->context.get());
  if (cuda)
    buildCUDABufferizePipeline(bufferize);
  else
    buildCPUBufferizePipeline(bufferize);
  if (llvm::Error err = runPasses(bufferize, *model->module, path))
    return std::move(err);
  if (auto bytes = func->getAttrOfType<IntegerAttr>("pith.arena_bytes"))
    meta.arenaBytes = bytes.getInt();

  PassManager lower(model->context.get());
  if (cuda) {
    CUDAPipelineOptions options;
    options.chips = llvm::ArrayRef<std::string>(target.chips);
    options.libraryCalls = target.libraryContractions;
    buildCUDALowerToLLVMPipeline(lower, options);
  } else {
    buildCPULowerToLLVMPipeline(lower);
  }
  if (llvm::Error err = runPasses(lower, *model->module, path))
    return std::move(err);
  addPackedEntry(*model->module);
  return std::move(model);
}
} // namespace
