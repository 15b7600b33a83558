/* Pith as a library from C (include/pith-c/Pith.h): loads an ONNX model,
 * runs a pass pipeline on it, prints what the passes reported, compiles the
 * result for this CPU, runs it on a fixed ramp in every float input and
 * prints each output's shape and first values; with -o, also writes the
 * optimized model.
 *
 *   optimize_and_run MODEL.onnx 'PIPELINE' [-o OUT.onnx]
 */
#include "pith-c/Pith.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(PithStatus *status) {
  fprintf(stderr, "optimize_and_run: error: %s\n", pithStatusMessage(status));
  pithStatusFree(status);
  return 1;
}

static int64_t elementsOf(const int64_t *shape, int64_t rank) {
  int64_t n = 1;
  for (int64_t i = 0; i < rank; ++i)
    n *= shape[i];
  return n;
}

/* Runs `compiled` on ramps; symbolic dimensions take size 1. */
static int run(PithCompiledModel *compiled) {
  int64_t numInputs = pithCompiledModelNumInputs(compiled);
  int64_t numOutputs = pithCompiledModelNumOutputs(compiled);
  PithTensor *inputs = calloc((size_t)numInputs + 1, sizeof(PithTensor));
  int64_t **shapes = calloc((size_t)numInputs + 1, sizeof(int64_t *));
  PithTensor *outputs = calloc((size_t)numOutputs + 1, sizeof(PithTensor));
  int status = 0;
  for (int64_t i = 0; i < numInputs && !status; ++i) {
    int64_t rank = pithCompiledModelInputRank(compiled, i);
    const int64_t *declared = pithCompiledModelInputShape(compiled, i);
    shapes[i] = malloc(sizeof(int64_t) * (size_t)(rank + 1));
    for (int64_t d = 0; d < rank; ++d)
      shapes[i][d] = declared[d] < 0 ? 1 : declared[d];
    int64_t count = elementsOf(shapes[i], rank);
    if (pithCompiledModelInputType(compiled, i) != 1) {
      fprintf(stderr, "optimize_and_run: input '%s' is not float\n",
              pithCompiledModelInputName(compiled, i));
      status = 1;
      break;
    }
    float *data = malloc(sizeof(float) * (size_t)(count + 1));
    for (int64_t e = 0; e < count; ++e)
      data[e] = (float)(e % 7) * 0.25f - 0.5f;
    inputs[i] = (PithTensor){1, rank, shapes[i], data};
    printf("input %s: %lld elements\n", pithCompiledModelInputName(compiled, i),
           (long long)count);
  }
  if (!status) {
    PithStatus *error = pithCompiledModelRun(compiled, inputs, numInputs, outputs, numOutputs);
    if (error)
      status = fail(error);
  }
  for (int64_t o = 0; o < numOutputs && !status; ++o) {
    printf("output %s [", pithCompiledModelOutputName(compiled, o));
    for (int64_t d = 0; d < outputs[o].rank; ++d)
      printf("%s%lld", d ? "," : "", (long long)outputs[o].shape[d]);
    printf("]:");
    int64_t count = elementsOf(outputs[o].shape, outputs[o].rank);
    for (int64_t e = 0; e < count && e < 4 && outputs[o].dataType == 1; ++e)
      printf(" %.4f", ((const float *)outputs[o].data)[e]);
    printf("\n");
    pithTensorRelease(&outputs[o]);
  }
  for (int64_t i = 0; i < numInputs; ++i) {
    free(inputs[i].data);
    free(shapes[i]);
  }
  free(inputs);
  free(shapes);
  free(outputs);
  return status;
}

int main(int argc, char **argv) {
  if (argc != 3 && !(argc == 5 && strcmp(argv[3], "-o") == 0)) {
    fprintf(stderr, "usage: optimize_and_run MODEL.onnx 'PIPELINE' [-o OUT.onnx]\n");
    return 2;
  }
  printf("Pith API version %d\n", (int)pithApiVersion());
  PithOnnxModel *model = NULL;
  PithStatus *status = pithOnnxModelLoad(argv[1], &model);
  if (status)
    return fail(status);
  if ((status = pithOnnxModelOptimize(model, argv[2], NULL))) {
    pithOnnxModelFree(model);
    return fail(status);
  }
  char *report = NULL;
  if ((status = pithOnnxModelReportJson(model, &report))) {
    pithOnnxModelFree(model);
    return fail(status);
  }
  printf("report: %s\n", report);
  pithFree(report);
  if (argc == 5 && (status = pithOnnxModelSave(model, argv[4]))) {
    pithOnnxModelFree(model);
    return fail(status);
  }
  PithCompiledModel *compiled = NULL;
  status = pithOnnxModelCompile(model, "cpu", &compiled);
  pithOnnxModelFree(model);
  if (status)
    return fail(status);
  int result = run(compiled);
  printf("peak intermediate bytes: %lld\n",
         (long long)pithCompiledModelPeakIntermediateBytes(compiled));
  pithCompiledModelFree(compiled);
  return result;
}
