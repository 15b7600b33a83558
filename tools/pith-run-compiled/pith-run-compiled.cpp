//===- pith-run-compiled.cpp - Run a compiled model, without MLIR ---------===//
//
// Runs a library made by `pith compile` (for the CPU or --target cuda)
// through the C runtime alone: this is what runs on a machine that has the
// model but no compiler, such as a GPU server.
//
//   pith-run-compiled MODEL.so [--weights FILE] --input NAME=FILE.npy ...
//                     [--output-dir DIR] [--repeat N]
//
// Writes each output to DIR/<name>.npy (as `pith run` does) and prints the
// median time of N runs after a warm-up run, boundary copies included.
//
//===----------------------------------------------------------------------===//

#include "pith-c/Runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "pith-run-compiled: error: %s\n", message.c_str());
  return 1;
}

constexpr int32_t kUInt16 = 4, kBFloat16 = 16;

/// numpy dtype strings and ONNX data types (bfloat16 travels as uint16).
const std::map<std::string, int32_t> &dtypes() {
  static const std::map<std::string, int32_t> table = {
      {"<f4", 1}, {"|u1", 2}, {"|i1", 3}, {"<u2", 4}, {"<i2", 5}, {"<i4", 6},
      {"<i8", 7}, {"|b1", 9}, {"<f2", 10}, {"<f8", 11}, {"<u4", 12}, {"<u8", 13}};
  return table;
}

struct Array {
  int32_t dataType = 0;
  std::vector<int64_t> shape;
  std::vector<char> data;
};

/// Reads a C-ordered .npy file (format 1.0-3.0).
std::string readNpy(const std::string &path, Array &out) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return path + ": cannot open";
  std::string bytes((std::istreambuf_iterator<char>(file)), {});
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return path + ": not a .npy file";
  size_t headerBytes, start;
  if (bytes[6] == 1) {
    headerBytes = static_cast<unsigned char>(bytes[8]) |
                  static_cast<unsigned char>(bytes[9]) << 8;
    start = 10;
  } else {
    if (bytes.size() < 12)
      return path + ": truncated .npy header";
    uint32_t n;
    std::memcpy(&n, bytes.data() + 8, 4);
    headerBytes = n;
    start = 12;
  }
  if (start + headerBytes > bytes.size())
    return path + ": truncated .npy header";
  std::string header = bytes.substr(start, headerBytes);
  auto field = [&](const std::string &key) {
    size_t at = header.find("'" + key + "':");
    return at == std::string::npos ? std::string() : header.substr(at + key.size() + 3);
  };
  std::string descr = field("descr"), order = field("fortran_order"), shape = field("shape");
  size_t quote = descr.find('\'');
  descr = quote == std::string::npos ? "" : descr.substr(quote + 1, descr.find('\'', quote + 1) - quote - 1);
  auto type = dtypes().find(descr);
  if (type == dtypes().end())
    return path + ": unsupported dtype '" + descr + "'";
  if (order.find("True") < order.find(','))
    return path + ": Fortran-ordered arrays are not supported";
  out.dataType = type->second;
  std::string dims = shape.substr(shape.find('(') + 1, shape.find(')') - shape.find('(') - 1);
  std::replace(dims.begin(), dims.end(), ',', ' ');
  std::istringstream is(dims);
  int64_t count = 1, d, width = std::stoi(descr.substr(2));
  while (is >> d) {
    out.shape.push_back(d);
    count *= d;
  }
  size_t payload = start + headerBytes;
  if (bytes.size() - payload < static_cast<size_t>(count * width))
    return path + ": truncated data";
  out.data.assign(bytes.begin() + payload, bytes.begin() + payload + count * width);
  return "";
}

