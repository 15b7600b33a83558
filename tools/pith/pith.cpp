//===- pith.cpp - The Pith driver -----------------------------------------===//
//
//   pith inspect MODEL.onnx     what a model contains: opsets, interface,
//                               operators, parameters
//   pith run MODEL.onnx --input NAME=FILE.npy|.pb ... [--output-dir DIR]
//            [--target cpu|cuda] [--gpu-math fp32|tf32|fp16|bf16]
//                               compile in process (JIT on the CPU; for cuda
//                               a library in a temporary directory) and run
//   pith compile MODEL.onnx -o OUT.so [--target cpu|cuda] [--gpu-math M]
//            [--gpu-contractions library|generated] [--input-shape NAME=D1xD2...]...
//                               ahead of time: OUT.so + OUT.so.weights, run
//                               through the C API (include/pith-c/Runtime.h)
//   pith report MODEL.onnx [--json] [--html FILE] [--compare OTHER.onnx]
//                               parameters, bytes, FLOPs, activations per layer
//   pith optimize IN.onnx -o OUT.onnx --pipeline P [--calibration FILE.npz]
//                               run transforms, write ONNX, report the effect
//   pith train MODEL.onnx --data FILE.npz -o OUT.onnx [--loss L] [--epochs N] ...
//                               train the weights (pith-autodiff, compiled
//                               training steps), write ONNX
//
// One subcommand per job an ML engineer runs on a model file; each is a thin
// layer over the library.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "pith/Analysis/ModelSummary.h"
#include "pith/Import/ONNXImporter.h"
#include "pith/InitAll.h"
#include "pith/Runtime/Compilation.h"
#include "pith/Runtime/JitModel.h"
#include "pith/Runtime/LibraryModel.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <chrono>
#include <map>
#include "llvm/Support/raw_ostream.h"

