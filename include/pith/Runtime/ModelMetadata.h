//===- ModelMetadata.h - What a compiled model says about itself -*- C++ -*-===//
//
// The interface of a compiled model (inputs, outputs, weights, arena size)
// and the layout of its weights file. Written by the compiler into the
// shared library (`pith_model_metadata`, a text block) and read by the
// runtime loader, which depends on nothing but the C++ standard library.
//
// Weights file: a 64-byte header (magic "PITHWT1\0", the weights hash, the
// payload size, zero padding), then each weight at a 64-byte aligned offset.
// The hash (FNV-1a over names and bytes) is also in the library's metadata:
// a weights file of another model does not load.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_RUNTIME_MODELMETADATA_H
#define PITH_RUNTIME_MODELMETADATA_H

#include <cstdint>
#include <string>
#include <vector>

namespace pith {

struct ModelMetadata {
  struct Value {
    std::string name;
    int32_t dataType = 0;
    std::vector<int64_t> shape; // -1: dynamic
  };
  struct Weight {
    std::string name;
    int32_t dataType = 0;
    std::vector<int64_t> shape;
    uint64_t offset = 0; // in the weights file
    uint64_t bytes = 0;
  };
  uint64_t weightsHash = 0;
  int64_t arenaBytes = 0;
  /// Where the code runs: "cpu", or "cuda" (buffers in GPU memory, through
  /// libpith_cuda_runtime.so, which the library links).
  std::string target = "cpu";
  /// For cuda: how GEMMs and convolutions compute (pith::GPUMath as text).
  std::string gpuMath = "fp32";
  std::vector<Value> inputs, outputs;
  std::vector<Weight> weights;

  std::string serialize() const;
  /// Parses what serialize() wrote; returns an error message or "".
  std::string parse(const std::string &text);
};

inline constexpr char kWeightsMagic[8] = {'P', 'I', 'T', 'H', 'W', 'T', '1', '\0'};
inline constexpr uint64_t kWeightsHeaderBytes = 64;
inline constexpr uint64_t kWeightsAlignment = 64;

/// FNV-1a, 64 bit, continuing from `hash`.
uint64_t fnv1a(const void *data, uint64_t size,
               uint64_t hash = 0xcbf29ce484222325ull);

/// The symbol names the compiled library exports.
inline constexpr const char *kMetadataSymbol = "pith_model_metadata";
inline constexpr const char *kEntrySymbol = "pith_graph_packed";

} // namespace pith

#endif // PITH_RUNTIME_MODELMETADATA_H
