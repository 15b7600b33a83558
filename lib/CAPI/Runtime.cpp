//===- Runtime.cpp - Run compiled Pith models from C ----------------------===//
//
// Implements include/pith-c/Runtime.h. Deliberately depends on nothing but
// the C++ standard library and POSIX (dlopen, mmap): applications that run
// compiled models do not link MLIR or LLVM.
//
//===----------------------------------------------------------------------===//

#include "pith-c/Runtime.h"

#include "Status.h"

#include "pith/Runtime/ArenaPool.h"
#include "pith/Runtime/MemRefDescriptor.h"
#include "pith/Runtime/ModelMetadata.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <dlfcn.h>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace pith;


/// A model compiled for cuda: its weights, arena, inputs and outputs in GPU
/// memory, through the functions of libpith_cuda_runtime.so (which the
/// model library links; found with dlsym, so this runtime needs no CUDA).
struct DeviceModel {
  int (*initialize)() = nullptr;
  const char *(*takeError)() = nullptr;
  const char *(*deviceName)() = nullptr;
  void *(*alloc)(uint64_t) = nullptr;
  void (*free)(void *) = nullptr;
  void (*toDevice)(void *, const void *, uint64_t) = nullptr;
  void (*toHost)(void *, const void *, uint64_t) = nullptr;
  void (*setMath)(int32_t) = nullptr;
  int32_t math = 0;
  std::string description; // "cuda: <device name>"
  void *weights = nullptr, *arena = nullptr;
  std::vector<void *> inputs, outputs;
  /// Buffers are the model's own: one run at a time.
  std::mutex running;

  ~DeviceModel() {
    if (!free)
      return;
    for (void *buffer : inputs)
      free(buffer);
    for (void *buffer : outputs)
      free(buffer);
    free(weights);
    free(arena);
  }
};

struct PithModel {
  void *library = nullptr;
  std::unique_ptr<DeviceModel> device;
  PackedEntry entry = nullptr;
  ModelMetadata metadata;
  const char *weights = nullptr;
  size_t weightsSize = 0;
  std::unique_ptr<ArenaPool> arenas;

  ~PithModel() {
    device.reset(); // before the library (and the GPU runtime) goes
    if (weights) {
      // The kernels (linked by the model library) may hold reordered copies
      // of these weights, keyed by address.
      using Forget = void (*)(const void *, const void *);
      if (library)
        if (auto forget = reinterpret_cast<Forget>(dlsym(library, "pith_kernel_forget_weights")))
          forget(weights, weights + weightsSize);
      munmap(const_cast<char *>(weights), weightsSize);
    }
    if (library)
      dlclose(library);
  }
};