namespace {
const char *kUsage = "usage: pith <command> [args]\n"
                     "commands:\n"
                     "  inspect MODEL.onnx   print opsets, inputs/outputs, "
                     "operators and parameters\n"
                     "  run MODEL.onnx --input NAME=FILE.npy|.pb ... "
                     "[--output-dir DIR]\n"
                     "                       compile for the CPU in process, "
                     "run, write one .npy per output\n"
                     "                       (--repeat N: median of N runs "
                     "after a warm-up)\n"
                     "                       (--target cuda [--gpu-math fp32|tf32|"
                     "fp16|bf16]: on an NVIDIA GPU)\n"
                     "  compile MODEL.onnx -o OUT.so [--target cpu|cuda] "
                     "[--gpu-math M] [--input-shape NAME=D1xD2...]\n"
                     "                       shared library + OUT.so.weights "
                     "for the C API\n"
                     "  report MODEL.onnx [--json] [--html FILE] [--compare OTHER.onnx]\n"
                     "                       parameters, weight bytes, MACs/FLOPs "
                     "and activation memory per layer\n"
                     "  optimize IN.onnx -o OUT.onnx --pipeline 'PASS{opt=v},...' "
                     "[--calibration FILE.npz]\n"
                     "                       run a pass pipeline, write ONNX, print "
                     "the cost before/after\n"
                     "                       and the output error on calibration "
                     "inputs\n"
                     "  train MODEL.onnx --data FILE.npz -o OUT.onnx [--loss L] "
                     "[--epochs N] [--batch-size B] [--lr X] ...\n"
                     "                       train the weights with compiled training "
                     "steps, write ONNX\n";

using pith::driver::fail;

int inspect(llvm::ArrayRef<const char *> args) {
  if (args.size() != 1)
    return fail("usage: pith inspect MODEL.onnx");
  mlir::DialectRegistry registry;
  pith::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  auto module = pith::importONNXFile(args[0], &context);
  if (!module)
    return fail(llvm::toString(module.takeError()));
  llvm::outs() << "model:        " << args[0] << "\n";
  pith::printModelSummary(pith::summarizeModel(**module), llvm::outs());
  return 0;
}
/// Output files are named after ONNX output names; keep them file names.
std::string fileNameFor(llvm::StringRef name) {
  std::string file;
  for (char c : name)
    file += (llvm::isAlnum(c) || c == '_' || c == '-' || c == '.') ? c : '_';
  return file.empty() ? "output" : file;
}

/// Runs `model` (a JitModel or a LibraryModel) on the inputs `pith run`
/// was given and writes its outputs.
template <typename Model>
int runCompiled(Model &model, const std::string &modelPath,
                std::map<std::string, pith::HostTensor> &tensors, int repeat,
                const std::string &outputDir);

int run(llvm::ArrayRef<const char *> args) {
  std::string modelPath, outputDir = ".", targetName = "cpu", gpuMath = "fp32";
  int repeat = 1;
  std::vector<std::pair<std::string, std::string>> inputFiles;
  for (size_t i = 0; i < args.size(); ++i) {
    llvm::StringRef arg = args[i];
    if ((arg == "--input" || arg == "--output-dir") && i + 1 == args.size())
      return fail(arg + " needs a value");
    if (arg == "--input") {
      auto [name, file] = llvm::StringRef(args[++i]).split('=');
      if (file.empty())
        return fail("--input takes NAME=FILE, got '" + name + "'");
      inputFiles.push_back({name.str(), file.str()});
    } else if (arg == "--output-dir") {
      outputDir = args[++i];
    } else if (arg == "--repeat" && i + 1 < args.size()) {
      if (llvm::StringRef(args[++i]).getAsInteger(10, repeat) || repeat < 1)
        return fail("--repeat takes a positive count");
    } else if (arg == "--target" && i + 1 < args.size()) {
      targetName = args[++i];
    } else if (arg == "--gpu-math" && i + 1 < args.size()) {
      gpuMath = args[++i];
    } else if (arg.starts_with("-")) {
      return fail("unknown option '" + arg + "'");
    } else if (modelPath.empty()) {
      modelPath = arg.str();
    } else {
      return fail("more than one model given");
    }
  }
  if (modelPath.empty())
    return fail("usage: pith run MODEL.onnx --input NAME=FILE ... [--output-dir DIR]");
  pith::CompileTarget target;
  if (std::string problem = pith::CompileTarget::parse(targetName, gpuMath, target);
      !problem.empty())
    return fail(problem);

  // Inputs are read first: their shapes fix the model's symbolic dimensions.
  std::map<std::string, pith::HostTensor> tensors;
  std::map<std::string, std::vector<int64_t>> shapes;
  for (auto &[name, file] : inputFiles) {
    auto tensor = pith::readTensorFile(file);
    if (!tensor)
      return fail(llvm::toString(tensor.takeError()));
    shapes[name] = tensor->shape;
    tensors[name] = std::move(*tensor);
  }
  if (target.kind == pith::CompileTarget::Kind::CUDA) {
    auto model = pith::LibraryModel::compileFile(modelPath, target, shapes);
    if (!model)
      return fail(llvm::toString(model.takeError()));
    llvm::outs() << "device: " << (*model)->device() << "\n";
    return runCompiled(**model, modelPath, tensors, repeat, outputDir);
  }
  auto model = pith::JitModel::compileFile(modelPath, shapes);
  if (!model)
    return fail(llvm::toString(model.takeError()));
  return runCompiled(**model, modelPath, tensors, repeat, outputDir);
}

template <typename Model>
int runCompiled(Model &model, const std::string &modelPath,
                std::map<std::string, pith::HostTensor> &tensors, int repeat,
                const std::string &outputDir) {
  for (const auto &given : tensors)
    if (llvm::none_of(model.inputs(), [&](const pith::TensorSpec &spec) {
          return spec.name == given.first;
        }))
      return fail(modelPath + ": the model has no input '" + given.first + "'");
  std::vector<pith::HostTensor> inputs;
  for (const pith::TensorSpec &spec : model.inputs()) {
    auto tensor = tensors.find(spec.name);
    if (tensor == tensors.end())
      return fail(modelPath + ": missing input '" + spec.name +
                  "' (give it with --input " + spec.name + "=FILE)");
    inputs.push_back(std::move(tensor->second));
  }

  // With --repeat, the first run warms up (kernel setup, caches) and the
  // reported time is the median of the others.
  std::vector<double> times;
  llvm::Expected<std::vector<pith::HostTensor>> outputs = std::vector<pith::HostTensor>();
  for (int i = 0; i < (repeat > 1 ? repeat + 1 : 1); ++i) {
    auto start = std::chrono::steady_clock::now();
    outputs = model.run(inputs);
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!outputs)
      return fail(modelPath + ": " + llvm::toString(outputs.takeError()));
  }
  if (repeat > 1)
    times.erase(times.begin());
  std::sort(times.begin(), times.end());
  double runSeconds = times[times.size() / 2];
  if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
    return fail("cannot create '" + outputDir + "': " + ec.message());
  for (auto [spec, tensor] : llvm::zip(model.outputs(), *outputs)) {
    llvm::SmallString<256> path(outputDir);
    llvm::sys::path::append(path, fileNameFor(spec.name) + ".npy");
    if (llvm::Error err = pith::writeNpy(path, tensor))
      return fail(llvm::toString(std::move(err)));
    llvm::outs() << "output " << spec.name << " -> " << path << "\n";
  }
  llvm::outs() << llvm::format("compile time: %.3f s\nrun time:     %.6f s\n",
                               model.compileSeconds(), runSeconds);
  llvm::outs() << "peak buffer bytes: " << model.peakIntermediateBytes()
               << " (intermediates, planned by liveness)\n";
  return 0;
}
int compile(llvm::ArrayRef<const char *> args) {
  std::string modelPath, outputPath, targetName = "cpu", gpuMath = "fp32",
                                     contractions = "library";
  std::map<std::string, std::vector<int64_t>> shapes;
  for (size_t i = 0; i < args.size(); ++i) {
    llvm::StringRef arg = args[i];
    bool hasValue = i + 1 < args.size();
    if (arg == "-o" && hasValue) {
      outputPath = args[++i];
    } else if (arg == "--target" && hasValue) {
      targetName = args[++i];
    } else if (arg == "--gpu-math" && hasValue) {
      gpuMath = args[++i];
    } else if (arg == "--gpu-contractions" && hasValue) {
      contractions = args[++i];
    } else if (arg == "--input-shape" && hasValue) {
      // NAME=D1xD2x...: fixes an input's symbolic dimensions.
      auto [name, dims] = llvm::StringRef(args[++i]).split('=');
      llvm::SmallVector<llvm::StringRef> parts;
      dims.split(parts, 'x');
      std::vector<int64_t> shape;
      for (llvm::StringRef part : parts) {
        int64_t d;
        if (part.getAsInteger(10, d) || d < 0)
          return fail("--input-shape takes NAME=D1xD2..., got '" + name + "=" + dims + "'");
        shape.push_back(d);
      }
      if (name.empty() || dims.empty())
        return fail("--input-shape takes NAME=D1xD2..., got '" + name + "=" + dims + "'");
      shapes[name.str()] = shape;
    } else if (arg.starts_with("-")) {
      return fail("unknown option '" + arg + "'" + (hasValue ? "" : " (or its value is missing)"));
    } else if (modelPath.empty()) {
      modelPath = arg.str();
    } else {
      return fail("more than one model given");
    }
  }
  if (modelPath.empty() || outputPath.empty())
    return fail("usage: pith compile MODEL.onnx -o OUT.so [--target cpu|cuda] "
                "[--gpu-math M] [--gpu-contractions library|generated] "
                "[--input-shape NAME=D1xD2...]");
  pith::CompileTarget target;
  if (std::string problem =
          pith::CompileTarget::parse(targetName, gpuMath, target, contractions);
      !problem.empty())
    return fail(problem);
  auto start = std::chrono::steady_clock::now();
  auto lowered = pith::lowerONNXFile(modelPath, target, shapes);
  if (!lowered)
    return fail(llvm::toString(lowered.takeError()));
  std::string weightsPath = outputPath + ".weights";
  if (llvm::Error err = pith::writeWeightsFile(**lowered, weightsPath))
    return fail(llvm::toString(std::move(err)));
  if (llvm::Error err = pith::emitSharedLibrary(**lowered, outputPath)) {
    llvm::sys::fs::remove(weightsPath);
    return fail(llvm::toString(std::move(err)));
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  llvm::outs() << "wrote " << outputPath << " and " << weightsPath << "\n";
  llvm::outs() << llvm::format("compile time: %.3f s\n", seconds);
  llvm::outs() << "peak buffer bytes: " << (*lowered)->metadata.arenaBytes
               << " (intermediates, planned by liveness)\n";
  return 0;
}
} // namespace

int pith::driver::fail(const llvm::Twine &message) {
  llvm::errs() << "pith: error: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  if (argc < 2 || llvm::StringRef(argv[1]) == "--help" ||
      llvm::StringRef(argv[1]) == "-h") {
    llvm::outs() << kUsage;
    return argc < 2 ? 1 : 0;
  }
  llvm::StringRef command = argv[1];
  llvm::ArrayRef<const char *> args(argv + 2, argv + argc);
  if (command == "inspect")
    return inspect(args);
  if (command == "run")
    return run(args);
  if (command == "compile")
    return compile(args);
  if (command == "report")
    return pith::driver::report(args);
  if (command == "optimize")
    return pith::driver::optimize(args);
  if (command == "train")
    return pith::driver::train(args);
  llvm::errs() << kUsage;
  return fail("unknown command '" + command + "'");
}
