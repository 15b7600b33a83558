//===- Pith.cpp - The C API over the C++ API ------------------------------===//
//
// Implements include/pith-c/Pith.h: handles own C++ API objects, statuses
// carry their messages. Nothing here decides anything the C++ API does not.
//
//===----------------------------------------------------------------------===//

#include "pith-c/Pith.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include "Status.h"
#include "pith/API/Pith.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace pith::api;

struct PithOnnxModel {
  Model model;
};

struct PithCompiledModel {
  CompiledModel model;
};

namespace {

PithStatus *fail(std::string message) { return new PithStatus{std::move(message)}; }

PithStatus *toStatus(const Status &status) {
  return status.ok() ? nullptr : fail(status.message());
}

/// Copies `bytes` into memory the caller frees with pithFree.
void *copyOut(const void *bytes, size_t size) {
  void *copy = std::malloc(std::max<size_t>(size, 1));
  if (copy && size)
    std::memcpy(copy, bytes, size);
  return copy;
}

const TensorInfo *infoAt(const std::vector<TensorInfo> &infos, int64_t index) {
  return index >= 0 && index < static_cast<int64_t>(infos.size()) ? &infos[index] : nullptr;
}

const TensorInfo *inputAt(const PithCompiledModel *model, int64_t index) {
  return model ? infoAt(model->model.inputs(), index) : nullptr;
}

const TensorInfo *outputAt(const PithCompiledModel *model, int64_t index) {
  return model ? infoAt(model->model.outputs(), index) : nullptr;
}

} // namespace

