/*===- pith-c/Pith.h - Pith as a library, from C ---------------------------===*
 *
 * Load an ONNX model, run Pith's pass pipelines on it (the syntax of
 * `pith optimize --pipeline`), read what the passes reported, write ONNX
 * back, compile it for the CPU in process and run it. A thin layer over the
 * C++ API (include/pith/API/Pith.h); link libpith.so.
 *
 * Conventions are those of pith-c/Runtime.h, whose PithStatus and
 * PithTensor this header shares: a function that can fail returns a
 * PithStatus*, NULL on success, which the caller frees with pithStatusFree;
 * outputs are written only on success. Data types are ONNX
 * TensorProto.DataType codes. Strings and buffers this API allocates are
 * freed with pithFree. A NULL handle is an error, never a crash. A compiled
 * model may be run from several threads at once; an ONNX model is edited
 * from one thread at a time.
 *
 *===----------------------------------------------------------------------===*/

#ifndef PITH_C_PITH_H
#define PITH_C_PITH_H

#include "pith-c/Runtime.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bumped on every incompatible change of this header. */
#define PITH_API_VERSION 1

/** The API version of the library (PITH_API_VERSION it was built with). */
int32_t pithApiVersion(void);

/** An ONNX model in Pith's IR, being transformed. */
typedef struct PithOnnxModel PithOnnxModel;
/** A model compiled for the CPU in this process. */
typedef struct PithCompiledModel PithCompiledModel;

/** Loads binary ONNX (or ONNX text for .onnxtxt/.txt). */
PithStatus *pithOnnxModelLoad(const char *path, PithOnnxModel **model);
/** Loads binary ONNX from memory; `name` (may be NULL) names it in messages. */
PithStatus *pithOnnxModelLoadBytes(const void *bytes, size_t size, const char *name,
                                   PithOnnxModel **model);
void pithOnnxModelFree(PithOnnxModel *model);

/** Runs a pass pipeline, e.g. "pith-dedup-weights,pith-low-rank{energy=0.99}".
 *  `calibrationPath` (numpy .npz, may be NULL) gives lossy passes their
 *  calibration inputs. On failure the model is unchanged. */
PithStatus *pithOnnxModelOptimize(PithOnnxModel *model, const char *pipeline,
                                  const char *calibrationPath);
/** What the passes reported and the model's cost, as JSON (free with pithFree). */
PithStatus *pithOnnxModelReportJson(const PithOnnxModel *model, char **json);
/** Writes standard ONNX; the file is replaced atomically. */
PithStatus *pithOnnxModelSave(const PithOnnxModel *model, const char *path);
/** Standard ONNX in memory (free `*bytes` with pithFree). */
PithStatus *pithOnnxModelToBytes(const PithOnnxModel *model, void **bytes, size_t *size);
/** Compiles the model as it is now for `target`: "cpu", or "cuda" (the
 *  first NVIDIA GPU, exact fp32 math; every input shape must be static). */
PithStatus *pithOnnxModelCompile(const PithOnnxModel *model, const char *target,
                                 PithCompiledModel **compiled);

void pithCompiledModelFree(PithCompiledModel *model);
int64_t pithCompiledModelNumInputs(const PithCompiledModel *model);
int64_t pithCompiledModelNumOutputs(const PithCompiledModel *model);
/** Name, data type, rank and shape (-1: any size) of input or output
 *  `index`; the pointers live as long as the model. NULL / 0 / -1 for a NULL
 *  model or an index out of range. */
const char *pithCompiledModelInputName(const PithCompiledModel *model, int64_t index);
int32_t pithCompiledModelInputType(const PithCompiledModel *model, int64_t index);
int64_t pithCompiledModelInputRank(const PithCompiledModel *model, int64_t index);
const int64_t *pithCompiledModelInputShape(const PithCompiledModel *model, int64_t index);
const char *pithCompiledModelOutputName(const PithCompiledModel *model, int64_t index);
int32_t pithCompiledModelOutputType(const PithCompiledModel *model, int64_t index);
int64_t pithCompiledModelOutputRank(const PithCompiledModel *model, int64_t index);
const int64_t *pithCompiledModelOutputShape(const PithCompiledModel *model, int64_t index);
/** Bytes of the planned arena for intermediates (-1 for a NULL model). */
int64_t pithCompiledModelPeakIntermediateBytes(const PithCompiledModel *model);
/** Runs the model on `inputs` (read in place, checked against the model's
 *  types and shapes) and allocates `outputs` (numOutputs of them): release
 *  each with pithTensorRelease. On failure no output is left allocated. */
PithStatus *pithCompiledModelRun(const PithCompiledModel *model, const PithTensor *inputs,
                                 int64_t numInputs, PithTensor *outputs, int64_t numOutputs);

/** How pithOnnxModelTrain trains (the fields of pith::api::TrainOptions and
 *  the flags of `pith train`); pithTrainOptionsInit sets the defaults. */
typedef struct PithTrainOptions {
  const char *loss;       /* "cross-entropy", "mse" or "output" */
  const char *lossOutput; /* NULL: the first output */
  const char *optimizer;  /* "adamw" or "sgd" */
  const char *schedule;   /* "constant", "cosine" or "one-cycle" */
  double learningRate, warmupFraction, weightDecay, momentum, beta1, beta2, epsilon;
  int64_t epochs, batchSize;
  uint64_t seed;
  const char *const *freeze; /* initializer names not to train */
  int64_t numFreeze;
  const char *memoryBudget; /* NULL: keep every activation; "64MB" or "0.5" */
  const char *rematSolver;  /* "greedy" (default), "ilp", "chain" or "sqrt" */
  double clipNorm;          /* gradients scaled to this global norm if larger; 0: off */
} PithTrainOptions;

void pithTrainOptionsInit(PithTrainOptions *options);

/** Trains the model's float weights on `data` (numData arrays named
 *  `names`: the graph inputs and "labels" or "targets", samples along the
 *  first axis) and writes the trained weights into the model. `runJson`
 *  (may be NULL) receives {"epochs": [{"epoch", "loss", "steps", "seconds",
 *  "samples_per_second"}], "losses": [...], "arena_bytes", "step_bytes"};
 *  release it with pithFree. On failure the model is unchanged. */
PithStatus *pithOnnxModelTrain(PithOnnxModel *model, const char *const *names,
                               const PithTensor *data, int64_t numData,
                               const PithTrainOptions *options, char **runJson);

/** Frees a string or buffer this API allocated. */
void pithFree(void *pointer);

#ifdef __cplusplus
}
#endif

#endif /* PITH_C_PITH_H */
