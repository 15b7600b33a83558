/* Runs a model compiled by `pith compile MODEL.onnx -o model.so` through the
 * C API (include/pith-c/Runtime.h): prints the model's interface, fills every
 * float input with a fixed ramp, runs, and prints the first outputs.
 *
 *   run_model model.so [model.so.weights]
 */
#include "pith-c/Runtime.h"

#include <stdio.h>
#include <stdlib.h>

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

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: run_model model.so [weights]\n");
    return 2;
  }
  PithModel *model = NULL;
  PithStatus *status = pithModelLoad(argv[1], argc > 2 ? argv[2] : NULL, &model);
  if (status)
    return fail(status);

  int64_t numInputs = pithModelNumInputs(model);
  int64_t numOutputs = pithModelNumOutputs(model);
  PithTensor *inputs = calloc(numInputs, sizeof(PithTensor));
  PithTensor *outputs = calloc(numOutputs, sizeof(PithTensor));
  for (int64_t i = 0; i < numInputs; ++i) {
    PithTensor *t = &inputs[i];
    t->dataType = pithModelInputType(model, i);
    t->rank = pithModelInputRank(model, i);
    t->shape = pithModelInputShape(model, i);
    int64_t n = elementsOf(t->shape, t->rank);
    float *data = malloc(n * sizeof(float));
    for (int64_t e = 0; e < n; ++e)
      data[e] = (float)(e % 7) * 0.25f - 0.5f;
    t->data = data;
    printf("input %s: %lld elements\n", pithModelInputName(model, i), (long long)n);
  }
  for (int64_t i = 0; i < numOutputs; ++i) {
    PithTensor *t = &outputs[i];
    t->dataType = pithModelOutputType(model, i);
    t->rank = pithModelOutputRank(model, i);
    t->shape = pithModelOutputShape(model, i);
    t->data = malloc(elementsOf(t->shape, t->rank) * sizeof(float));
  }
  status = pithModelRun(model, inputs, numInputs, outputs, numOutputs);
  if (status)
    return fail(status);
  for (int64_t i = 0; i < numOutputs; ++i) {
    const float *data = outputs[i].data;
    int64_t n = elementsOf(outputs[i].shape, outputs[i].rank);
    printf("output %s:", pithModelOutputName(model, i));
    for (int64_t e = 0; e < n && e < 8; ++e)
      printf(" %.4f", data[e]);
    printf("\n");
  }
  printf("peak intermediate bytes: %lld\n",
         (long long)pithModelPeakIntermediateBytes(model));
  for (int64_t i = 0; i < numInputs; ++i)
    free(inputs[i].data);
  for (int64_t i = 0; i < numOutputs; ++i)
    free(outputs[i].data);
  free(inputs);
  free(outputs);
  pithModelFree(model);
  return 0;
}