extern "C" {

int32_t pithApiVersion(void) { return PITH_API_VERSION; }

PithStatus *pithOnnxModelLoad(const char *path, PithOnnxModel **model) {
  if (!path || !model)
    return fail("pithOnnxModelLoad: a path and an output pointer are required");
  Result<Model> loaded = Model::load(path);
  if (!loaded)
    return toStatus(loaded.status());
  *model = new PithOnnxModel{std::move(*loaded)};
  return nullptr;
}

PithStatus *pithOnnxModelLoadBytes(const void *bytes, size_t size, const char *name,
                                   PithOnnxModel **model) {
  if ((!bytes && size) || !model)
    return fail("pithOnnxModelLoadBytes: bytes and an output pointer are required");
  Result<Model> loaded = Model::loadBytes(
      std::string_view(static_cast<const char *>(bytes), size), name ? name : "<bytes>");
  if (!loaded)
    return toStatus(loaded.status());
  *model = new PithOnnxModel{std::move(*loaded)};
  return nullptr;
}

void pithOnnxModelFree(PithOnnxModel *model) { delete model; }

PithStatus *pithOnnxModelOptimize(PithOnnxModel *model, const char *pipeline,
                                  const char *calibrationPath) {
  if (!model || !pipeline)
    return fail("pithOnnxModelOptimize: a model and a pipeline are required");
  OptimizeOptions options;
  if (calibrationPath)
    options.calibrationPath = calibrationPath;
  return toStatus(model->model.optimize(pipeline, options));
}

PithStatus *pithOnnxModelReportJson(const PithOnnxModel *model, char **json) {
  if (!model || !json)
    return fail("pithOnnxModelReportJson: a model and an output pointer are required");
  std::string text = model->model.report().json;
  *json = static_cast<char *>(copyOut(text.c_str(), text.size() + 1));
  return nullptr;
}

PithStatus *pithOnnxModelSave(const PithOnnxModel *model, const char *path) {
  if (!model || !path)
    return fail("pithOnnxModelSave: a model and a path are required");
  return toStatus(model->model.save(path));
}

PithStatus *pithOnnxModelToBytes(const PithOnnxModel *model, void **bytes, size_t *size) {
  if (!model || !bytes || !size)
    return fail("pithOnnxModelToBytes: a model and output pointers are required");
  Result<std::string> written = model->model.toBytes();
  if (!written)
    return toStatus(written.status());
  *bytes = copyOut(written->data(), written->size());
  *size = written->size();
  return nullptr;
}

PithStatus *pithOnnxModelCompile(const PithOnnxModel *model, const char *target,
                                 PithCompiledModel **compiled) {
  if (!model || !compiled)
    return fail("pithOnnxModelCompile: a model and an output pointer are required");
  CompileOptions options;
  if (target)
    options.target = target;
  Result<CompiledModel> result = model->model.compile(options);
  if (!result)
    return toStatus(result.status());
  *compiled = new PithCompiledModel{std::move(*result)};
  return nullptr;
}

void pithCompiledModelFree(PithCompiledModel *model) { delete model; }

int64_t pithCompiledModelNumInputs(const PithCompiledModel *model) {
  return model ? static_cast<int64_t>(model->model.inputs().size()) : -1;
}
int64_t pithCompiledModelNumOutputs(const PithCompiledModel *model) {
  return model ? static_cast<int64_t>(model->model.outputs().size()) : -1;
}

const char *pithCompiledModelInputName(const PithCompiledModel *model, int64_t index) {
  const TensorInfo *info = inputAt(model, index);
  return info ? info->name.c_str() : nullptr;
}
int32_t pithCompiledModelInputType(const PithCompiledModel *model, int64_t index) {
  const TensorInfo *info = inputAt(model, index);
  return info ? static_cast<int32_t>(info->dataType) : 0;
}
int64_t pithCompiledModelInputRank(const PithCompiledModel *model, int64_t index) {
  const TensorInfo *info = inputAt(model, index);
  return info ? static_cast<int64_t>(info->shape.size()) : -1;
}
const int64_t *pithCompiledModelInputShape(const PithCompiledModel *model, int64_t index) {
  const TensorInfo *info = inputAt(model, index);
  return info ? info->shape.data() : nullptr;
}
const char *pithCompiledModelOutputName(const PithCompiledModel *model, int64_t index) {
  const TensorInfo *info = outputAt(model, index);
  return info ? info->name.c_str() : nullptr;
}
int32_t pithCompiledModelOutputType(const PithCompiledModel *model, int64_t index) {
  const TensorInfo *info = outputAt(model, index);
  return info ? static_cast<int32_t>(info->dataType) : 0;
}
int64_t pithCompiledModelOutputRank(const PithCompiledModel *model, int64_t index) {
  const TensorInfo *info = outputAt(model, index);
  return info ? static_cast<int64_t>(info->shape.size()) : -1;
}
const int64_t *pithCompiledModelOutputShape(const PithCompiledModel *model, int64_t index) {
  const TensorInfo *info = outputAt(model, index);
  return info ? info->shape.data() : nullptr;
}

int64_t pithCompiledModelPeakIntermediateBytes(const PithCompiledModel *model) {
  return model ? model->model.peakIntermediateBytes() : -1;
}

PithStatus *pithCompiledModelRun(const PithCompiledModel *model, const PithTensor *inputs,
                                 int64_t numInputs, PithTensor *outputs,
                                 int64_t numOutputs) {
  if (!model || (numInputs > 0 && !inputs) || (numOutputs > 0 && !outputs))
    return fail("pithCompiledModelRun: a model, inputs and outputs are required");
  if (numOutputs != static_cast<int64_t>(model->model.outputs().size()))
    return fail("the model has " + std::to_string(model->model.outputs().size()) +
                " outputs, " + std::to_string(numOutputs) + " requested");
  std::vector<TensorView> views;
  for (int64_t i = 0; i < numInputs; ++i) {
    const PithTensor &input = inputs[i];
    if (input.rank < 0 || (input.rank > 0 && !input.shape))
      return fail("input " + std::to_string(i) + " has no shape");
    views.push_back({DataType(input.dataType),
                     std::vector<int64_t>(input.shape, input.shape + input.rank), input.data});
  }
  Result<std::vector<Tensor>> results = model->model.run(views);
  if (!results)
    return toStatus(results.status());
  for (int64_t i = 0; i < numOutputs; ++i) {
    Tensor &out = (*results)[i];
    auto *shape = static_cast<int64_t *>(copyOut(out.shape.data(), out.shape.size() * sizeof(int64_t)));
    outputs[i] = PithTensor{static_cast<int32_t>(out.dataType),
                            static_cast<int64_t>(out.shape.size()), shape,
                            copyOut(out.data.data(), out.data.size())};
  }
  return nullptr;
}

void pithTrainOptionsInit(PithTrainOptions *options) {
  if (!options)
    return;
  TrainOptions defaults;
  *options = PithTrainOptions{};
  options->loss = "cross-entropy";
  options->optimizer = "adamw";
  options->schedule = "constant";
  options->learningRate = defaults.learningRate;
  options->warmupFraction = defaults.warmupFraction;
  options->weightDecay = defaults.weightDecay;
  options->momentum = defaults.momentum;
  options->beta1 = defaults.beta1;
  options->beta2 = defaults.beta2;
  options->epsilon = defaults.epsilon;
  options->epochs = defaults.epochs;
  options->batchSize = defaults.batchSize;
  options->seed = defaults.seed;
  options->rematSolver = "greedy";
  options->clipNorm = defaults.clipNorm;
}

PithStatus *pithOnnxModelTrain(PithOnnxModel *model, const char *const *names,
                               const PithTensor *data, int64_t numData,
                               const PithTrainOptions *options, char **runJson) {
  if (!model || !options || (numData > 0 && (!names || !data)))
    return fail("pithOnnxModelTrain: a model, options and the data's names and tensors are "
                "required");
  std::map<std::string, TensorView> views;
  for (int64_t i = 0; i < numData; ++i) {
    const PithTensor &tensor = data[i];
    if (!names[i] || tensor.rank < 0 || (tensor.rank > 0 && !tensor.shape))
      return fail("data " + std::to_string(i) + " has no name or no shape");
    views[names[i]] = {DataType(tensor.dataType),
                       std::vector<int64_t>(tensor.shape, tensor.shape + tensor.rank),
                       tensor.data};
  }
  TrainOptions o;
  o.loss = options->loss ? options->loss : o.loss;
  o.lossOutput = options->lossOutput ? options->lossOutput : "";
  o.optimizer = options->optimizer ? options->optimizer : o.optimizer;
  o.schedule = options->schedule ? options->schedule : o.schedule;
  o.learningRate = options->learningRate;
  o.warmupFraction = options->warmupFraction;
  o.weightDecay = options->weightDecay;
  o.momentum = options->momentum;
  o.beta1 = options->beta1;
  o.beta2 = options->beta2;
  o.epsilon = options->epsilon;
  o.clipNorm = options->clipNorm;
  o.epochs = options->epochs;
  o.batchSize = options->batchSize;
  o.seed = options->seed;
  for (int64_t i = 0; i < options->numFreeze; ++i)
    o.freeze.push_back(options->freeze[i]);
  o.memoryBudget = options->memoryBudget ? options->memoryBudget : "";
  o.rematSolver = options->rematSolver ? options->rematSolver : o.rematSolver;
  Result<TrainingRun> run = model->model.train(views, o);
  if (!run)
    return toStatus(run.status());
  if (runJson) {
    llvm::json::Array epochs, losses;
    for (const EpochReport &e : run->epochs)
      epochs.push_back(llvm::json::Object{{"epoch", e.epoch},
                                          {"loss", e.meanLoss},
                                          {"steps", e.steps},
                                          {"seconds", e.seconds},
                                          {"samples_per_second", e.samplesPerSecond}});
    for (float loss : run->losses)
      losses.push_back(loss);
    std::string text;
    llvm::raw_string_ostream os(text);
    os << llvm::json::Value(llvm::json::Object{{"epochs", std::move(epochs)},
                                               {"losses", std::move(losses)},
                                               {"arena_bytes", run->arenaBytes},
                                               {"step_bytes", run->stepBytes}});
    os.flush();
    *runJson = static_cast<char *>(copyOut(text.c_str(), text.size() + 1));
  }
  return nullptr;
}

void pithFree(void *pointer) { std::free(pointer); }

} // extern "C"