namespace {
PithStatus *fail(const std::string &message) { return new PithStatus{message}; }

std::string shapeText(const int64_t *shape, int64_t rank) {
  std::string text = "[";
  for (int64_t i = 0; i < rank; ++i)
    text += (i ? "," : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return text + "]";
}

/// Checks a caller's tensor against the model's value description.
std::string check(const char *role, const ModelMetadata::Value &value,
                  const PithTensor &tensor) {
  std::string what = std::string(role) + " '" + value.name + "'";
  if (tensor.dataType != value.dataType)
    return what + " must have data type " + std::to_string(value.dataType) +
           ", got " + std::to_string(tensor.dataType);
  bool ok = tensor.rank == static_cast<int64_t>(value.shape.size()) &&
            (tensor.rank == 0 || tensor.shape);
  for (int64_t d = 0; ok && d < tensor.rank; ++d)
    ok = value.shape[d] < 0 || value.shape[d] == tensor.shape[d];
  if (!ok)
    return what + " must have shape " +
           shapeText(value.shape.data(), value.shape.size()) + ", got " +
           shapeText(tensor.shape, tensor.rank);
  if (!tensor.data)
    return what + " has no data";
  return "";
}
unsigned elementBytes(int32_t dataType) {
  switch (dataType) {
  case 1: case 6: case 12: return 4;    // float, int32, uint32
  case 7: case 11: case 13: return 8;   // int64, double, uint64
  case 10: case 16: case 5: case 4: return 2; // float16, bfloat16, int16, uint16
  default: return 1;                    // int8, uint8, bool, ...
  }
}

uint64_t bytesOf(const ModelMetadata::Value &value) {
  uint64_t count = 1;
  for (int64_t d : value.shape)
    count *= static_cast<uint64_t>(d);
  return count * elementBytes(value.dataType);
}

/// Opens the GPU runtime the library links, uploads the weights once and
/// allocates every buffer a run needs.
std::string prepareDevice(PithModel &model, const std::string &libraryPath) {
  auto device = std::make_unique<DeviceModel>();
  DeviceModel &d = *device;
  auto find = [&](auto &slot, const char *name) {
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(dlsym(model.library, name));
    return slot != nullptr;
  };
  if (!find(d.initialize, "pith_cuda_initialize") || !find(d.takeError, "pith_cuda_take_error") ||
      !find(d.deviceName, "pith_cuda_device_name") || !find(d.alloc, "pith_cuda_alloc") ||
      !find(d.free, "pith_cuda_free") || !find(d.toDevice, "pith_cuda_to_device") ||
      !find(d.toHost, "pith_cuda_to_host") || !find(d.setMath, "pith_cuda_set_math"))
    return libraryPath + ": compiled for cuda but Pith's GPU runtime is missing";
  const char *maths[] = {"fp32", "tf32", "fp16", "bf16"};
  auto math = std::find(std::begin(maths), std::end(maths), model.metadata.gpuMath);
  if (math == std::end(maths))
    return libraryPath + ": unknown GPU math '" + model.metadata.gpuMath + "'";
  d.math = static_cast<int32_t>(math - std::begin(maths));
  // The library's constructor loaded its kernels: that too may have failed.
  int status = d.initialize();
  std::string problem = d.takeError();
  if (status != 0 || !problem.empty())
    return libraryPath + ": " + problem;
  d.description = std::string("cuda: ") + d.deviceName();
  d.weights = d.alloc(model.weightsSize);
  d.arena = d.alloc(model.metadata.arenaBytes);
  for (const auto &input : model.metadata.inputs)
    d.inputs.push_back(d.alloc(bytesOf(input)));
  for (const auto &output : model.metadata.outputs)
    d.outputs.push_back(d.alloc(bytesOf(output)));
  d.toDevice(d.weights, model.weights, model.weightsSize);
  problem = d.takeError();
  model.device = std::move(device);
  return problem.empty() ? "" : libraryPath + ": " + problem;
}

/// Runs a cuda model: inputs to its device buffers, the graph on device
/// memory, outputs back (every shape is static). Host<->device copies
/// happen only here, at the model's boundary.
PithStatus *runOnDevice(PithModel *model, const PithTensor *inputs, PithTensor *outputs,
                        bool callerAllocates) {
  const ModelMetadata &meta = model->metadata;
  DeviceModel &d = *model->device;
  for (size_t i = 0; i < meta.inputs.size(); ++i)
    if (std::string problem = check("input", meta.inputs[i], inputs[i]); !problem.empty())
      return fail(problem);
  if (callerAllocates)
    for (size_t i = 0; i < meta.outputs.size(); ++i)
      if (std::string problem = check("output", meta.outputs[i], outputs[i]);
          !problem.empty())
        return fail(problem);
  std::lock_guard<std::mutex> lock(d.running);
  std::vector<std::vector<int64_t>> descriptors;
  for (size_t i = 0; i < meta.inputs.size(); ++i) {
    d.toDevice(d.inputs[i], inputs[i].data, bytesOf(meta.inputs[i]));
    descriptors.push_back(makeDescriptor(d.inputs[i], meta.inputs[i].shape));
  }
  for (const auto &weight : meta.weights)
    descriptors.push_back(
        makeDescriptor(static_cast<char *>(d.weights) + weight.offset, weight.shape));
  for (size_t i = 0; i < meta.outputs.size(); ++i)
    descriptors.push_back(makeDescriptor(d.outputs[i], meta.outputs[i].shape));
  descriptors.push_back(makeDescriptor(d.arena, {meta.arenaBytes}));
  std::vector<void *> pointers;
  for (auto &desc : descriptors)
    pointers.push_back(desc.data());
  d.setMath(d.math);
  model->entry(pointers.data());
  for (size_t i = 0; i < meta.outputs.size(); ++i)
    d.toHost(outputs[i].data, d.outputs[i], bytesOf(meta.outputs[i]));
  if (std::string problem = d.takeError(); !problem.empty())
    return fail(problem);
  return nullptr;
}
} // namespace

extern "C" {

int32_t pithRuntimeApiVersion(void) { return PITH_RUNTIME_API_VERSION; }

PithStatus *pithModelLoad(const char *libraryPath, const char *weightsPath,
                          PithModel **out) {
  if (!libraryPath || !out)
    return fail("pithModelLoad: library path and output pointer are required");
  *out = nullptr;
  auto model = std::make_unique<PithModel>();
  model->library = dlopen(libraryPath, RTLD_NOW | RTLD_LOCAL);
  if (!model->library)
    return fail(std::string(libraryPath) + ": cannot load: " + dlerror());
  auto *text = static_cast<const char *>(dlsym(model->library, kMetadataSymbol));
  model->entry = reinterpret_cast<PackedEntry>(dlsym(model->library, kEntrySymbol));
  if (!text || !model->entry)
    return fail(std::string(libraryPath) + ": not a model compiled by Pith");
  if (std::string problem = model->metadata.parse(text); !problem.empty())
    return fail(std::string(libraryPath) + ": " + problem);

  std::string weights = weightsPath ? weightsPath : std::string(libraryPath) + ".weights";
  int fd = open(weights.c_str(), O_RDONLY);
  if (fd < 0)
    return fail(weights + ": cannot open the weights file");
  struct stat info;
  if (fstat(fd, &info) != 0 || info.st_size < static_cast<off_t>(kWeightsHeaderBytes)) {
    close(fd);
    return fail(weights + ": not a Pith weights file (too short)");
  }
  model->weightsSize = info.st_size;
  void *mapped = mmap(nullptr, model->weightsSize, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mapped == MAP_FAILED)
    return fail(weights + ": cannot map the weights file");
  model->weights = static_cast<const char *>(mapped);
  uint64_t hash, payload;
  std::memcpy(&hash, model->weights + 8, sizeof(hash));
  std::memcpy(&payload, model->weights + 16, sizeof(payload));
  if (std::memcmp(model->weights, kWeightsMagic, sizeof(kWeightsMagic)) != 0)
    return fail(weights + ": not a Pith weights file");
  if (hash != model->metadata.weightsHash)
    return fail(weights + ": these weights belong to another model (hash mismatch)");
  if (payload > model->weightsSize)
    return fail(weights + ": truncated weights file");
  for (const auto &weight : model->metadata.weights)
    if (weight.offset + weight.bytes > model->weightsSize)
      return fail(weights + ": weight '" + weight.name + "' lies beyond the file");
  if (model->metadata.target == "cuda") {
    if (std::string problem = prepareDevice(*model, libraryPath); !problem.empty())
      return fail(problem);
  } else {
    model->arenas = std::make_unique<ArenaPool>(model->metadata.arenaBytes);
    // The kernels the library links may keep reordered copies of these
    // (constant) weights; libraries built before this hook lack it.
    using Register = void (*)(const void *, const void *);
    if (auto registerWeights = reinterpret_cast<Register>(
            dlsym(model->library, "pith_kernel_register_weights")))
      registerWeights(model->weights, model->weights + model->weightsSize);
  }
  *out = model.release();
  return nullptr;
}

void pithModelFree(PithModel *model) { delete model; }

int64_t pithModelNumInputs(const PithModel *m) { return m->metadata.inputs.size(); }
int64_t pithModelNumOutputs(const PithModel *m) { return m->metadata.outputs.size(); }
const char *pithModelInputName(const PithModel *m, int64_t i) {
  return m->metadata.inputs.at(i).name.c_str();
}
int32_t pithModelInputType(const PithModel *m, int64_t i) {
  return m->metadata.inputs.at(i).dataType;
}
int64_t pithModelInputRank(const PithModel *m, int64_t i) {
  return m->metadata.inputs.at(i).shape.size();
}
const int64_t *pithModelInputShape(const PithModel *m, int64_t i) {
  return m->metadata.inputs.at(i).shape.data();
}
const char *pithModelOutputName(const PithModel *m, int64_t i) {
  return m->metadata.outputs.at(i).name.c_str();
}
int32_t pithModelOutputType(const PithModel *m, int64_t i) {
  return m->metadata.outputs.at(i).dataType;
}
int64_t pithModelOutputRank(const PithModel *m, int64_t i) {
  return m->metadata.outputs.at(i).shape.size();
}
const int64_t *pithModelOutputShape(const PithModel *m, int64_t i) {
  return m->metadata.outputs.at(i).shape.data();
}
int64_t pithModelPeakIntermediateBytes(const PithModel *m) {
  return m->metadata.arenaBytes;
}

const char *pithModelDevice(const PithModel *m) {
  return m->device ? m->device->description.c_str() : "cpu";
}

} // extern "C"

namespace {

/// Runs the model. Outputs with a static shape are written into
/// `outputs[i].data` directly; the others come back from the graph and are
/// handed to `deliver(i, shape, results)`.
template <typename Deliver>
PithStatus *run(PithModel *model, const PithTensor *inputs, int64_t numInputs,
                PithTensor *outputs, int64_t numOutputs, bool callerAllocates,
                Deliver deliver) {
  const ModelMetadata &meta = model->metadata;
  if (numInputs != static_cast<int64_t>(meta.inputs.size()) ||
      numOutputs != static_cast<int64_t>(meta.outputs.size()))
    return fail("the model takes " + std::to_string(meta.inputs.size()) +
                " inputs and " + std::to_string(meta.outputs.size()) +
                " outputs, got " + std::to_string(numInputs) + " and " +
                std::to_string(numOutputs));
  if (model->device)
    return runOnDevice(model, inputs, outputs, callerAllocates);
  std::vector<std::vector<int64_t>> descriptors;
  auto add = [&](const void *data, const int64_t *shape, int64_t rank) {
    descriptors.push_back(makeDescriptor(data, std::vector<int64_t>(shape, shape + rank)));
  };
  for (int64_t i = 0; i < numInputs; ++i) {
    if (std::string problem = check("input", meta.inputs[i], inputs[i]); !problem.empty())
      return fail(problem);
    add(inputs[i].data, inputs[i].shape, inputs[i].rank);
  }
  for (const auto &weight : meta.weights)
    add(model->weights + weight.offset, weight.shape.data(), weight.shape.size());
  std::vector<std::vector<int64_t>> shapes;
  std::vector<size_t> ranks;
  for (const auto &output : meta.outputs) {
    shapes.push_back(output.shape);
    ranks.push_back(output.shape.size());
  }
  bool returned = returnsOutputs(shapes);
  if (!returned)
    for (int64_t i = 0; i < numOutputs; ++i) {
      if (callerAllocates)
        if (std::string problem = check("output", meta.outputs[i], outputs[i]);
            !problem.empty())
          return fail(problem);
      add(outputs[i].data, meta.outputs[i].shape.data(), meta.outputs[i].shape.size());
    }
  // An arena per concurrent run, reused across runs.
  void *arena = model->arenas->acquire();
  int64_t arenaSize = model->arenas->size();
  add(arena, &arenaSize, 1);
  ReturnedOutputs results(ranks);
  std::vector<void *> pointers;
  if (returned)
    pointers.push_back(results.slot());
  for (auto &desc : descriptors)
    pointers.push_back(desc.data());
  model->entry(pointers.data());
  model->arenas->release(arena);
  if (!returned)
    return nullptr;
  for (int64_t i = 0; i < numOutputs; ++i)
    if (PithStatus *status = deliver(i, results.shape(i), results))
      return status;
  return nullptr;
}
} // namespace

extern "C" {

PithStatus *pithModelRun(PithModel *model, const PithTensor *inputs,
                         int64_t numInputs, PithTensor *outputs,
                         int64_t numOutputs) {
  if (numOutputs == static_cast<int64_t>(model->metadata.outputs.size()))
    for (int64_t i = 0; i < numOutputs; ++i)
      if (std::string problem = check("output", model->metadata.outputs[i], outputs[i]);
          !problem.empty())
        return fail(problem);
  return run(model, inputs, numInputs, outputs, numOutputs, /*callerAllocates=*/true,
             [&](int64_t i, const std::vector<int64_t> &shape,
                 const ReturnedOutputs &results) -> PithStatus * {
               const auto &meta = model->metadata.outputs[i];
               std::vector<int64_t> given(outputs[i].shape,
                                          outputs[i].shape + outputs[i].rank);
               if (given != shape)
                 return fail("output '" + meta.name + "' has shape " +
                             shapeText(shape.data(), shape.size()) +
                             " for these inputs; the buffer given is " +
                             shapeText(given.data(), given.size()));
               results.copyTo(i, outputs[i].data, elementBytes(meta.dataType));
               return nullptr;
             });
}

PithStatus *pithModelRunAllocating(PithModel *model, const PithTensor *inputs,
                                   int64_t numInputs, PithTensor *outputs,
                                   int64_t numOutputs) {
  const auto &meta = model->metadata;
  if (numOutputs != static_cast<int64_t>(meta.outputs.size()))
    return fail("the model has " + std::to_string(meta.outputs.size()) +
                " outputs, got " + std::to_string(numOutputs));
  // Static outputs: allocated before the run, written in place.
  auto allocate = [&](int64_t i, const std::vector<int64_t> &shape) {
    int64_t count = 1;
    for (int64_t d : shape)
      count *= d;
    auto *dims = static_cast<int64_t *>(std::malloc(sizeof(int64_t) * (shape.size() + 1)));
    std::copy(shape.begin(), shape.end(), dims);
    outputs[i] = PithTensor{meta.outputs[i].dataType, static_cast<int64_t>(shape.size()),
                            dims,
                            std::malloc(std::max<int64_t>(count, 1) *
                                        elementBytes(meta.outputs[i].dataType))};
  };
  std::vector<std::vector<int64_t>> shapes;
  for (const auto &output : meta.outputs)
    shapes.push_back(output.shape);
  bool returned = returnsOutputs(shapes);
  for (int64_t i = 0; i < numOutputs; ++i)
    outputs[i] = PithTensor{0, 0, nullptr, nullptr};
  if (!returned)
    for (int64_t i = 0; i < numOutputs; ++i)
      allocate(i, meta.outputs[i].shape);
  PithStatus *status = run(
      model, inputs, numInputs, outputs, numOutputs, /*callerAllocates=*/false,
      [&](int64_t i, const std::vector<int64_t> &shape,
          const ReturnedOutputs &results) -> PithStatus * {
        allocate(i, shape);
        results.copyTo(i, outputs[i].data, elementBytes(meta.outputs[i].dataType));
        return nullptr;
      });
  if (status)
    for (int64_t i = 0; i < numOutputs; ++i)
      pithTensorRelease(&outputs[i]);
  return status;
}

void pithTensorRelease(PithTensor *tensor) {
  std::free(const_cast<int64_t *>(tensor->shape));
  std::free(tensor->data);
  *tensor = PithTensor{0, 0, nullptr, nullptr};
}

const char *pithStatusMessage(const PithStatus *status) {
  return status ? status->message.c_str() : "success";
}

void pithStatusFree(PithStatus *status) { delete status; }

} // extern "C"
