/*===- pith-c/Runtime.h - Run compiled Pith models from C -----------------===*
 *
 * A model compiled ahead of time by `pith compile MODEL.onnx -o model.so`
 * is a shared library plus a weights file (model.so.weights). This API loads
 * the pair, describes the model's inputs and outputs, and runs it. The
 * weights file is mapped, not copied; a weights file written for another
 * model is refused.
 *
 * Conventions: functions that can fail return a PithStatus*, NULL on
 * success; the caller frees a non-NULL status with pithStatusFree. Data
 * types are ONNX TensorProto.DataType codes (1 = float, 7 = int64, 9 = bool,
 * ...). Tensors are dense, row-major, little-endian; bools take one byte.
 * A loaded model may be run from several threads at once.
 *
 *===----------------------------------------------------------------------===*/

#ifndef PITH_C_RUNTIME_H
#define PITH_C_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bumped on every incompatible change of this header. */
#define PITH_RUNTIME_API_VERSION 2

typedef struct PithModel PithModel;
typedef struct PithStatus PithStatus;

/** A tensor the caller owns: `data` holds product(shape) elements. */
typedef struct PithTensor {
  int32_t dataType;
  int64_t rank;
  const int64_t *shape;
  void *data;
} PithTensor;

/** The API version of the library (PITH_RUNTIME_API_VERSION it was built with). */
int32_t pithRuntimeApiVersion(void);

/** Loads a compiled model. `weightsPath` may be NULL for "<library>.weights". */
PithStatus *pithModelLoad(const char *libraryPath, const char *weightsPath,
                          PithModel **model);
void pithModelFree(PithModel *model);

int64_t pithModelNumInputs(const PithModel *model);
int64_t pithModelNumOutputs(const PithModel *model);
/** Name, data type, rank and shape of input or output `index`; a dynamic
 *  dimension is -1. The pointers live as long as the model. */
const char *pithModelInputName(const PithModel *model, int64_t index);
int32_t pithModelInputType(const PithModel *model, int64_t index);
int64_t pithModelInputRank(const PithModel *model, int64_t index);
const int64_t *pithModelInputShape(const PithModel *model, int64_t index);
const char *pithModelOutputName(const PithModel *model, int64_t index);
int32_t pithModelOutputType(const PithModel *model, int64_t index);
int64_t pithModelOutputRank(const PithModel *model, int64_t index);
const int64_t *pithModelOutputShape(const PithModel *model, int64_t index);

/** Bytes of the planned arena for intermediate buffers: the peak memory a
 *  run needs besides inputs, outputs and weights. */
int64_t pithModelPeakIntermediateBytes(const PithModel *model);

/** Where the model runs: "cpu", or for a model compiled with --target cuda
 *  "cuda: " and the GPU's name and architecture. */
const char *pithModelDevice(const PithModel *model);

/** Runs the model. Inputs are checked against the model's data types and
 *  shapes (a -1 dimension takes any size: a model with symbolic dimensions
 *  is compiled once and runs at every size). Outputs must be allocated by
 *  the caller with the shapes these inputs produce; for a symbolic output
 *  dimension a shape that differs from the produced one is an error (see
 *  pithModelRunAllocating when the caller cannot know it). */
PithStatus *pithModelRun(PithModel *model, const PithTensor *inputs,
                         int64_t numInputs, PithTensor *outputs,
                         int64_t numOutputs);
/** Runs the model and allocates the outputs: fills `outputs[i]` (data type,
 *  rank, shape, data) for the shapes these inputs produce. Release each with
 *  pithTensorRelease. On failure no output is left allocated. */
PithStatus *pithModelRunAllocating(PithModel *model, const PithTensor *inputs,
                                   int64_t numInputs, PithTensor *outputs,
                                   int64_t numOutputs);
/** Frees the shape and data pithModelRunAllocating allocated for `tensor`
 *  and clears it. */
void pithTensorRelease(PithTensor *tensor);

/** The status's one-line message. */
const char *pithStatusMessage(const PithStatus *status);
void pithStatusFree(PithStatus *status);

#ifdef __cplusplus
}
#endif

#endif /* PITH_C_RUNTIME_H */
