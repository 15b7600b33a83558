//===- Training.cpp - Model::train: training steps compiled and run ------===//
//
// The one training loop behind `pith train`, the C++ API and Python's
// Model.train: the model is imported again with the batch size fixed,
// pith-autodiff turns it into a training step, the CPU pipeline compiles
// the step, and the loop feeds it minibatches while it keeps the
// parameters and optimizer state, feeding each step's `X.next` outputs
// back as its `X` inputs. The trained values are written into the model's
// initializers at the end, so the model saves as the inference model it
// was, with new weights.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "Weights.h"

#include "ONNX/ONNXDialect.h"
#include "ONNX/ONNXOps.h"
#include "pith/Export/ONNXExporter.h"
#include "pith/Import/ONNXImporter.h"
#include "pith/Runtime/HostTensor.h"
#include "pith/Runtime/JitModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>

using namespace pith::api;
using namespace pith::api::detail;

namespace {

/// A number as the pass-option parser reads it back exactly.
std::string exactly(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

/// The learning rate of 0-based step `step` of `total`.
double learningRateAt(const TrainOptions &o, int64_t step, int64_t total) {
  if (o.schedule == "constant" || total <= 1)
    return o.learningRate;
  if (o.schedule == "cosine")
    return o.learningRate * 0.5 * (1 + std::cos(M_PI * double(step) / total));
  // torch.optim.lr_scheduler.OneCycleLR, cosine annealing, two phases.
  double initial = o.learningRate / 25, minimum = initial / 1e4;
  double warmEnd = o.warmupFraction * total - 1, last = total - 1;
  auto anneal = [](double from, double to, double fraction) {
    return to + (from - to) / 2 * (std::cos(M_PI * fraction) + 1);
  };
  if (step <= warmEnd)
    return anneal(initial, o.learningRate, warmEnd > 0 ? step / warmEnd : 1.0);
  return anneal(o.learningRate, minimum, (step - warmEnd) / std::max(last - warmEnd, 1.0));
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text;
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "x" : "") + std::to_string(shape[i]);
  return text.empty() ? "scalar" : text;
}

/// Bytes of a compiled step's input or output.
int64_t bytesOf(const pith::TensorSpec &spec) {
  int64_t count = 1;
  for (int64_t d : spec.shape)
    count *= d;
  return count * static_cast<int64_t>(byteWidth(DataType(spec.dataType)));
}

/// One array of the training data: the samples along its first axis.
struct Column {
  std::string name;
  TensorView view;
  int64_t sampleBytes = 0;
};

Status checkOptions(const TrainOptions &o) {
  if (o.epochs < 1)
    return failure("epochs: expected 1 or more, got " + std::to_string(o.epochs));
  if (o.batchSize < 1)
    return failure("batch size: expected 1 or more, got " + std::to_string(o.batchSize));
  if (!(o.learningRate > 0))
    return failure("learning rate: expected a positive number, got " + exactly(o.learningRate));
  if (o.schedule != "constant" && o.schedule != "cosine" && o.schedule != "one-cycle")
    return failure("schedule: expected 'constant', 'cosine' or 'one-cycle', got '" + o.schedule +
                   "'");
  if (!(o.warmupFraction > 0 && o.warmupFraction < 1))
    return failure("warm-up fraction: expected a number in (0, 1)");
  if (o.rematSolver != "greedy" && o.rematSolver != "ilp" && o.rematSolver != "chain" &&
      o.rematSolver != "sqrt")
    return failure("recompute solver: expected 'greedy', 'ilp', 'chain' or 'sqrt', got '" +
                   o.rematSolver + "'");
  if (!(o.clipNorm >= 0))
    return failure("gradient clipping norm: expected 0 (off) or a positive number, got " +
                   exactly(o.clipNorm));
  if (o.optimizer != "adamw" && o.optimizer != "sgd")
    return failure("optimizer: expected 'adamw' or 'sgd', got '" + o.optimizer + "'");
  return Status::success();
}

} // namespace

