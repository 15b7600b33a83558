//===- ONNXToLinalg.h - Lower the onnx dialect to linalg --------*- C++ -*-===//
//
// The onnx -> linalg/tensor/arith/math conversion. Lowerings are keyed by ONNX
// operator type, so one lowering serves every opset version of an operator
// (onnx.Add, onnx.AddV7, ...), and live in one file per operator family
// (Elementwise.cpp, MatMul.cpp, ...), each contributing through a
// `populate...Lowerings` function.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_CONVERSION_ONNXTOLINALG_ONNXTOLINALG_H
#define PITH_CONVERSION_ONNXTOLINALG_ONNXTOLINALG_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/StringMap.h"

#include <functional>

namespace pith {

/// Lowers one onnx op given its converted operands (absent optional inputs
/// are null values). Returns the values replacing the op's results (null for
/// an absent optional result), or failure after emitting an error on `op`
/// that says what is unsupported.
using ONNXLowering = std::function<llvm::FailureOr<llvm::SmallVector<mlir::Value>>(
    mlir::Operation *op, llvm::ArrayRef<mlir::Value> operands,
    mlir::ConversionPatternRewriter &rewriter)>;

/// Lowerings by ONNX operator type ("Add", "MatMul", ...).
class ONNXLoweringTable {
public:
  void add(llvm::StringRef onnxOpType, ONNXLowering lowering) {
    lowerings[onnxOpType] = std::move(lowering);
  }
  const ONNXLowering *lookup(llvm::StringRef onnxOpType) const {
    auto it = lowerings.find(onnxOpType);
    return it == lowerings.end() ? nullptr : &it->second;
  }
  /// Every operator type with a lowering, sorted.
  std::vector<std::string> operatorTypes() const;

private:
  llvm::StringMap<ONNXLowering> lowerings;
};

/// The table with every family's lowerings.
const ONNXLoweringTable &getONNXLoweringTable();

void populateElementwiseLowerings(ONNXLoweringTable &table);
void populateMatMulLowerings(ONNXLoweringTable &table);
void populateShapeLowerings(ONNXLoweringTable &table);
void populateReductionLowerings(ONNXLoweringTable &table);
void populateConvLowerings(ONNXLoweringTable &table);
void populateResampleLowerings(ONNXLoweringTable &table);
void populateQuantizationLowerings(ONNXLoweringTable &table);
void populateRecurrentLowerings(ONNXLoweringTable &table);
void populateSignalLowerings(ONNXLoweringTable &table);

/// The type code generation uses for an ONNX value's type: unsigned integer
/// elements become signless; null for types it cannot handle.
mlir::Type convertONNXType(mlir::Type type);

/// ONNX tensors to builtin tensors that arith and linalg accept: unsigned
/// integer elements become signless (operations pick signed or unsigned
/// forms from the original types).
class ONNXToLinalgTypeConverter : public mlir::TypeConverter {
public:
  ONNXToLinalgTypeConverter();
};

/// The pattern dispatching every onnx op to its lowering.
void populateONNXToLinalgConversionPatterns(
    ONNXToLinalgTypeConverter &typeConverter, mlir::RewritePatternSet &patterns,
    const ONNXLoweringTable &table);

/// Checks, before any code is generated, that every op of `module` has a
/// lowering and every value a known tensor type. Emits one error per
/// offending node (on the op, whose location names the node).
llvm::LogicalResult checkLowerable(mlir::ModuleOp module,
                                   const ONNXLoweringTable &table);

} // namespace pith

#endif // PITH_CONVERSION_ONNXTOLINALG_ONNXTOLINALG_H
