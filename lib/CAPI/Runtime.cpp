//===- Runtime.cpp - Run compiled Pith models from C ----------------------===//
//
// Implements include/pith-c/Runtime.h. Deliberately depends on nothing but
// the C++ standard library and POSIX (dlopen, mmap): applications that run
// compiled models do not link MLIR or LLVM.
//
//===----------------------------------------------------------------------===//

#include "pith-c/Runtime.h"

#include "pith/Runtime/ArenaPool.h"
#include "pith/Runtime/MemRefDescriptor.h"
#include "pith/Runtime/ModelMetadata.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <dlfcn.h>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace pith;

struct PithStatus {
  std::string message;
};

struct PithModel {
  void *library = nullptr;
  PackedEntry entry = nullptr;
  ModelMetadata metadata;
  const char *weights = nullptr;
  size_t weightsSize = 0;
  std::unique_ptr<ArenaPool> arenas;

  ~PithModel() {
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
  model->arenas = std::make_unique<ArenaPool>(model->metadata.arenaBytes);
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

PithStatus *pithModelRun(PithModel *model, const PithTensor *inputs,
                         int64_t numInputs, PithTensor *outputs,
                         int64_t numOutputs) {
  const ModelMetadata &meta = model->metadata;
  if (numInputs != static_cast<int64_t>(meta.inputs.size()) ||
      numOutputs != static_cast<int64_t>(meta.outputs.size()))
    return fail("the model takes " + std::to_string(meta.inputs.size()) +
                " inputs and " + std::to_string(meta.outputs.size()) +
                " outputs, got " + std::to_string(numInputs) + " and " +
                std::to_string(numOutputs));
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
  for (int64_t i = 0; i < numOutputs; ++i) {
    if (std::string problem = check("output", meta.outputs[i], outputs[i]); !problem.empty())
      return fail(problem);
    for (int64_t d : meta.outputs[i].shape)
      if (d < 0)
        return fail("output '" + meta.outputs[i].name +
                    "' has a dynamic shape; not supported yet");
    add(outputs[i].data, outputs[i].shape, outputs[i].rank);
  }
  // An arena per concurrent run, reused across runs.
  void *arena = model->arenas->acquire();
  int64_t arenaSize = model->arenas->size();
  add(arena, &arenaSize, 1);
  std::vector<void *> pointers;
  for (auto &desc : descriptors)
    pointers.push_back(desc.data());
  model->entry(pointers.data());
  model->arenas->release(arena);
  return nullptr;
}

const char *pithStatusMessage(const PithStatus *status) {
  return status ? status->message.c_str() : "success";
}

void pithStatusFree(PithStatus *status) { delete status; }

} // extern "C"
