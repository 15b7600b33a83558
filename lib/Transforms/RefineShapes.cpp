//===- RefineShapes.cpp - Static types for onnx values ---------------------===//
//
// One forward walk over each graph function, subgraphs included, in program
// order. Two things are tracked:
//
//  * the contents of small integer tensors of rank 0 or 1 (shapes, axes,
//    indices), from constants, initializers and Shape/Size of ranked
//    tensors, through the ops that compute shapes (Gather, Concat,
//    Unsqueeze, Slice, Cast, arithmetic, ...). An entry may be unknown
//    (ShapedType::kDynamic): Shape of a tensor with a dynamic dimension
//    still knows the others.
//  * result types: each op's ONNX type has a shape rule (elementwise,
//    broadcasting, Reshape to a known shape, MatMul, Transpose, ...) whose
//    answer is merged into the result's current type.
//
// A result type is only ever replaced by a more precise one consistent with
// it: !onnx.unknown or unranked becomes ranked, dynamic dimensions become
// static. Where the rule contradicts a static type (an invalid model), the
// type stays as it is. The graph function's result types follow the
// returned values. Subgraph ops (If, Loop, Scan) keep their result types;
// values inside their regions are refined like any other.
//
// This file is the driver: the walk, merging each rule's answer into the
// result types, and the function signature. The tracked integer contents
// are in ShapeValues.cpp, the per-op shape rules in ShapeRules.cpp.
//
//===----------------------------------------------------------------------===//

#include "ShapeRules.h"
#include "ShapeValues.h"

#include "pith/Transforms/Passes.h"

#include "ONNX/ONNXDialect.h"
#include "ONNX/ONNXOps.h"
#include "ONNX/ONNXSchema.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

namespace pith {
#define GEN_PASS_DEF_REFINESHAPESPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;
using namespace pith::shapes;

namespace {

class Refiner {
public:
  explicit Refiner(MLIRContext *ctx) : ctx(ctx) {}

  void run(func::FuncOp func) {
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa_and_nonnull<pith::ONNX::ONNXDialect>(op->getDialect()))
        visit(op);
    });
    refineFunctionResults(func);
  }

private:
  MLIRContext *ctx;
  ShapeValues values;

  //===--------------------------------------------------------------------===//
  // Types
  //===--------------------------------------------------------------------===//

  /// Merges `info` into the type of `v` when that makes it more precise and
  /// does not contradict it.
  void refine(Value v, const TypeInfo &info) {
    Type old = v.getType();
    Type element = info.element;
    if (auto tensor = dyn_cast<TensorType>(old)) {
      if (element && element != tensor.getElementType())
        return;
      element = tensor.getElementType();
    } else if (!isa<pith::ONNX::UnknownType>(old)) {
      return;
    }
    if (!element)
      return;
    if (!info.dims) {
      if (isa<pith::ONNX::UnknownType>(old))
        v.setType(UnrankedTensorType::get(element));
      return;
    }
    Dims dims = *info.dims;
    for (int64_t d : dims)
      if (d != kUnknown && d < 0)
        return;
    if (auto ranked = dyn_cast<RankedTensorType>(old)) {
      if (ranked.getRank() != static_cast<int64_t>(dims.size()))
        return;
      for (auto [i, d] : llvm::enumerate(dims)) {
        if (ranked.isDynamicDim(i))
          continue;
        if (d != kUnknown && d != ranked.getDimSize(i))
          return; // never contradict a static size
        d = ranked.getDimSize(i);
      }
      auto refined = RankedTensorType::get(dims, element, ranked.getEncoding());
      if (refined != ranked)
        v.setType(refined);
      return;
    }
    v.setType(RankedTensorType::get(dims, element));
  }

  void refineFunctionResults(func::FuncOp func) {
    if (func.getBody().empty())
      return;
    auto ret = dyn_cast<func::ReturnOp>(func.getBody().back().getTerminator());
    if (!ret || ret.getNumOperands() != func.getNumResults())
      return;
    SmallVector<Type> results(func.getResultTypes());
    bool changed = false;
    for (auto [i, operand] : llvm::enumerate(ret.getOperands())) {
      Type type = operand.getType();
      if (type == results[i])
        continue;
      // Only a refinement of the declared type.
      Type declared = results[i];
      bool refines = false;
      if (isa<pith::ONNX::UnknownType>(declared)) {
        refines = isa<TensorType>(type);
      } else if (auto declaredTensor = dyn_cast<TensorType>(declared)) {
        auto tensor = dyn_cast<TensorType>(type);
        refines = tensor &&
                  tensor.getElementType() == declaredTensor.getElementType() &&
                  tensor.hasRank();
        if (refines && declaredTensor.hasRank()) {
          auto a = cast<RankedTensorType>(declaredTensor);
          auto b = cast<RankedTensorType>(tensor);
          refines = a.getRank() == b.getRank();
          for (int64_t d = 0; refines && d < a.getRank(); ++d)
            refines = a.isDynamicDim(d) || a.getDimSize(d) == b.getDimSize(d);
        }
      }
      if (refines) {
        results[i] = type;
        changed = true;
      }
    }
    if (changed)
      func.setFunctionType(
          FunctionType::get(ctx, func.getArgumentTypes(), results));
  }

  //===--------------------------------------------------------------------===//
  // Visiting one op
  //===--------------------------------------------------------------------===//

  void visit(Operation *op) {
    if (auto init = dyn_cast<pith::ONNX::InitializerOp>(op)) {
      values.record(init.getResult(), readInts(init.getValue()));
      return;
    }
    const pith::ONNX::OpSchema *schema =
        pith::ONNX::lookupSchemaByOpName(op->getName().getStringRef());
    if (!schema || op->getNumResults() == 0)
      return;
    StringRef type = schema->opType;
    SmallVector<TypeInfo> infos = inferTypes(op, type, schema, values);
    for (auto [result, info] : llvm::zip(op->getResults(), infos))
      refine(result, info);
    if (op->getNumResults() >= 1 && !isAbsent(op->getResult(0)))
      values.record(op->getResult(0), values.inferValues(op, type, schema));
    // A tracked result also tells its own type.
    if (const Known *k = values.lookup(op->getResult(0)))
      refine(op->getResult(0),
             {nullptr, k->scalar ? Dims{}
                                 : Dims{static_cast<int64_t>(k->values.size())}});
  }
};

struct RefineShapesPass
    : public pith::impl::RefineShapesPassBase<RefineShapesPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      Refiner(&getContext()).run(func);
  }
};
} // namespace
