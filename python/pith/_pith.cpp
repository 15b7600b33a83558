//===- _pith.cpp - The Python extension over the C++ API ------------------===//
//
// Binds include/pith/API/Pith.h with nanobind and nothing more: numpy
// arrays in (read in place when C-contiguous) and out (each owning the
// output's bytes, no copy), Status failures raised as pith.PithError, the
// GIL released while Pith compiles, optimizes or runs. python/pith/__init__.py
// is the documented, typed interface on top.
//
//===----------------------------------------------------------------------===//

#include "pith/API/Pith.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/variant.h>
#include <nanobind/stl/vector.h>

#include <stdexcept>

namespace nb = nanobind;
using namespace pith::api;

namespace {

/// What a failed Status becomes: pith.PithError with its message.
struct PithError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(const Status &status) {
  if (!status)
    throw PithError(status.message());
}

template <typename T> T take(Result<T> result) {
  check(result.status());
  return std::move(result.value());
}

using Array = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;

nb::dlpack::dtype dlpackOf(DataType type) {
  using Code = nb::dlpack::dtype_code;
  auto make = [](Code code, int bits) {
    return nb::dlpack::dtype{static_cast<uint8_t>(code), static_cast<uint8_t>(bits), 1};
  };
  switch (type) {
  case DataType::Float: return make(Code::Float, 32);
  case DataType::Double: return make(Code::Float, 64);
  case DataType::Float16: return make(Code::Float, 16);
  case DataType::BFloat16: return make(Code::Bfloat, 16);
  case DataType::Int8: return make(Code::Int, 8);
  case DataType::Int16: return make(Code::Int, 16);
  case DataType::Int32: return make(Code::Int, 32);
  case DataType::Int64: return make(Code::Int, 64);
  case DataType::UInt8: return make(Code::UInt, 8);
  case DataType::UInt16: return make(Code::UInt, 16);
  case DataType::UInt32: return make(Code::UInt, 32);
  case DataType::UInt64: return make(Code::UInt, 64);
  case DataType::Bool: return make(Code::Bool, 8);
  }
  throw PithError("an output has element type " + dataTypeName(type) +
                  ", which numpy cannot hold");
}

DataType dataTypeOf(const Array &array, const std::string &what) {
  using Code = nb::dlpack::dtype_code;
  nb::dlpack::dtype dtype = array.dtype();
  auto code = static_cast<Code>(dtype.code);
  if (dtype.lanes == 1) {
    if (code == Code::Float && dtype.bits == 32) return DataType::Float;
    if (code == Code::Float && dtype.bits == 64) return DataType::Double;
    if (code == Code::Float && dtype.bits == 16) return DataType::Float16;
    if (code == Code::Bfloat && dtype.bits == 16) return DataType::BFloat16;
    if (code == Code::Bool && dtype.bits == 8) return DataType::Bool;
    if (code == Code::Int) {
      switch (dtype.bits) {
      case 8: return DataType::Int8;
      case 16: return DataType::Int16;
      case 32: return DataType::Int32;
      case 64: return DataType::Int64;
      }
    }
    if (code == Code::UInt) {
      switch (dtype.bits) {
      case 8: return DataType::UInt8;
      case 16: return DataType::UInt16;
      case 32: return DataType::UInt32;
      case 64: return DataType::UInt64;
      }
    }
  }
  throw PithError(what + " has an element type Pith does not run");
}

/// A numpy array owning the output's bytes (moved, not copied).
nb::object toNumpy(Tensor &&tensor) {
  // bfloat16 leaves as its uint16 bits; the package views them as
  // ml_dtypes.bfloat16.
  nb::dlpack::dtype dtype = dlpackOf(
      tensor.dataType == DataType::BFloat16 ? DataType::UInt16 : tensor.dataType);
  auto *bytes = new std::vector<char>(std::move(tensor.data));
  nb::capsule owner(bytes, [](void *p) noexcept { delete static_cast<std::vector<char> *>(p); });
  std::vector<size_t> shape(tensor.shape.begin(), tensor.shape.end());
  nb::ndarray<nb::numpy> array(bytes->data(), shape.size(), shape.data(), owner, nullptr,
                               dtype);
  return array.cast();
}

nb::dict infoDict(const TensorInfo &info) {
  nb::dict d;
  d["name"] = info.name;
  d["dtype"] = dataTypeName(info.dataType);
  if (info.ranked)
    d["shape"] = info.shape;
  else
    d["shape"] = nb::none();
  return d;
}

nb::list infoList(const std::vector<TensorInfo> &infos) {
  nb::list list;
  for (const TensorInfo &info : infos)
    list.append(infoDict(info));
  return list;
}

} // namespace

