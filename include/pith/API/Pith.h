//===- Pith.h - Pith as a library: load, optimize, compile, run -*- C++ -*-===//
//
// The C++ API frameworks use (the C API in include/pith-c/Pith.h and the
// Python package `pith` are built on it, and `pith optimize` runs through
// it): load an ONNX model from a path or bytes, run registered pass
// pipelines on it in the CLI's syntax, read what the passes report, write
// ONNX back, compile it for the CPU and run it on tensors.
//
// Errors come back as values (Status, Result<T>) carrying a one-line
// message; no exception leaves this API. A CompiledModel may be run from
// several threads at once; a Model is edited from one thread at a time.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_API_PITH_H
#define PITH_API_PITH_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pith::api {

/// Bumped on every incompatible change of this API (and of include/pith-c/Pith.h).
constexpr int kApiVersion = 1;

/// Success, or a failure with a one-line message.
class Status {
public:
  static Status success() { return Status(); }
  static Status failure(std::string message) { return Status(std::move(message)); }
  bool ok() const { return !failed; }
  explicit operator bool() const { return ok(); }
  /// Empty on success.
  const std::string &message() const { return text; }

private:
  Status() = default;
  explicit Status(std::string message) : failed(true), text(std::move(message)) {}
  bool failed = false;
  std::string text;
};

/// A value, or the Status saying why there is none.
template <typename T> class Result {
public:
  Result(T value) : state(std::move(value)) {}
  Result(Status failure) : state(std::move(failure)) {}
  bool ok() const { return std::holds_alternative<T>(state); }
  explicit operator bool() const { return ok(); }
  /// Success when there is a value.
  Status status() const { return ok() ? Status::success() : std::get<Status>(state); }
  /// The value; only when ok().
  T &value() { return std::get<T>(state); }
  const T &value() const { return std::get<T>(state); }
  T &operator*() { return value(); }
  T *operator->() { return &value(); }

private:
  std::variant<T, Status> state;
};

/// ONNX TensorProto.DataType codes of the element types Pith runs.
enum class DataType : int32_t {
  Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7,
  Bool = 9, Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, BFloat16 = 16,
};

/// Bytes per element (Bool: 1); 0 for a code Pith does not run.
size_t byteWidth(DataType type);
/// "float32", "int64", ... for messages.
std::string dataTypeName(DataType type);

/// A tensor that owns its bytes: dense, row-major, little-endian.
struct Tensor {
  DataType dataType = DataType::Float;
  std::vector<int64_t> shape;
  std::vector<char> data;
  int64_t numElements() const;
};

/// A tensor the caller owns and Pith only reads, without copying: dense,
/// row-major. `data` must hold numElements() * byteWidth(dataType) bytes.
struct TensorView {
  DataType dataType = DataType::Float;
  std::vector<int64_t> shape;
  const void *data = nullptr;
  int64_t numElements() const;
};

/// A graph input or output: name, element type, shape (-1: any size).
struct TensorInfo {
  std::string name;
  DataType dataType = DataType::Float;
  std::vector<int64_t> shape;
  /// False when not even the rank is known (shape is then empty).
  bool ranked = true;
};

/// What one pass run reported it did.
struct PassReport {
  std::string pass;
  std::vector<std::string> lines;
};

/// The size and cost of a model (lib/Analysis/CostModel), totals.
struct CostSummary {
  int64_t parameters = 0;
  int64_t nonzeroParameters = 0;
  int64_t weightBytes = 0;
  /// Multiply-accumulates and floating-point operations of one run.
  int64_t macs = 0;
  int64_t flops = 0;
  /// The most bytes of node results alive at once, in program order.
  int64_t peakActivationBytes = 0;
  /// Symbolic dimensions were counted as 1 in the figures above.
  bool assumedDynamicDimensions = false;
};

/// Every pass report since the model was loaded, in order, and its cost now.
struct Report {
  std::vector<PassReport> passes;
  CostSummary cost;
  /// The same as JSON: {"passes": [{"pass": ..., "lines": [...], ...}],
  /// "cost": {...}}, with each pass's structured fields as it wrote them.
  std::string json;
};

/// A pass option's value, typed: written in the pipeline syntax the pass
/// parses (bool as true/false, numbers exactly, lists comma-separated), so
/// the pass's own option parser checks names and types.
using PassOptionValue =
    std::variant<bool, int64_t, double, std::string, std::vector<std::string>>;
/// Options by name, e.g. {{"energy", 0.99}, {"activation-aware", true}}.
using PassOptions = std::vector<std::pair<std::string, PassOptionValue>>;

struct OptimizeOptions {
  /// Calibration inputs (numpy .npz, arrays named after the graph inputs):
  /// what lossy passes measure their error on unless their own
  /// `calibration=` option names another file.
  std::string calibrationPath;
  /// "[1/2] pith-low-rank ... 1.24 s" on stderr per pass.
  bool progress = false;
};

struct CompileOptions {
  /// "cpu" (the host, compiled in process) or "cuda" (the first NVIDIA GPU:
  /// a library in a temporary directory; every input shape must be static
  /// or given in inputShapes).
  std::string target = "cpu";
  /// For cuda: how GEMMs and convolutions compute on float32 data: "fp32"
  /// (exact), "tf32", "fp16" or "bf16" (tensor cores, fp32 accumulation).
  std::string gpuMath = "fp32";
  /// Fixes symbolic input dimensions, by input name: compiling for known
  /// sizes lets Pith plan every buffer statically.
  std::map<std::string, std::vector<int64_t>> inputShapes;
};

