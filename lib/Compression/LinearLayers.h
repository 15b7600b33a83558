//===- LinearLayers.h - Linear layers as matrices, and their factoring -*- C++ -*-===//
//
// The factoring passes (pith-share-basis, pith-low-rank) see a MatMul or
// Gemm with a parameter weight as y = x . W (+ bias), W a K x N matrix in
// Eigen, and replace it by pith.factored_linear over new parameters.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_COMPRESSION_LINEARLAYERS_H
#define PITH_LIB_COMPRESSION_LINEARLAYERS_H

#include "Pith/PithDialect.h"
#include "pith/Compression/Calibration.h"

#include "mlir/IR/BuiltinOps.h"

#include <Eigen/Dense>

#include <optional>
#include <string>

namespace pith::compression {

using Matrix = Eigen::MatrixXd;

/// y = x . W (+ bias): a MatMul with a 2-D parameter weight, or a Gemm
/// without transA, with alpha = beta = 1 and a vector bias (or none).
struct Linear {
  mlir::Operation *op = nullptr;
  dialect::UseOp weightUse;
  dialect::ParameterOp weight;
  bool transposed = false; // Gemm transB: the stored weight is W^T
  mlir::Value bias;        // null if none
  int64_t rows() const;    // K
  int64_t columns() const; // N
};

/// Fills `linear` for weight operand 1 of `op`; returns why the op is not a
/// linear layer this can factor, or "".
std::string asLinear(mlir::Operation *op, Linear &linear);

/// W as a K x N matrix.
Matrix matrixOf(const Linear &linear);

/// An f32 weight holding `m`, row-major, as a resource blob named `key`.
mlir::ElementsAttr weightOf(mlir::MLIRContext *ctx, const Matrix &m, llvm::StringRef key);

/// X^T X / rows of each layer input in `inputs` (f32 [..., widths[i]]) on
/// the calibration data, from one run of `module`: the second moments
/// activation-aware factoring fits to.
llvm::Expected<std::vector<Matrix>> inputMoments(OutputErrorMeter &meter, mlir::ModuleOp module,
                                                 llvm::ArrayRef<mlir::Value> inputs,
                                                 llvm::ArrayRef<int64_t> widths);

/// L with L L^T = `moment` plus the smallest ridge (from 1e-6 of its mean
/// diagonal up) that lets it factor.
std::optional<Matrix> whiteningOf(const Matrix &moment);

/// Replaces the layer by pith.factored_linear(x, left, right (, bias)) and
/// erases its weight parameter.
void replaceWithFactors(Linear &layer, dialect::ParameterOp left, dialect::ParameterOp right);

} // namespace pith::compression

#endif // PITH_LIB_COMPRESSION_LINEARLAYERS_H