NB_MODULE(_pith, m) {
  m.doc() = "Pith's C++ API (include/pith/API/Pith.h); use the `pith` package.";
  m.attr("API_VERSION") = kApiVersion;
  nb::exception<PithError>(m, "PithError", PyExc_RuntimeError);

  nb::class_<CompiledModel>(m, "CompiledModel")
      .def_prop_ro("inputs", [](const CompiledModel &c) { return infoList(c.inputs()); })
      .def_prop_ro("outputs", [](const CompiledModel &c) { return infoList(c.outputs()); })
      .def_prop_ro("peak_intermediate_bytes", &CompiledModel::peakIntermediateBytes)
      .def_prop_ro("compile_seconds", &CompiledModel::compileSeconds)
      .def("run", [](const CompiledModel &compiled, const std::vector<Array> &arrays) {
        std::vector<TensorView> views;
        for (size_t i = 0; i < arrays.size(); ++i) {
          const Array &array = arrays[i];
          std::string what = i < compiled.inputs().size()
                                 ? "input '" + compiled.inputs()[i].name + "'"
                                 : "input " + std::to_string(i);
          TensorView view;
          view.dataType = dataTypeOf(array, what);
          // numpy has no bfloat16 of its own: the package passes ml_dtypes'
          // bfloat16 arrays as their uint16 bits.
          if (view.dataType == DataType::UInt16 && i < compiled.inputs().size() &&
              compiled.inputs()[i].dataType == DataType::BFloat16)
            view.dataType = DataType::BFloat16;
          for (size_t d = 0; d < array.ndim(); ++d)
            view.shape.push_back(static_cast<int64_t>(array.shape(d)));
          view.data = array.data();
          views.push_back(std::move(view));
        }
        std::optional<Result<std::vector<Tensor>>> outputs;
        {
          nb::gil_scoped_release release;
          outputs.emplace(compiled.run(views));
        }
        nb::list result;
        for (Tensor &tensor : take(std::move(*outputs)))
          result.append(toNumpy(std::move(tensor)));
        return result;
      });

  nb::class_<Model>(m, "Model")
      .def_static("load", [](const std::string &path) {
        nb::gil_scoped_release release;
        return take(Model::load(path));
      })
      .def_static("load_bytes", [](nb::bytes bytes, const std::string &name) {
        std::string_view view(bytes.c_str(), bytes.size());
        nb::gil_scoped_release release;
        return take(Model::loadBytes(view, name));
      })
      .def_prop_ro("inputs", [](const Model &model) { return infoList(model.inputs()); })
      .def_prop_ro("outputs", [](const Model &model) { return infoList(model.outputs()); })
      .def("optimize",
           [](Model &model, const std::string &pipeline, const std::string &calibration,
              bool progress) {
             OptimizeOptions options;
             options.calibrationPath = calibration;
             options.progress = progress;
             nb::gil_scoped_release release;
             check(model.optimize(pipeline, options));
           })
      .def("optimize_pass",
           [](Model &model, const std::string &pass, const PassOptions &passOptions,
              const std::string &calibration, bool progress) {
             OptimizeOptions options;
             options.calibrationPath = calibration;
             options.progress = progress;
             nb::gil_scoped_release release;
             check(model.optimize(pass, passOptions, options));
           })
      .def("report_json", [](const Model &model) { return model.report().json; })
      .def("save", [](const Model &model, const std::string &path, bool sparseInitializers) {
        nb::gil_scoped_release release;
        check(model.save(path, sparseInitializers));
      })
      .def("to_bytes", [](const Model &model) {
        std::optional<Result<std::string>> bytes;
        {
          nb::gil_scoped_release release;
          bytes.emplace(model.toBytes());
        }
        std::string data = take(std::move(*bytes));
        return nb::bytes(data.data(), data.size());
      })
      .def("train",
           [](Model &model, const std::map<std::string, Array> &arrays, const nb::dict &settings,
              nb::object onEpoch) {
             std::map<std::string, TensorView> data;
             for (const auto &[name, array] : arrays) {
               TensorView view;
               view.dataType = dataTypeOf(array, "data '" + name + "'");
               for (size_t d = 0; d < array.ndim(); ++d)
                 view.shape.push_back(static_cast<int64_t>(array.shape(d)));
               view.data = array.data();
               data[name] = std::move(view);
             }
             TrainOptions options;
             for (auto [key, value] : settings) {
               std::string name = nb::cast<std::string>(key);
               if (name == "loss") options.loss = nb::cast<std::string>(value);
               else if (name == "loss_output") options.lossOutput = nb::cast<std::string>(value);
               else if (name == "optimizer") options.optimizer = nb::cast<std::string>(value);
               else if (name == "learning_rate") options.learningRate = nb::cast<double>(value);
               else if (name == "schedule") options.schedule = nb::cast<std::string>(value);
               else if (name == "warmup") options.warmupFraction = nb::cast<double>(value);
               else if (name == "weight_decay") options.weightDecay = nb::cast<double>(value);
               else if (name == "momentum") options.momentum = nb::cast<double>(value);
               else if (name == "beta1") options.beta1 = nb::cast<double>(value);
               else if (name == "beta2") options.beta2 = nb::cast<double>(value);
               else if (name == "epsilon") options.epsilon = nb::cast<double>(value);
               else if (name == "clip_norm") options.clipNorm = nb::cast<double>(value);
               else if (name == "epochs") options.epochs = nb::cast<int64_t>(value);
               else if (name == "batch_size") options.batchSize = nb::cast<int64_t>(value);
               else if (name == "seed") options.seed = nb::cast<uint64_t>(value);
               else if (name == "freeze") options.freeze = nb::cast<std::vector<std::string>>(value);
               else if (name == "memory_budget") options.memoryBudget = nb::cast<std::string>(value);
               else if (name == "remat_solver") options.rematSolver = nb::cast<std::string>(value);
               else throw PithError("train: unknown option '" + name + "'");
             }
             auto report = [](const EpochReport &e) {
               nb::dict d;
               d["epoch"] = e.epoch;
               d["steps"] = e.steps;
               d["loss"] = e.meanLoss;
               d["seconds"] = e.seconds;
               d["samples_per_second"] = e.samplesPerSecond;
               return d;
             };
             std::optional<Result<TrainingRun>> run;
             {
               nb::gil_scoped_release release;
               run.emplace(model.train(data, options, [&](const EpochReport &epoch) {
                 if (onEpoch.is_none())
                   return;
                 nb::gil_scoped_acquire acquire;
                 onEpoch(report(epoch));
               }));
             }
             TrainingRun done = take(std::move(*run));
             nb::dict result;
             nb::list epochs;
             for (const EpochReport &e : done.epochs)
               epochs.append(report(e));
             result["epochs"] = epochs;
             result["losses"] = done.losses;
             result["arena_bytes"] = done.arenaBytes;
             result["step_bytes"] = done.stepBytes;
             result["compile_seconds"] = done.compileSeconds;
             result["report"] = done.report;
             return result;
           },
           nb::arg("data"), nb::arg("settings"), nb::arg("on_epoch").none())
      .def("compile",
           [](const Model &model, const std::string &target, const std::string &gpuMath,
              const std::map<std::string, std::vector<int64_t>> &inputShapes) {
             CompileOptions options;
             options.target = target;
             options.gpuMath = gpuMath;
             options.inputShapes = inputShapes;
             nb::gil_scoped_release release;
             return take(model.compile(options));
           });
}
