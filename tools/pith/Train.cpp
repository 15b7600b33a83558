//===- Train.cpp - pith train: train a model's weights, write ONNX --------===//
//
//   pith train MODEL.onnx --data FILE.npz -o OUT.onnx [--loss cross-entropy|mse|output]
//              [--loss-output NAME] [--epochs N] [--batch-size B]
//              [--optimizer adamw|sgd] [--lr X] [--schedule constant|cosine|one-cycle]
//              [--warmup F] [--weight-decay X] [--momentum X] [--clip-norm X] [--seed N]
//              [--freeze NAME,...] [--memory-budget 64MB|0.5] [--remat-solver greedy|ilp|chain|sqrt]
//
// The data holds one array per model input and the loss's `labels`
// (cross-entropy: int64 classes) or `targets` (mse), samples along the
// first axis. Prints each epoch's mean loss, throughput and the step's
// memory (the runtime's planned arena, and with the step's inputs and
// outputs); writes the model with its trained weights. A thin layer over
// pith::api::Model::train.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "pith/API/Pith.h"
#include "pith/Runtime/HostTensor.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace pith;

namespace {

const char *kUsage =
    "usage: pith train MODEL.onnx --data FILE.npz -o OUT.onnx [--loss cross-entropy|mse|output]\n"
    "       [--loss-output NAME] [--epochs N] [--batch-size B] [--optimizer adamw|sgd]\n"
    "       [--lr X] [--schedule constant|cosine|one-cycle] [--warmup F]\n"
    "       [--weight-decay X] [--momentum X] [--clip-norm X] [--seed N] [--freeze NAME,...]\n"
    "       [--memory-budget BYTES|FRACTION] [--remat-solver greedy|ilp|chain|sqrt]";

bool parseNumber(llvm::StringRef text, double &out) {
  return !text.getAsDouble(out);
}

} // namespace

int driver::train(llvm::ArrayRef<const char *> args) {
  std::string input, output, dataPath;
  api::TrainOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    llvm::StringRef arg = args[i];
    bool hasValue = i + 1 < args.size();
    llvm::StringRef value = hasValue ? llvm::StringRef(args[i + 1]) : "";
    double number = 0;
    auto needNumber = [&](llvm::StringRef flag) {
      return fail(flag + ": expected a number, got '" + value + "'");
    };
    if (!arg.starts_with("-")) {
      if (!input.empty())
        return fail("more than one model given");
      input = arg.str();
      continue;
    }
    if (!hasValue)
      return fail(arg + " needs a value\n" + kUsage);
    ++i;
    if (arg == "-o")
      output = value.str();
    else if (arg == "--data")
      dataPath = value.str();
    else if (arg == "--loss")
      options.loss = value.str();
    else if (arg == "--loss-output")
      options.lossOutput = value.str();
    else if (arg == "--optimizer")
      options.optimizer = value.str();
    else if (arg == "--schedule")
      options.schedule = value.str();
    else if (arg == "--memory-budget")
      options.memoryBudget = value.str();
    else if (arg == "--remat-solver")
      options.rematSolver = value.str();
    else if (arg == "--freeze")
      for (llvm::StringRef name : llvm::split(value, ','))
        options.freeze.push_back(name.str());
    else if (arg == "--epochs" || arg == "--batch-size" || arg == "--seed") {
      int64_t n = 0;
      if (value.getAsInteger(10, n))
        return fail(arg + ": expected an integer, got '" + value + "'");
      if (arg == "--seed")
        options.seed = static_cast<uint64_t>(n);
      else
        (arg == "--epochs" ? options.epochs : options.batchSize) = n;
    } else if (arg == "--lr" || arg == "--warmup" || arg == "--weight-decay" ||
               arg == "--momentum" || arg == "--clip-norm") {
      if (!parseNumber(value, number))
        return needNumber(arg);
      (arg == "--lr"             ? options.learningRate
       : arg == "--warmup"       ? options.warmupFraction
       : arg == "--weight-decay" ? options.weightDecay
       : arg == "--clip-norm"    ? options.clipNorm
                                 : options.momentum) = number;
    } else {
      return fail("unknown option '" + arg + "'\n" + kUsage);
    }
  }
  if (input.empty() || output.empty() || dataPath.empty())
    return fail(kUsage);

  auto data = readNpz(dataPath);
  if (!data)
    return fail(llvm::toString(data.takeError()));
  std::map<std::string, api::TensorView> views;
  for (const auto &[name, tensor] : *data)
    views[name] = {api::DataType(tensor.dataType), tensor.shape, tensor.data.data()};
  auto model = api::Model::load(input);
  if (!model)
    return fail(model.status().message());
  llvm::outs() << "training " << input << ": loss " << options.loss << ", " << options.optimizer
               << ", lr " << options.learningRate << " (" << options.schedule << "), batch "
               << options.batchSize << ", " << options.epochs << " epochs\n";
  llvm::outs().flush();
  auto run = model->train(views, options, [](const api::EpochReport &epoch) {
    llvm::outs() << llvm::format("epoch %lld: loss %.4f, %lld steps, %.0f samples/s, %.1f s\n",
                                 (long long)epoch.epoch, epoch.meanLoss, (long long)epoch.steps,
                                 epoch.samplesPerSecond, epoch.seconds);
    llvm::outs().flush();
  });
  if (!run)
    return fail(run.status().message());
  for (const std::string &line : run->report)
    llvm::outs() << line << "\n";
  llvm::outs() << llvm::format("step memory: arena %.2f MB (planned by liveness, allocated once), "
                               "%.2f MB with the step's inputs and outputs; compiled in %.1f s\n",
                               run->arenaBytes / 1e6, run->stepBytes / 1e6, run->compileSeconds);
  if (api::Status status = model->save(output); !status)
    return fail(status.message());
  llvm::outs() << "wrote " << output << "\n";
  return 0;
}