std::string writeNpy(const std::string &path, const PithTensor &tensor) {
  std::string descr;
  int32_t dataType = tensor.dataType == kBFloat16 ? kUInt16 : tensor.dataType;
  for (const auto &[name, type] : dtypes())
    if (type == dataType)
      descr = name;
  if (descr.empty())
    return path + ": no numpy dtype for ONNX data type " + std::to_string(tensor.dataType);
  std::string shape = "(";
  int64_t count = 1;
  for (int64_t i = 0; i < tensor.rank; ++i) {
    shape += std::to_string(tensor.shape[i]) + (tensor.rank == 1 ? "," : i + 1 < tensor.rank ? ", " : "");
    count *= tensor.shape[i];
  }
  shape += ")";
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  std::ofstream file(path, std::ios::binary);
  if (!file)
    return path + ": cannot write";
  file.write("\x93NUMPY\x01\x00", 8);
  char length[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  file.write(length, 2);
  file << header;
  file.write(static_cast<const char *>(tensor.data), count * std::stoi(descr.substr(2)));
  return file ? "" : path + ": write failed";
}

std::string fileNameFor(const std::string &name) {
  std::string out;
  for (char c : name)
    out += (isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-') ? c : '_';
  return out.empty() ? "output" : out;
}

} // namespace

int main(int argc, char **argv) {
  std::string libraryPath, weightsPath, outputDir = ".";
  std::map<std::string, std::string> inputFiles;
  int repeat = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool hasValue = i + 1 < argc;
    if (arg == "--weights" && hasValue) {
      weightsPath = argv[++i];
    } else if (arg == "--input" && hasValue) {
      std::string spec = argv[++i];
      size_t eq = spec.find('=');
      if (eq == std::string::npos || eq == 0)
        return fail("--input takes NAME=FILE.npy, got '" + spec + "'");
      inputFiles[spec.substr(0, eq)] = spec.substr(eq + 1);
    } else if (arg == "--output-dir" && hasValue) {
      outputDir = argv[++i];
    } else if (arg == "--repeat" && hasValue) {
      repeat = std::atoi(argv[++i]);
      if (repeat < 1)
        return fail("--repeat takes a positive count");
    } else if (!arg.empty() && arg[0] == '-') {
      return fail("unknown option or missing value: '" + arg + "'");
    } else if (libraryPath.empty()) {
      libraryPath = arg;
    } else {
      return fail("more than one model library given");
    }
  }
  if (libraryPath.empty())
    return fail("usage: pith-run-compiled MODEL.so [--weights FILE] --input NAME=FILE.npy ... "
                "[--output-dir DIR] [--repeat N]");
  PithModel *model = nullptr;
  if (PithStatus *status =
          pithModelLoad(libraryPath.c_str(), weightsPath.empty() ? nullptr : weightsPath.c_str(),
                        &model)) {
    std::string message = pithStatusMessage(status);
    pithStatusFree(status);
    return fail(message);
  }
  int64_t numInputs = pithModelNumInputs(model), numOutputs = pithModelNumOutputs(model);
  std::vector<Array> arrays(numInputs);
  std::vector<PithTensor> inputs(numInputs);
  for (int64_t i = 0; i < numInputs; ++i) {
    std::string name = pithModelInputName(model, i);
    auto file = inputFiles.find(name);
    if (file == inputFiles.end())
      return fail(libraryPath + ": missing input '" + name + "' (give it with --input " + name +
                  "=FILE.npy)");
    if (std::string problem = readNpy(file->second, arrays[i]); !problem.empty())
      return fail(problem);
    // numpy has no bfloat16: such inputs come as uint16 bits.
    if (pithModelInputType(model, i) == kBFloat16 && arrays[i].dataType == kUInt16)
      arrays[i].dataType = kBFloat16;
    // An empty tensor still needs an address.
    if (arrays[i].data.empty())
      arrays[i].data.resize(1);
    inputs[i] = PithTensor{arrays[i].dataType, static_cast<int64_t>(arrays[i].shape.size()),
                           arrays[i].shape.data(), arrays[i].data.data()};
    inputFiles.erase(file);
  }
  if (!inputFiles.empty())
    return fail(libraryPath + ": the model has no input '" + inputFiles.begin()->first + "'");

  std::vector<PithTensor> outputs(numOutputs);
  std::vector<double> times;
  for (int run = 0; run < (repeat > 1 ? repeat + 1 : 1); ++run) {
    for (PithTensor &output : outputs)
      pithTensorRelease(&output);
    auto start = std::chrono::steady_clock::now();
    PithStatus *status =
        pithModelRunAllocating(model, inputs.data(), numInputs, outputs.data(), numOutputs);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (status) {
      std::string message = pithStatusMessage(status);
      pithStatusFree(status);
      return fail(libraryPath + ": " + message);
    }
  }
  if (repeat > 1)
    times.erase(times.begin());
  std::sort(times.begin(), times.end());
  for (int64_t i = 0; i < numOutputs; ++i) {
    std::string path = outputDir + "/" + fileNameFor(pithModelOutputName(model, i)) + ".npy";
    if (std::string problem = writeNpy(path, outputs[i]); !problem.empty())
      return fail(problem);
    std::printf("output %s -> %s\n", pithModelOutputName(model, i), path.c_str());
    pithTensorRelease(&outputs[i]);
  }
  std::printf("device: %s\nrun time: %.6f s\n", pithModelDevice(model), times[times.size() / 2]);
  pithModelFree(model);
  return 0;
}