/// How Model::train trains: the loss, the optimizer (torch's definitions),
/// the learning-rate schedule and the minibatches. The names are the
/// pith-autodiff options and `pith train`'s flags.
struct TrainOptions {
  /// "cross-entropy" (data["labels"]: int64 classes), "mse"
  /// (data["targets"]: the output's type) or "output" (the output is the loss).
  std::string loss = "cross-entropy";
  /// The model output the loss reads (default: the first).
  std::string lossOutput;
  /// "adamw" or "sgd".
  std::string optimizer = "adamw";
  /// The peak learning rate.
  double learningRate = 1e-3;
  /// "constant", "cosine" (down to 0 over all steps) or "one-cycle"
  /// (torch's OneCycleLR: cosine warm-up from lr/25 over warmupFraction of
  /// the steps, then cosine down to lr/25e4).
  std::string schedule = "constant";
  double warmupFraction = 0.3;
  /// Below 0: the optimizer's default (adamw 0.01, sgd 0).
  double weightDecay = -1;
  double momentum = 0.9, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  /// Gradients scaled down to this global L2 norm when larger (torch's
  /// clip_grad_norm_); 0: no clipping.
  double clipNorm = 0;
  int64_t epochs = 1;
  /// Samples per step; an epoch takes the whole batches of a shuffled order.
  int64_t batchSize = 32;
  uint64_t seed = 0;
  /// Initializers not to train.
  std::vector<std::string> freeze;
  /// Activation recomputation (pith-remat): the activation memory budget,
  /// bytes ("64MB") or a fraction of keeping everything ("0.5"); empty
  /// keeps everything unless rematSolver is "sqrt".
  std::string memoryBudget;
  /// "greedy", "ilp" (the optimum by integer programming, time-limited) or
  /// "chain" (dynamic programming, chains only) meet memoryBudget; "sqrt" is
  /// sqrt(n) checkpointing.
  std::string rematSolver = "greedy";
};

/// One epoch of Model::train.
struct EpochReport {
  int64_t epoch = 0, steps = 0;
  double meanLoss = 0, seconds = 0, samplesPerSecond = 0;
};

/// What a training run did.
struct TrainingRun {
  std::vector<EpochReport> epochs;
  /// Every step's loss.
  std::vector<float> losses;
  /// The step's memory: the arena the runtime allocates for its
  /// intermediates (planned by liveness), and that plus its inputs and
  /// outputs (batch, parameters, optimizer state, their updates).
  int64_t arenaBytes = 0, stepBytes = 0;
  double compileSeconds = 0;
  /// What building the step reported (pith-autodiff, pith-remat).
  std::vector<std::string> report;
};

/// A model compiled for a target, ready to run. Copies share one compiled
/// model; it lives until the last copy goes. Safe to run from several
/// threads at once. A moved-from one has no inputs or outputs and fails to
/// run.
class CompiledModel {
public:
  const std::vector<TensorInfo> &inputs() const;
  const std::vector<TensorInfo> &outputs() const;
  /// Runs on `inputs`, in graph-input order, checked against inputs()
  /// (type, rank, sizes). The inputs are read in place.
  Result<std::vector<Tensor>> run(const std::vector<TensorView> &inputs) const;
  /// Bytes of the planned arena for intermediates: the peak memory a run
  /// needs besides inputs, outputs and weights.
  int64_t peakIntermediateBytes() const;
  double compileSeconds() const;

  struct Impl;
  explicit CompiledModel(std::shared_ptr<Impl> impl);

private:
  std::shared_ptr<Impl> impl;
};

/// An ONNX model in Pith's IR, to transform, write back or compile.
/// Move-only; a moved-from model answers every call with an error.
class Model {
public:
  /// Binary ONNX, or ONNX text when the name ends in .onnxtxt/.txt.
  static Result<Model> load(const std::string &path);
  /// Binary ONNX in memory. External data is refused (there is no
  /// directory to resolve it against).
  static Result<Model> loadBytes(std::string_view bytes, const std::string &name = "<bytes>");

  Model(Model &&) noexcept;
  Model &operator=(Model &&) noexcept;
  ~Model();

  /// The graph's inputs and outputs.
  std::vector<TensorInfo> inputs() const;
  std::vector<TensorInfo> outputs() const;

  /// Runs a pass pipeline in the syntax of `pith optimize --pipeline` and
  /// pith-opt: 'pith-dedup-weights,pith-low-rank{energy=0.99}'. An unknown
  /// pass or option, or a pass that fails, leaves an error and the model
  /// as it was.
  Status optimize(const std::string &pipeline, const OptimizeOptions &options = {});
  /// Runs one pass with typed options: optimize("pith-low-rank",
  /// {{"energy", 0.99}}) is optimize("pith-low-rank{energy=0.99}").
  Status optimize(const std::string &pass, const PassOptions &passOptions,
                  const OptimizeOptions &options = {});
  /// What the passes run so far reported, and the cost now.
  Report report() const;

  /// Standard ONNX; the file is replaced atomically. With
  /// `sparseInitializers`, float weights with fewer than a third of their
  /// elements nonzero are written as ONNX sparse initializers.
  Status save(const std::string &path, bool sparseInitializers = false) const;
  Result<std::string> toBytes() const;

  /// Compiles a copy of the model as it is now.
  Result<CompiledModel> compile(const CompileOptions &options = {}) const;

  /// Trains the model's float weights on `data` (arrays named after the
  /// graph inputs, plus "labels" or "targets", all with the samples along
  /// the first axis): builds the training step with pith-autodiff for
  /// batches of options.batchSize, compiles it for the CPU, runs the epochs
  /// and writes the trained weights back into the model. `onEpoch` hears of
  /// each epoch as it ends. On failure the model keeps its weights.
  Result<TrainingRun> train(const std::map<std::string, TensorView> &data,
                            const TrainOptions &options,
                            const std::function<void(const EpochReport &)> &onEpoch = {});

private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace pith::api

#endif // PITH_API_PITH_H
