/* Runs a model compiled by `pith compile MODEL.onnx -o model.so` through the
 * C API (include/pith-c/Runtime.h): prints the model's interface, fills every
 * float input with a fixed ramp, runs, and prints the output shapes and first
 * values. Symbolic input dimensions (-1) take each size given with --size:
 * one compiled library runs at all of them.
 *
 *   run_model model.so [model.so.weights] [--size N]...
 */
#include "pith-c/Runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t elementsOf(const int64_t *shape, int64_t rank) {
  int64_t n = 1;
  for (int64_t i = 0; i < rank; ++i)
    n *= shape[i];
  return n;
}

static int fail(PithStatus *status) {
  fprintf(stderr, "run_model: error: %s\n", pithStatusMessage(status));
  pithStatusFree(status);
  return 1;
}

/* One run with every symbolic input dimension set to `size`. */
static int runAtSize(PithModel *model, int64_t size) {
  int64_t numInputs = pithModelNumInputs(model);
  int64_t numOutputs = pithModelNumOutputs(model);
  PithTensor *inputs = calloc(numInputs, sizeof(PithTensor));
  PithTensor *outputs = calloc(numOutputs, sizeof(PithTensor));
  int64_t **shapes = calloc(numInputs, sizeof(int64_t *));
  for (int64_t i = 0; i < numInputs; ++i) {
    PithTensor *t = &inputs[i];
    t->dataType = pithModelInputType(model, i);
    t->rank = pithModelInputRank(model, i);
    shapes[i] = malloc((t->rank + 1) * sizeof(int64_t));
    for (int64_t d = 0; d < t->rank; ++d) {
      int64_t dim = pithModelInputShape(model, i)[d];
      shapes[i][d] = dim < 0 ? size : dim;
    }
    t->shape = shapes[i];
    int64_t n = elementsOf(t->shape, t->rank);
    float *data = malloc((n + 1) * sizeof(float));
    for (int64_t e = 0; e < n; ++e)
      data[e] = (float)(e % 7) * 0.25f - 0.5f;
    t->data = data;
    printf("input %s: %lld elements\n", pithModelInputName(model, i), (long long)n);
  }
  /* The runtime allocates the outputs: their shapes may depend on the
   * inputs'. */
  PithStatus *status = pithModelRunAllocating(model, inputs, numInputs, outputs, numOutputs);
  if (status)
    return fail(status);
  for (int64_t i = 0; i < numOutputs; ++i) {
    const float *data = outputs[i].data;
    int64_t n = elementsOf(outputs[i].shape, outputs[i].rank);
    printf("output %s [", pithModelOutputName(model, i));
    for (int64_t d = 0; d < outputs[i].rank; ++d)
      printf(d ? ",%lld" : "%lld", (long long)outputs[i].shape[d]);
    printf("]:");
    for (int64_t e = 0; e < n && e < 8; ++e)
      printf(" %.4f", data[e]);
    printf("\n");
    pithTensorRelease(&outputs[i]);
  }
  for (int64_t i = 0; i < numInputs; ++i) {
    free(inputs[i].data);
    free(shapes[i]);
  }
  free(shapes);
  free(inputs);
  free(outputs);
  return 0;
}

int main(int argc, char **argv) {
  const char *library = NULL, *weights = NULL;
  int64_t sizes[16];
  int numSizes = 0;
  for (int a = 1; a < argc; ++a) {
    if (strcmp(argv[a], "--size") == 0 && a + 1 < argc && numSizes < 16)
      sizes[numSizes++] = atoll(argv[++a]);
    else if (!library)
      library = argv[a];
    else if (!weights)
      weights = argv[a];
  }
  if (!library) {
    fprintf(stderr, "usage: run_model model.so [weights] [--size N]...\n");
    return 2;
  }
  if (numSizes == 0)
    sizes[numSizes++] = 1;
  PithModel *model = NULL;
  PithStatus *status = pithModelLoad(library, weights, &model);
  if (status)
    return fail(status);
  for (int s = 0; s < numSizes; ++s)
    if (runAtSize(model, sizes[s]))
      return 1;
  printf("peak intermediate bytes: %lld\n",
         (long long)pithModelPeakIntermediateBytes(model));
  pithModelFree(model);
  return 0;
}
