//===- Weights.h - Reading, making and reporting weights --------*- C++ -*-===//
//
// What every compression pass needs: a weight's data as numbers, new
// weights as resource blobs, and the
// `pith.report` entries that tell the user what a pass did.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_COMPRESSION_WEIGHTS_H
#define PITH_LIB_COMPRESSION_WEIGHTS_H

#include "Pith/PithDialect.h"
#include "pith/Compression/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace pith::compression {

/// A float weight's elements read as doubles, whatever the float type
/// (f16, bf16, f32, f64). Holds the bytes (a view of a resource blob, or
/// its own copy of a dense attribute).
class WeightData {
public:
  explicit WeightData(mlir::ElementsAttr value);
  int64_t size() const { return count; }
  double operator[](int64_t i) const;
  /// The raw bytes, `size() * bytes per element`.
  llvm::ArrayRef<char> bytes() const { return data; }
  /// All elements as f32 (what the lossy passes compute on).
  std::vector<float> toFloats() const;

private:
  llvm::ArrayRef<char> data;
  std::vector<char> owned;
  mlir::Type elementType;
  int64_t count = 0;
};

/// Bytes one element of a float weight takes.
int64_t elementBytes(mlir::Type elementType);
/// Bytes of a parameter's data.
int64_t parameterBytes(dialect::ParameterOp parameter);

/// An f32 tensor of `type`'s shape holding `values`, as a resource blob
/// named after `key`.
mlir::ElementsAttr makeWeight(mlir::RankedTensorType type, llvm::StringRef key,
                              llvm::ArrayRef<float> values);

/// A new parameter `name` (made unique) at the end of the module.
dialect::ParameterOp createParameter(mlir::ModuleOp module, llvm::StringRef name,
                                     mlir::ElementsAttr value,
                                     llvm::ArrayRef<mlir::Attribute> sources);

/// The parameter `use` reads.
dialect::ParameterOp parameterOf(dialect::UseOp use);

/// The `pith.use` ops reading each parameter, by symbol.
llvm::DenseMap<mlir::StringAttr, llvm::SmallVector<dialect::UseOp>>
collectUses(mlir::ModuleOp module);

/// Appends a report entry for `pass`: its lines, and its figures.
void appendReport(mlir::ModuleOp module, llvm::StringRef pass,
                  llvm::ArrayRef<std::string> lines,
                  llvm::ArrayRef<mlir::NamedAttribute> figures);

/// "1.23 MB", "4.0 kB", "512 B".
std::string formatBytes(int64_t bytes);

/// A node without a weight to name it by: its ONNX name, or where it is.
std::string describeNode(mlir::Location loc);

} // namespace pith::compression

#endif // PITH_LIB_COMPRESSION_WEIGHTS_H
