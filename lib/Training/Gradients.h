//===- Gradients.h - Reverse-mode rules for ONNX ops -----------*- C++ -*-===//
//
// Internal to lib/Training. For one forward ONNX op and the gradients of
// its results, the onnx ops that compute the gradients of its operands.
// Every rule emits standard ONNX ops (of the module's opset), so a training
// step is itself an ONNX model: Pith compiles it like any other, and
// onnxruntime can run it to check Pith.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_TRAINING_GRADIENTS_H
#define PITH_LIB_TRAINING_GRADIENTS_H

#include "Pith/PithDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <optional>
#include <string>

namespace pith::training {

/// pith-autodiff marks the ops of the loss, backward pass and update with
/// this unit attribute; pith-remat tells forward from backward by it.
inline constexpr llvm::StringLiteral kBackwardAttr = dialect::kBackwardAttrName;
/// pith-remat marks each recomputed op with the node it recomputes.
inline constexpr llvm::StringLiteral kRecomputeAttr = dialect::kRecomputeAttrName;

/// Builds onnx ops at one insertion point, with static result types: the
/// training step is built for fixed input shapes.
class OnnxBuilder {
public:
  OnnxBuilder(mlir::OpBuilder &b, mlir::ModuleOp module, mlir::Location loc)
      : b(b), module(module), loc(loc) {}

  mlir::Value op(llvm::StringRef type, mlir::ValueRange operands, mlir::Type result,
                 llvm::ArrayRef<mlir::NamedAttribute> attrs = {});
  mlir::Value ints(llvm::ArrayRef<int64_t> values);
  /// A rank-0 constant of `element` (f32 unless given).
  mlir::Value scalar(double value, mlir::Type element = {});
  mlir::Value zeros(mlir::RankedTensorType type);
  mlir::Value none();

  mlir::Value add(mlir::Value a, mlir::Value c) { return binary("Add", a, c); }
  mlir::Value sub(mlir::Value a, mlir::Value c) { return binary("Sub", a, c); }
  mlir::Value mul(mlir::Value a, mlir::Value c) { return binary("Mul", a, c); }
  mlir::Value div(mlir::Value a, mlir::Value c) { return binary("Div", a, c); }
  /// An elementwise op with numpy broadcasting; the result type follows.
  mlir::Value binary(llvm::StringRef type, mlir::Value a, mlir::Value c);
  mlir::Value unary(llvm::StringRef type, mlir::Value x);
  /// `x` converted to `element` (an ONNX Cast).
  mlir::Value cast(mlir::Value x, mlir::Type element);
  /// A boolean comparison (Greater, Equal, ...) cast to `x`'s float type.
  mlir::Value mask(llvm::StringRef type, mlir::Value x, mlir::Value y);
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose(mlir::Value x, llvm::ArrayRef<int64_t> perm);
  /// Sums over `axes`; `keepdims` keeps them as 1.
  mlir::Value reduceSum(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepdims);
  mlir::Value expand(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  /// Sums a gradient of a broadcast result down to an operand's shape.
  mlir::Value unbroadcast(mlir::Value grad, mlir::RankedTensorType target);
  mlir::Value matmul(mlir::Value a, mlir::Value c);
  /// alpha * op(a) * op(c), op transposing where asked (a 2-D Gemm).
  mlir::Value gemm(mlir::Value a, mlir::Value c, bool transA, bool transC, double alpha);

  mlir::OpBuilder &builder() { return b; }
  mlir::ModuleOp getModule() { return module; }
  mlir::Location getLoc() { return loc; }

private:
  mlir::OpBuilder &b;
  mlir::ModuleOp module;
  mlir::Location loc;
  mlir::Value noneValue;
};

/// The gradient rule's view of one op: the gradients of its results (null
/// where none flows back) and which operands need one.
struct GradientRequest {
  mlir::Operation *op;
  llvm::StringRef type; // the ONNX op type
  llvm::ArrayRef<mlir::Value> resultGrads;
  std::function<bool(unsigned)> needs;
};

/// Fills `operandGrads` (one slot per operand, null where none is needed
/// or none flows) for `request.op`. Returns "" on success, else why the op
/// cannot be differentiated (the caller names the node).
std::string differentiate(const GradientRequest &request, OnnxBuilder &g,
                          llvm::SmallVectorImpl<mlir::Value> &operandGrads);

/// Whether ops of `type` have a gradient rule.
bool hasGradientRule(llvm::StringRef type);

/// The ONNX op type of an onnx-dialect op ("" for another op).
llvm::StringRef onnxTypeOf(mlir::Operation *op);

/// The integer contents of a constant operand (onnx.Constant or an integer
/// onnx.Initializer), if it is one.
std::optional<llvm::SmallVector<int64_t>> constantInts(mlir::Value value);

} // namespace pith::training

#endif // PITH_LIB_TRAINING_GRADIENTS_H
