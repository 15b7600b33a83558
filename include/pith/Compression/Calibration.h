//===- Calibration.h - Output error of a model on calibration inputs -*- C++ -*-===//
//
// Lossy passes measure what they cost: the edited module is compiled for the
// CPU and run on calibration inputs, and its outputs compared with the
// original's. The error is relative, in the L2 norm, over all calibration
// inputs at once, the worst over the model's float outputs:
//
//   error = max over outputs o of ||y'_o - y_o||_2 / ||y_o||_2
//
//===----------------------------------------------------------------------===//

#ifndef PITH_COMPRESSION_CALIBRATION_H
#define PITH_COMPRESSION_CALIBRATION_H

#include "pith/Runtime/HostTensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pith {

/// Calibration arrays (numpy .npz, one per model input, named after it),
/// checked against the main graph's inputs by name, rank and static sizes.
llvm::Expected<std::map<std::string, HostTensor>> readCalibration(llvm::StringRef path,
                                                                  mlir::ModuleOp module);

class OutputErrorMeter {
public:
  /// Compiles and runs `reference` on the calibration inputs at `path`.
  static llvm::Expected<std::unique_ptr<OutputErrorMeter>> create(mlir::ModuleOp reference,
                                                                   llvm::StringRef path);
  /// A pass's meter: on the calibration inputs its option names, else on
  /// those `pith optimize --calibration` recorded on the module; null when
  /// there are none.
  static llvm::Expected<std::unique_ptr<OutputErrorMeter>> forPass(mlir::ModuleOp module,
                                                                   llvm::StringRef option);
  /// The error of `candidate`'s outputs against the reference's.
  llvm::Expected<double> measure(mlir::ModuleOp candidate);
  /// The values `values` of `module`'s main graph take on the calibration
  /// inputs (f32 tensors, in order): the module is run with them as extra
  /// outputs. What activation-aware passes read activations with.
  llvm::Expected<std::vector<HostTensor>> capture(mlir::ModuleOp module,
                                                  llvm::ArrayRef<mlir::Value> values);
  /// Calibration samples (the first dimension of the first input).
  int64_t samples() const { return sampleCount; }

private:
  OutputErrorMeter() = default;
  llvm::Expected<std::vector<HostTensor>> run(mlir::ModuleOp module);
  std::map<std::string, HostTensor> inputs;
  std::vector<HostTensor> reference;
  int64_t sampleCount = 0;
};

} // namespace pith

#endif // PITH_COMPRESSION_CALIBRATION_H
