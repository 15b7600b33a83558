/* The C API (include/pith-c/Pith.h), from C: every bad input gives a status
 * with a message and leaves outputs untouched (NULL handles, a bad path,
 * bad bytes, an unknown pass or option, an unknown target, a wrong data
 * type, shape or count); a loaded model optimizes, reports, round-trips
 * through bytes, compiles and computes y = Relu(x . w + b); it trains.
 *
 *   pith-c-api-test MODEL.onnxtxt     (test/Inputs/mlp.onnxtxt)
 */
#include "pith-c/Pith.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(condition)                                                       \
  do {                                                                         \
    if (!(condition)) {                                                        \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,         \
              #condition);                                                     \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* The status is an error whose message contains `expected`; frees it. */
static void expectError(PithStatus *status, const char *expected, int line) {
  if (!status) {
    fprintf(stderr, "line %d: expected an error containing '%s', got success\n", line,
            expected);
    ++failures;
    return;
  }
  const char *message = pithStatusMessage(status);
  if (!message || !strstr(message, expected)) {
    fprintf(stderr, "line %d: expected '%s' in '%s'\n", line, expected,
            message ? message : "(null)");
    ++failures;
  }
  pithStatusFree(status);
}
#define EXPECT_ERROR(call, expected) expectError((call), (expected), __LINE__)

static int ok(PithStatus *status) {
  if (!status)
    return 1;
  fprintf(stderr, "unexpected error: %s\n", pithStatusMessage(status));
  pithStatusFree(status);
  ++failures;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: pith-c-api-test MODEL.onnxtxt\n");
    return 2;
  }
  CHECK(pithApiVersion() == PITH_API_VERSION);

  /* NULL handles and arguments. */
  PithOnnxModel *model = NULL;
  PithCompiledModel *compiled = NULL;
  EXPECT_ERROR(pithOnnxModelLoad(NULL, &model), "a path and an output pointer are required");
  EXPECT_ERROR(pithOnnxModelOptimize(NULL, "pith-dedup-weights", NULL),
               "a model and a pipeline are required");
  EXPECT_ERROR(pithOnnxModelCompile(NULL, "cpu", &compiled), "a model and an output pointer");
  EXPECT_ERROR(pithCompiledModelRun(NULL, NULL, 0, NULL, 0), "a model, inputs and outputs");
  CHECK(pithCompiledModelNumInputs(NULL) == -1);
  CHECK(pithCompiledModelInputName(NULL, 0) == NULL);
  pithOnnxModelFree(NULL);
  pithCompiledModelFree(NULL);

  /* Bad files and bytes. */
  EXPECT_ERROR(pithOnnxModelLoad("/no/such/model.onnx", &model), "/no/such/model.onnx");
  CHECK(model == NULL);
  EXPECT_ERROR(pithOnnxModelLoadBytes("\x08junk", 5, "junk bytes", &model), "junk bytes");
  CHECK(model == NULL);

  if (!ok(pithOnnxModelLoad(argv[1], &model)))
    return 1;
  EXPECT_ERROR(pithOnnxModelOptimize(model, "pith-no-such-pass", NULL), "pith-no-such-pass");
  EXPECT_ERROR(pithOnnxModelOptimize(model, "pith-low-rank{no-such-option=1}", NULL),
               "no-such-option");
  EXPECT_ERROR(pithOnnxModelOptimize(model, "pith-low-rank{rank=1 min-size=0}", "/no/such.npz"),
               "/no/such.npz");
  EXPECT_ERROR(pithOnnxModelCompile(model, "gpu", &compiled), "unknown target 'gpu'");
  CHECK(compiled == NULL);

  /* Optimize, report, bytes round trip. */
  ok(pithOnnxModelOptimize(model, "pith-dedup-weights,pith-low-rank{rank=1 min-size=0}", NULL));
  char *json = NULL;
  if (ok(pithOnnxModelReportJson(model, &json))) {
    CHECK(strstr(json, "\"pass\": \"pith-low-rank\"") != NULL);
    /* w (3x2) saves nothing at rank 1: reported, not factored. */
    CHECK(strstr(json, "rank 1 would not save (break-even 1)") != NULL);
    CHECK(strstr(json, "\"parameters\": 8") != NULL);
    pithFree(json);
  }
  void *bytes = NULL;
  size_t size = 0;
  PithOnnxModel *again = NULL;
  if (ok(pithOnnxModelToBytes(model, &bytes, &size))) {
    ok(pithOnnxModelLoadBytes(bytes, size, "round trip", &again));
    pithFree(bytes);
  }
  pithOnnxModelFree(model);
  if (!again)
    return 1;

  /* Compile and run; wrong inputs. */
  if (!ok(pithOnnxModelCompile(again, "cpu", &compiled)))
    return 1;
  pithOnnxModelFree(again);
  CHECK(pithCompiledModelNumInputs(compiled) == 1);
  CHECK(pithCompiledModelNumOutputs(compiled) == 1);
  CHECK(strcmp(pithCompiledModelInputName(compiled, 0), "x") == 0);
  CHECK(pithCompiledModelInputType(compiled, 0) == 1);
  CHECK(pithCompiledModelInputRank(compiled, 0) == 2);
  CHECK(pithCompiledModelInputShape(compiled, 0)[1] == 3);
  CHECK(pithCompiledModelInputName(compiled, 1) == NULL);
  CHECK(pithCompiledModelPeakIntermediateBytes(compiled) >= 0);

  float x[6] = {-0.5f, -0.25f, 0.0f, 0.25f, 0.5f, 0.75f};
  double wide[6] = {0};
  int64_t shape[2] = {2, 3}, transposed[2] = {3, 2};
  PithTensor input = {1, 2, shape, x};
  PithTensor output = {0, 0, NULL, NULL};
  PithTensor wrongType = {11, 2, shape, wide};
  PithTensor wrongShape = {1, 2, transposed, x};
  EXPECT_ERROR(pithCompiledModelRun(compiled, &wrongType, 1, &output, 1),
               "input 'x' must be float32, got float64");
  EXPECT_ERROR(pithCompiledModelRun(compiled, &wrongShape, 1, &output, 1),
               "input 'x' must have shape [2,3], got [3,2]");
  EXPECT_ERROR(pithCompiledModelRun(compiled, &input, 1, &output, 2), "the model has 1 outputs");
  EXPECT_ERROR(pithCompiledModelRun(compiled, NULL, 0, &output, 1), "takes 1 inputs, got 0");
  CHECK(output.data == NULL);
  if (ok(pithCompiledModelRun(compiled, &input, 1, &output, 1))) {
    CHECK(output.dataType == 1);
    CHECK(output.rank == 2 && output.shape[0] == 2 && output.shape[1] == 2);
    const float *y = (const float *)output.data;
    const float expected[4] = {0.0f, 0.125f, 0.0f, 1.25f};
    for (int i = 0; i < 4; ++i)
      CHECK(fabsf(y[i] - expected[i]) < 1e-6f);
    pithTensorRelease(&output);
    CHECK(output.data == NULL);
  }
  pithCompiledModelFree(compiled);

  /* Training: mean squared error towards y = x . [[1, 0], [0, 1], [1, 1]]
   * with SGD; the loss falls, the weights change; missing data is an error. */
  PithOnnxModel *trained = NULL;
  if (!ok(pithOnnxModelLoad(argv[1], &trained)))
    return 1;
  float xs[8 * 3], ys[8 * 2];
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 3; ++j)
      xs[3 * i + j] = (float)((i * 7 + j * 3) % 5) / 4.0f;
    ys[2 * i] = xs[3 * i] + xs[3 * i + 2];
    ys[2 * i + 1] = xs[3 * i + 1] + xs[3 * i + 2];
  }
  int64_t xShape[2] = {8, 3}, yShape[2] = {8, 2};
  PithTensor data[2] = {{1, 2, xShape, xs}, {1, 2, yShape, ys}};
  const char *names[2] = {"x", "targets"};
  PithTrainOptions train;
  pithTrainOptionsInit(&train);
  train.loss = "mse";
  train.optimizer = "sgd";
  train.learningRate = 0.05;
  train.epochs = 30;
  train.batchSize = 2;
  EXPECT_ERROR(pithOnnxModelTrain(trained, names, data, 1, &train, NULL),
               "data: no array 'targets'");
  void *before = NULL, *after = NULL;
  size_t beforeSize = 0, afterSize = 0;
  ok(pithOnnxModelToBytes(trained, &before, &beforeSize));
  char *runJson = NULL;
  if (ok(pithOnnxModelTrain(trained, names, data, 2, &train, &runJson))) {
    CHECK(runJson && strstr(runJson, "\"epochs\"") && strstr(runJson, "\"arena_bytes\""));
    ok(pithOnnxModelToBytes(trained, &after, &afterSize));
    CHECK(after && (afterSize != beforeSize || memcmp(before, after, afterSize) != 0));
    /* The first and the last epoch's mean loss. */
    const char *first = strstr(runJson, "\"loss\":");
    const char *last = first;
    for (const char *next = first; next; next = strstr(next + 1, "\"loss\":"))
      last = next;
    CHECK(first && atof(last + 7) < 0.5 * atof(first + 7));
    pithFree(runJson);
  }
  pithFree(before);
  pithFree(after);
  pithOnnxModelFree(trained);

  if (failures)
    fprintf(stderr, "%d check(s) failed\n", failures);
  else
    printf("C API: all checks passed\n");
  return failures ? 1 : 0;
}