Result<TrainingRun> Model::train(const std::map<std::string, TensorView> &data,
                                 const TrainOptions &options,
                                 const std::function<void(const EpochReport &)> &onEpoch) {
  if (!impl)
    return failure("the model was moved from");
  if (Status status = checkOptions(options); !status)
    return status;
  const std::string &name = impl->name;

  // The data: every graph input, and the loss's labels or targets.
  std::string targetName = options.loss == "cross-entropy" ? "labels"
                           : options.loss == "mse"         ? "targets"
                                                           : "";
  std::vector<Column> columns;
  std::map<std::string, std::vector<int64_t>> batchShapes;
  int64_t samples = -1;
  std::string firstColumn;
  auto addColumn = [&](const std::string &column, DataType expected,
                       const std::vector<int64_t> &dims) -> Status {
    auto it = data.find(column);
    if (it == data.end())
      return failure("data: no array '" + column + "'" +
                     (column == targetName ? " (the loss's " + column + ")"
                                           : " (an input of the model)"));
    const TensorView &view = it->second;
    if (view.dataType != expected)
      return failure("data '" + column + "': " + dataTypeName(view.dataType) + ", expected " +
                     dataTypeName(expected) +
                     (column == "labels" ? " class indices for loss=cross-entropy" : ""));
    if (view.shape.empty())
      return failure("data '" + column + "' is a scalar; the samples go along its first axis");
    bool fits = view.shape.size() == dims.size();
    for (size_t d = 1; fits && d < dims.size(); ++d)
      fits = dims[d] < 0 || dims[d] == view.shape[d];
    if (!fits)
      return failure("data '" + column + "' has shape " + shapeText(view.shape) +
                     "; one sample must be " +
                     shapeText(std::vector<int64_t>(dims.begin() + 1, dims.end())));
    if (samples >= 0 && view.shape[0] != samples)
      return failure("data '" + column + "' has " + std::to_string(view.shape[0]) +
                     " samples, '" + firstColumn + "' " + std::to_string(samples));
    if (samples < 0) {
      samples = view.shape[0];
      firstColumn = column;
    }
    std::vector<int64_t> batch = view.shape;
    batch[0] = options.batchSize;
    batchShapes[column] = batch;
    columns.push_back({column, view, view.numElements() / view.shape[0] *
                                         static_cast<int64_t>(byteWidth(view.dataType))});
    return Status::success();
  };
  std::vector<TensorInfo> modelInputs = inputs(), modelOutputs = outputs();
  for (const TensorInfo &input : modelInputs)
    if (Status status = addColumn(input.name, input.dataType, input.shape); !status)
      return status;
  if (modelOutputs.empty())
    return failure(name + ": the model has no outputs");
  const TensorInfo *lossOutput = &modelOutputs[0];
  for (const TensorInfo &output : modelOutputs)
    if (output.name == options.lossOutput)
      lossOutput = &output;
  if (!targetName.empty()) {
    std::vector<int64_t> dims = lossOutput->shape;
    DataType type = DataType::Float;
    if (options.loss == "cross-entropy") {
      if (!dims.empty())
        dims.pop_back();
      type = DataType::Int64;
    }
    if (Status status = addColumn(targetName, type, dims); !status)
      return status;
  }
  for (const auto &[column, view] : data)
    if (!batchShapes.count(column))
      return failure("data: '" + column + "' is neither an input of the model nor " +
                     (targetName.empty() ? std::string("used by loss=output")
                                         : "the loss's '" + targetName + "'"));
  if (samples < options.batchSize)
    return failure("data: " + std::to_string(samples) + " samples, fewer than one batch of " +
                   std::to_string(options.batchSize));

  // The training step, for batches of batchSize.
  auto bytes = pith::exportONNXBytes(*impl->module);
  if (!bytes)
    return failure(bytes.takeError());
  auto step = Impl::create(name);
  pith::ImportOptions importOptions;
  for (const TensorInfo &input : modelInputs)
    importOptions.inputShapes[input.name] = batchShapes[input.name];
  auto imported = pith::importONNXBuffer(*bytes, /*isText=*/false, name, "",
                                         step->context.get(), importOptions);
  if (!imported)
    return failure(imported.takeError());
  step->module = std::move(*imported);
  auto graph = *step->module->getOps<mlir::func::FuncOp>().begin();
  int64_t classes = 0;
  for (unsigned i = 0; i < graph.getNumResults(); ++i) {
    auto resultName = graph.getResultAttrOfType<mlir::StringAttr>(i, pith::ONNX::attrs::kName);
    auto type = llvm::dyn_cast<mlir::RankedTensorType>(graph.getResultTypes()[i]);
    if (resultName && resultName.getValue() == lossOutput->name && type && type.getRank() > 0)
      classes = type.getShape().back();
  }
  if (options.loss == "cross-entropy") {
    const TensorView &labels = data.at("labels");
    const auto *values = static_cast<const int64_t *>(labels.data);
    for (int64_t i = 0, n = labels.numElements(); i < n; ++i)
      if (values[i] < 0 || values[i] >= classes)
        return failure(llvm::formatv("data 'labels': value {0} at index {1} is not a class of "
                                     "output '{2}' (0 to {3})",
                                     values[i], i, lossOutput->name, classes - 1)
                           .str());
  }
  std::string pipeline = "pith-autodiff{loss=" + options.loss + " optimizer=" +
                         options.optimizer + " momentum=" + exactly(options.momentum) +
                         " weight-decay=" + exactly(options.weightDecay) +
                         " beta1=" + exactly(options.beta1) + " beta2=" + exactly(options.beta2) +
                         " epsilon=" + exactly(options.epsilon) +
                         " clip-norm=" + exactly(options.clipNorm);
  if (!options.lossOutput.empty())
    pipeline += " loss-output=" + options.lossOutput;
  if (!options.freeze.empty()) {
    pipeline += " freeze=";
    for (size_t i = 0; i < options.freeze.size(); ++i)
      pipeline += (i ? "," : "") + options.freeze[i];
  }
  pipeline += "}";
  if (!options.memoryBudget.empty())
    pipeline += ",pith-remat{budget=" + options.memoryBudget + " solver=" + options.rematSolver +
                "}";
  else if (options.rematSolver == "sqrt")
    pipeline += ",pith-remat{solver=sqrt}";
  registerPassesOnce();
  mlir::PassManager pm(step->context.get());
  pm.enableVerifier();
  std::string problem;
  llvm::raw_string_ostream problemStream(problem);
  if (mlir::failed(mlir::parsePassPipeline(pipeline, pm, problemStream)))
    return failure("training options: " + firstLine(problem));
  {
    FirstError error(step->context.get());
    if (mlir::failed(pm.run(*step->module)))
      return failure(name + ": " + (error.get().empty() ? "building the training step failed"
                                                        : error.get()));
  }
  std::vector<std::string> stepReport;
  if (auto entries = (*step->module)->getAttrOfType<mlir::ArrayAttr>("pith.report"))
    for (auto entry : entries.getAsRange<mlir::DictionaryAttr>())
      if (auto lines = entry.getAs<mlir::ArrayAttr>("lines"))
        for (auto line : lines.getAsValueRange<mlir::StringAttr>())
          stepReport.push_back(
              entry.getAs<mlir::StringAttr>("pass").getValue().str() + ": " + line.str());
  auto stepBytes = pith::exportONNXBytes(*step->module);
  if (!stepBytes)
    return failure(stepBytes.takeError());
  auto compiled = pith::JitModel::compileBytes(*stepBytes, name + " (training step)");
  if (!compiled)
    return failure(compiled.takeError());
  pith::JitModel &jit = **compiled;

  // Parameters start from the model's initializers, optimizer state at 0.
  std::map<std::string, pith::ONNX::InitializerOp> initializers;
  for (auto init : graphOf(*impl->module).getBody().front().getOps<pith::ONNX::InitializerOp>())
    initializers[init.getName().str()] = init;
  std::map<std::string, std::vector<char>> state;
  std::vector<std::vector<char>> batches(jit.inputs().size());
  std::vector<pith::HostTensorRef> refs(jit.inputs().size());
  float learningRate = 0, stepNumber = 0;
  std::vector<std::pair<size_t, const Column *>> batchInputs;
  std::vector<std::pair<size_t, std::string>> stateInputs;
  int64_t ioBytes = 0;
  for (size_t i = 0; i < jit.inputs().size(); ++i) {
    const pith::TensorSpec &spec = jit.inputs()[i];
    int64_t size = bytesOf(spec);
    ioBytes += size;
    refs[i] = {spec.dataType, spec.shape, nullptr, size};
    if (spec.name == "learning_rate") {
      refs[i].data = &learningRate;
    } else if (spec.name == "step") {
      refs[i].data = &stepNumber;
    } else if (auto column = llvm::find_if(columns, [&](const Column &c) {
                 return c.name == spec.name;
               });
               column != columns.end()) {
      batches[i].resize(size);
      refs[i].data = batches[i].data();
      batchInputs.push_back({i, &*column});
    } else {
      std::vector<char> &value = state[spec.name];
      value.assign(size, 0);
      if (auto init = initializers.find(spec.name); init != initializers.end()) {
        pith::compression::WeightData weight(init->second.getValue());
        std::vector<float> floats = weight.toFloats();
        std::memcpy(value.data(), floats.data(), std::min<size_t>(size, floats.size() * 4));
      }
      stateInputs.push_back({i, spec.name});
    }
  }
  int64_t lossIndex = -1;
  std::vector<std::pair<size_t, std::string>> stateOutputs;
  for (size_t i = 0; i < jit.outputs().size(); ++i) {
    const pith::TensorSpec &spec = jit.outputs()[i];
    ioBytes += bytesOf(spec);
    llvm::StringRef outputName = spec.name;
    if (outputName == "loss")
      lossIndex = static_cast<int64_t>(i);
    else if (outputName.consume_back(".next"))
      stateOutputs.push_back({i, outputName.str()});
  }

  TrainingRun run;
  run.arenaBytes = jit.peakIntermediateBytes();
  run.stepBytes = run.arenaBytes + ioBytes;
  run.compileSeconds = jit.compileSeconds();
  run.report = std::move(stepReport);
  const int64_t stepsPerEpoch = samples / options.batchSize;
  const int64_t totalSteps = stepsPerEpoch * options.epochs;
  std::mt19937_64 random(options.seed);
  std::vector<int64_t> order(samples);
  int64_t global = 0;
  for (int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), random);
    double lossSum = 0;
    for (int64_t s = 0; s < stepsPerEpoch; ++s, ++global) {
      for (auto [index, column] : batchInputs) {
        char *out = batches[index].data();
        const char *in = static_cast<const char *>(column->view.data);
        for (int64_t r = 0; r < options.batchSize; ++r)
          std::memcpy(out + r * column->sampleBytes,
                      in + order[s * options.batchSize + r] * column->sampleBytes,
                      column->sampleBytes);
      }
      for (auto &[index, stateName] : stateInputs)
        refs[index].data = state[stateName].data();
      learningRate = static_cast<float>(learningRateAt(options, global, totalSteps));
      stepNumber = static_cast<float>(global + 1);
      auto outputs = jit.run(refs);
      if (!outputs)
        return failure(outputs.takeError());
      float loss = *reinterpret_cast<const float *>((*outputs)[lossIndex].data.data());
      if (!std::isfinite(loss))
        return failure(llvm::formatv("{0}: training diverged at epoch {1}, step {2}: the loss is "
                                     "{3}; lower the learning rate",
                                     name, epoch, s + 1, loss)
                           .str());
      run.losses.push_back(loss);
      lossSum += loss;
      for (auto &[index, stateName] : stateOutputs)
        state[stateName] = std::move((*outputs)[index].data);
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EpochReport report{epoch, stepsPerEpoch, lossSum / stepsPerEpoch, seconds,
                       stepsPerEpoch * options.batchSize / seconds};
    run.epochs.push_back(report);
    if (onEpoch)
      onEpoch(report);
  }

  // The trained values replace the model's initializers.
  for (auto &[index, stateName] : stateInputs) {
    auto init = initializers.find(stateName);
    if (init == initializers.end())
      continue;
    auto type = llvm::cast<mlir::RankedTensorType>(init->second.getType());
    const std::vector<char> &value = state[stateName];
    llvm::ArrayRef<float> floats(reinterpret_cast<const float *>(value.data()),
                                 value.size() / sizeof(float));
    init->second.setValueAttr(
        pith::compression::makeWeight(type, "trained." + stateName, floats));
  }
  return run;
}
