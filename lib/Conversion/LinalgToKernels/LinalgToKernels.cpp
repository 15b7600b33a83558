//===- LinalgToKernels.cpp - Matmuls and convolutions as kernel calls -----===//
//
// The heavy contractions go to tuned library kernels (lib/Kernels) rather
// than generated loops; the kernels' C interface takes memref descriptors,
// so the calls pass the buffers as they are, cast to dynamic shapes.
//
//===----------------------------------------------------------------------===//

#include "pith/Conversion/Passes.h"

#include "KernelCalls.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

#include <limits>

namespace pith {
#define GEN_PASS_DEF_LINALGTOKERNELCALLSPASS
#include "pith/Conversion/Passes.h.inc"
} // namespace pith

using namespace mlir;
using pith::kernels::isPlainF32;
using pith::kernels::kernelDecl;
using pith::kernels::readsTransposedRhs;
using pith::kernels::toDynamic;

namespace {

/// Replaces `op` by a call to `name` with its operands (cast to dynamic
/// shapes) followed by integer parameters.
void replaceWithCall(ModuleOp module, Operation *op, StringRef name,
                     ArrayRef<int64_t> parameters) {
  OpBuilder b(op);
  Location loc = op->getLoc();
  SmallVector<Value> args;
  for (Value operand : op->getOperands())
    args.push_back(toDynamic(b, loc, operand));
  for (int64_t parameter : parameters)
    args.push_back(arith::ConstantIntOp::create(b, loc, parameter, 64));
  func::FuncOp decl = kernelDecl(module, name, ValueRange(args).getTypes());
  func::CallOp::create(b, loc, decl, args);
  op->erase();
}

bool allPlainF32(Operation *op) {
  return llvm::all_of(op->getOperands(), isPlainF32);
}

/// The kernel name suffix for a contraction's operands (A, B, C): "f32";
/// "bf16" or "f16" for 16-bit float A and B accumulated into an f32 C (what
/// a low-precision MatMul lowers to); "" when no kernel takes them.
StringRef contractionSuffix(Operation *op) {
  if (allPlainF32(op))
    return "f32";
  if (op->getNumOperands() != 3 || !isPlainF32(op->getOperand(2)))
    return "";
  auto a = dyn_cast<MemRefType>(op->getOperand(0).getType());
  auto b = dyn_cast<MemRefType>(op->getOperand(1).getType());
  if (!a || !b || !a.getLayout().isIdentity() || !b.getLayout().isIdentity() ||
      a.getElementType() != b.getElementType())
    return "";
  if (a.getElementType().isBF16())
    return "bf16";
  if (a.getElementType().isF16())
    return "f16";
  return "";
}

/// What a channels-last convolution's elementwise consumer does to its
/// result, in the one order oneDNN's post-ops express:
/// clip(conv + bias[c] + residual, lo, hi).
struct Epilogue {
  linalg::GenericOp op;
  Value bias, residual;
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
};

/// Whether `op` at or after `from` in its block reads `buffer` before
/// overwriting all of it. Arena views are shared between tensors whose
/// lifetimes do not overlap, so the scan stops at the first full overwrite.
bool isReadAfter(Operation *from, Value buffer) {
  for (Operation *op = from; op; op = op->getNextNode()) {
    bool uses = false;
    op->walk([&](Operation *nested) {
      uses |= llvm::is_contained(nested->getOperands(), buffer);
    });
    if (!uses)
      continue;
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    if (linalgOp && !llvm::is_contained(linalgOp.getDpsInputs(), buffer) &&
        llvm::all_of(linalgOp.getDpsInitsMutable(), [&](OpOperand &init) {
          return init.get() != buffer ||
                 (!linalgOp.payloadUsesValueFromOperand(&init) &&
                  linalgOp.getMatchingIndexingMap(&init).isIdentity());
        }))
      return false;
    return true;
  }
  return false;
}

/// The elementwise generic right after `conv` that is the only reader of its
/// result, if its body is a chain the post-ops express.
std::optional<Epilogue> matchEpilogue(Operation *conv, Value result) {
  Operation *next = conv->getNextNode();
  while (next && isa<memref::ViewOp, arith::ConstantOp>(next))
    next = next->getNextNode();
  auto op = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!op || op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 0 ||
      op.getNumLoops() != 4 || op->hasAttr("pith.kernel") ||
      !isPlainF32(op.getDpsInits()[0]) ||
      op.payloadUsesValueFromOperand(op.getDpsInitOperand(0)) ||
      !op.getIndexingMapsArray().back().isIdentity() ||
      op.getDpsInits()[0].getType() != result.getType() ||
      isReadAfter(op->getNextNode(), result))
    return std::nullopt;
  Epilogue epilogue{op, {}, {}};
  Block *body = op.getBody();
  Value current;
  for (OpOperand *input : op.getDpsInputOperands())
    if (input->get() == result && op.getMatchingIndexingMap(input).isIdentity())
      current = body->getArgument(input->getOperandNumber());
  if (!current)
    return std::nullopt;
  // Which input a block argument stands for, and how it is indexed.
  auto inputOf = [&](Value value) -> OpOperand * {
    auto arg = dyn_cast<BlockArgument>(value);
    if (!arg || arg.getOwner() != body || arg.getArgNumber() >= op.getNumDpsInputs())
      return nullptr;
    return op.getDpsInputOperand(arg.getArgNumber());
  };
  auto constantOf = [](Value value) -> std::optional<float> {
    auto constant = value.getDefiningOp<arith::ConstantFloatOp>();
    if (!constant)
      return std::nullopt;
    return static_cast<float>(constant.value().convertToFloat());
  };
  MLIRContext *context = op.getContext();
  AffineMap channelMap = AffineMap::get(4, 0, getAffineDimExpr(3, context), context);
  // Steps must come in post-op order: bias, residual, then clipping.
  int stage = 0;
  for (Operation &step : body->without_terminator()) {
    if (step.getNumOperands() != 2 || step.getNumResults() != 1)
      return std::nullopt;
    Value other = step.getOperand(0) == current ? step.getOperand(1) : step.getOperand(0);
    if (other == current ||
        (step.getOperand(0) != current && step.getOperand(1) != current))
      return std::nullopt;
    OpOperand *input = inputOf(other);
    if (isa<arith::AddFOp>(step) && input && stage == 0 &&
        op.getMatchingIndexingMap(input) == channelMap && isPlainF32(input->get())) {
      epilogue.bias = input->get();
      stage = 1;
    } else if (isa<arith::AddFOp>(step) && input && stage <= 1 &&
               op.getMatchingIndexingMap(input).isIdentity() &&
               isPlainF32(input->get()) && input->get() != result) {
      epilogue.residual = input->get();
      stage = 2;
    } else if (isa<arith::MaximumFOp, arith::MaxNumFOp>(step) && constantOf(other)) {
      epilogue.lo = std::max(epilogue.lo, *constantOf(other));
      epilogue.hi = std::max(epilogue.hi, epilogue.lo);
      stage = 3;
    } else if (isa<arith::MinimumFOp, arith::MinNumFOp>(step) && constantOf(other)) {
      epilogue.hi = std::min(epilogue.hi, *constantOf(other));
      epilogue.lo = std::min(epilogue.lo, epilogue.hi);
      stage = 3;
    } else {
      return std::nullopt;
    }
    current = step.getResult(0);
  }
  if (body->getTerminator()->getOperand(0) != current)
    return std::nullopt;
  return epilogue;
}

/// Whether two buffers may share bytes. Arena views are compared by their
/// byte ranges (liveness planning lets buffers that are never live together
/// share bytes, which a fused call, reading and writing at one point, must
/// not); distinct function arguments are taken not to alias.
bool mayOverlap(Value a, Value b) {
  if (a == b)
    return true;
  auto viewA = a.getDefiningOp<memref::ViewOp>(), viewB = b.getDefiningOp<memref::ViewOp>();
  if (viewA && viewB) {
    if (viewA.getSource() != viewB.getSource())
      return true;
    auto shiftA = getConstantIntValue(viewA.getByteShift());
    auto shiftB = getConstantIntValue(viewB.getByteShift());
    auto bytes = [](Value v) {
      auto type = cast<MemRefType>(v.getType());
      return type.getNumElements() * type.getElementTypeBitWidth() / 8;
    };
    if (!shiftA || !shiftB)
      return true;
    return *shiftA < *shiftB + bytes(b) && *shiftB < *shiftA + bytes(a);
  }
  auto isArgument = [](Value v) { return isa<BlockArgument>(v); };
  return !((viewA || isArgument(a)) && (viewB || isArgument(b)));
}

/// `linalg.fill` of zero into `buffer` right before `conv`, if any.
linalg::FillOp zeroFillBefore(Operation *conv, Value buffer) {
  Operation *previous = conv->getPrevNode();
  while (previous && isa<memref::ViewOp, arith::ConstantOp>(previous))
    previous = previous->getPrevNode();
  auto fill = dyn_cast_or_null<linalg::FillOp>(previous);
  if (!fill || fill.getOutputs()[0] != buffer)
    return {};
  auto zero = fill.getInputs()[0].getDefiningOp<arith::ConstantFloatOp>();
  return zero && zero.value().isPosZero() ? fill : linalg::FillOp();
}

/// The nearest op before `op`, skipping views, casts and constants.
Operation *previousEffect(Operation *op) {
  Operation *previous = op->getPrevNode();
  while (previous && isa<memref::ViewOp, memref::SubViewOp, memref::CollapseShapeOp,
                         memref::ExpandShapeOp, arith::ConstantOp>(previous))
    previous = previous->getPrevNode();
  return previous;
}

/// Whether `op` writes zero into every element of `buffer` (linalg.fill, or
/// the linalg.map bufferization makes of tensor.pad).
bool zeroesAll(Operation *op, Value buffer) {
  auto isZero = [](Value value) {
    auto constant = value.getDefiningOp<arith::ConstantFloatOp>();
    return constant && constant.value().isZero();
  };
  if (auto fill = dyn_cast_or_null<linalg::FillOp>(op))
    return fill.getOutputs()[0] == buffer && isZero(fill.getInputs()[0]);
  auto map = dyn_cast_or_null<linalg::MapOp>(op);
  return map && map.getInit() == buffer && map.getInputs().empty() &&
         isZero(map.getMapper().front().getTerminator()->getOperand(0));
}

/// A channels-last convolution's image that bufferization padded by zeroing
/// a buffer and copying the unpadded tensor into its interior: the kernel
/// can read the unpadded tensor and pad by itself (PlanBuffers keeps that
/// tensor alive until the convolution for this).
struct FoldedPadding {
  Value source;
  int64_t top, left, bottom, right;
  Operation *zero, *copy;
};

std::optional<FoldedPadding> matchPadding(Operation *conv) {
  Value padded = conv->getOperand(0);
  auto copy = dyn_cast_or_null<memref::CopyOp>(previousEffect(conv));
  // Skip the zero fill of the convolution's own output, if it comes between.
  if (!copy && previousEffect(conv) && zeroesAll(previousEffect(conv), conv->getOperand(2)))
    copy = dyn_cast_or_null<memref::CopyOp>(previousEffect(previousEffect(conv)));
  if (!copy)
    return std::nullopt;
  auto interior = copy.getTarget().getDefiningOp<memref::SubViewOp>();
  if (!interior || interior.getSource() != padded || !isPlainF32(copy.getSource()) ||
      !interior.hasUnitStride() || isReadAfter(conv->getNextNode(), padded))
    return std::nullopt;
  Operation *zero = previousEffect(copy);
  if (!zeroesAll(zero, padded))
    return std::nullopt;
  auto offsets = interior.getStaticOffsets();
  auto sizes = interior.getStaticSizes();
  auto full = cast<MemRefType>(padded.getType()).getShape();
  if (ShapedType::isDynamicShape(offsets) || ShapedType::isDynamicShape(sizes) ||
      offsets[0] != 0 || offsets[3] != 0 || sizes[0] != full[0] || sizes[3] != full[3])
    return std::nullopt;
  return FoldedPadding{copy.getSource(), offsets[1], offsets[2],
                       full[1] - offsets[1] - sizes[1], full[2] - offsets[2] - sizes[2],
                       zero, copy};
}

/// A channels-last convolution whose output was zeroed just before and is
/// consumed by an epilogue: one kernel call computes the epilogue's result
/// directly (bias, residual and clipping as oneDNN post-ops), and the zero
/// fill, the intermediate buffer pass and the epilogue loop disappear.
bool fuseConvolutionEpilogue(ModuleOp module, Operation *conv, Value image,
                             StringRef kernel, ArrayRef<int64_t> parameters) {
  Value result = conv->getOperand(2);
  linalg::FillOp fill = zeroFillBefore(conv, result);
  if (!fill)
    return false;
  std::optional<Epilogue> epilogue = matchEpilogue(conv, result);
  if (!epilogue)
    return false;
  Value output = epilogue->op.getDpsInits()[0];
  if (mayOverlap(output, image) ||
      (epilogue->residual && mayOverlap(output, epilogue->residual)))
    return false;
  // Only views and constants lie between the convolution and its epilogue:
  // the call can go at the epilogue, where its output buffer is defined.
  OpBuilder b(epilogue->op);
  Location loc = conv->getLoc();
  auto f32 = b.getF32Type();
  // Absent operands are passed as empty buffers, with a flag saying so.
  Value bias = epilogue->bias, residual = epilogue->residual;
  int64_t present = (bias ? 1 : 0) | (residual ? 2 : 0);
  if (!bias)
    bias = memref::AllocaOp::create(b, loc, MemRefType::get({0}, f32));
  if (!residual)
    residual = memref::AllocaOp::create(b, loc, MemRefType::get({0, 0, 0, 0}, f32));
  SmallVector<Value> args;
  for (Value operand : {image, conv->getOperand(1), bias, residual, output})
    args.push_back(toDynamic(b, loc, operand));
  for (int64_t parameter : parameters)
    args.push_back(arith::ConstantIntOp::create(b, loc, parameter, 64));
  args.push_back(arith::ConstantIntOp::create(b, loc, present, 64));
  args.push_back(arith::ConstantFloatOp::create(b, loc, f32, APFloat(epilogue->lo)));
  args.push_back(arith::ConstantFloatOp::create(b, loc, f32, APFloat(epilogue->hi)));
  func::FuncOp decl = kernelDecl(module, ("pith_kernel_" + kernel + "_fused").str(),
                                 ValueRange(args).getTypes());
  func::CallOp::create(b, loc, decl, args);
  epilogue->op->erase();
  conv->erase();
  fill->erase();
  return true;
}

/// The body acc + a * b over (a, b, acc) block arguments, a and b possibly
/// widened first (16-bit floats accumulated in f32).
bool isMultiplyAccumulate(Block *body) {
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  size_t widened = 0;
  for (Operation &op : *body)
    widened += isa<arith::ExtFOp>(op);
  if (!add || body->getOperations().size() != 3 + widened)
    return false;
  Value acc = body->getArgument(2);
  if (add.getLhs() != acc && add.getRhs() != acc)
    return false;
  auto mul = (add.getLhs() == acc ? add.getRhs() : add.getLhs()).getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  auto source = [](Value v) {
    if (auto ext = v.getDefiningOp<arith::ExtFOp>())
      return ext.getIn();
    return v;
  };
  Value a = body->getArgument(0), b = body->getArgument(1);
  Value x = source(mul.getLhs()), y = source(mul.getRhs());
  return (x == a && y == b) || (x == b && y == a);
}

/// How numpy matmul's generic (what the MatMul lowering emits for symbolic
/// shapes) maps onto a kernel: loops (batch..., m, n, k) with maps
/// (batch..., m, k) x (k, n) -> (batch..., m, n) (a weight shared by all
/// rows: the 2-D kernel) or (batch..., m, k) x (batch..., k, n) (equal
/// batches: the batched kernel).
enum class MatmulForm { None, SharedRight, Batched };

MatmulForm matmulForm(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 1 || op.getNumLoops() < 4 ||
      op.getIteratorTypesArray().back() != utils::IteratorType::reduction ||
      !isMultiplyAccumulate(op.getBody()))
    return MatmulForm::None;
  unsigned loops = op.getNumLoops(), batch = loops - 3;
  MLIRContext *context = op.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, context); };
  auto map = [&](ArrayRef<AffineExpr> exprs) { return AffineMap::get(loops, 0, exprs, context); };
  SmallVector<AffineExpr> batchDims, lhs, rhs, out;
  for (unsigned i = 0; i < batch; ++i)
    batchDims.push_back(d(i));
  AffineExpr m = d(batch), n = d(batch + 1), k = d(batch + 2);
  lhs = batchDims, lhs.append({m, k});
  out = batchDims, out.append({m, n});
  rhs = batchDims, rhs.append({k, n});
  auto maps = op.getIndexingMapsArray();
  if (maps[0] != map(lhs) || maps[2] != map(out))
    return MatmulForm::None;
  if (maps[1] == map({k, n}))
    return MatmulForm::SharedRight;
  if (maps[1] == map(rhs))
    return MatmulForm::Batched;
  return MatmulForm::None;
}

/// `buffer` with its first `count` dimensions collapsed into one (a view of
/// a contiguous buffer, no copy).
Value collapseLeadingDims(OpBuilder &b, Location loc, Value buffer, int64_t count) {
  int64_t rank = cast<MemRefType>(buffer.getType()).getRank();
  if (count <= 1)
    return buffer;
  SmallVector<ReassociationIndices> groups(1);
  for (int64_t i = 0; i < count; ++i)
    groups[0].push_back(i);
  for (int64_t i = count; i < rank; ++i)
    groups.push_back({i});
  return memref::CollapseShapeOp::create(b, loc, buffer, groups).getResult();
}

/// Pattern: numpy matmul's generic ==> the matmul kernel on [rows, K] x
/// [K, N] views, or the batched kernel on [batch, M, K] x [batch, K, N].
void matmulGenericToCall(ModuleOp module, linalg::GenericOp op, MatmulForm form) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  int64_t batch = op.getNumLoops() - 3;
  Value a = op.getDpsInputs()[0], w = op.getDpsInputs()[1], c = op.getDpsInits()[0];
  std::string kernel;
  StringRef suffix = contractionSuffix(op);
  if (form == MatmulForm::SharedRight) {
    a = collapseLeadingDims(b, loc, a, batch + 1);
    c = collapseLeadingDims(b, loc, c, batch + 1);
    kernel = ("pith_kernel_matmul_" + suffix).str();
  } else {
    a = collapseLeadingDims(b, loc, a, batch);
    w = collapseLeadingDims(b, loc, w, batch);
    c = collapseLeadingDims(b, loc, c, batch);
    kernel = ("pith_kernel_batch_matmul_" + suffix).str();
  }
  SmallVector<Value> args = {toDynamic(b, loc, a), toDynamic(b, loc, w), toDynamic(b, loc, c)};
  func::FuncOp decl = kernelDecl(module, kernel, ValueRange(args).getTypes());
  func::CallOp::create(b, loc, decl, args);
  op->erase();
}

/// Whether `value` is (a view of) a weight argument of the graph with at
/// least kSparseWeightFrom of its elements zero.
bool isSparseWeight(Value value) {
  while (Operation *view = value.getDefiningOp()) {
    if (!isa<memref::TransposeOp, memref::CastOp, memref::CollapseShapeOp,
             memref::ExpandShapeOp>(view))
      return false;
    value = view->getOperand(0);
  }
  auto arg = dyn_cast<BlockArgument>(value);
  auto func = arg ? dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()) : func::FuncOp();
  if (!func || arg.getOwner() != &func.getBody().front())
    return false;
  auto zeros = func.getArgAttrOfType<FloatAttr>(arg.getArgNumber(), pith::kZeroFractionAttrName);
  return zeros && zeros.getValueAsDouble() >= pith::kSparseWeightFrom;
}

/// Replaces `op` by a call to `kernel`(A, B as the matmul reads it (a
/// transposed view for A[m,k] * B[n,k]), C), all passed strided:
/// - @pith_kernel_matmul_strided_f32 for a matmul reading B transposed: the
///   kernel reads B through strides, no transposed copy is made;
/// - @pith_kernel_sparse_matmul_f32 for a mostly-zero weight B: it packs B's
///   nonzeros once and measures itself against the dense kernel.
void stridedMatmulToCall(ModuleOp module, linalg::MatmulOp op, StringRef kernel) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Value> args;
  for (Value operand : {op.getDpsInputs()[0], pith::kernels::rhsAsRead(b, op), op.getDpsInits()[0]})
    args.push_back(pith::kernels::toStrided(b, loc, operand));
  func::FuncOp decl = kernelDecl(module, kernel, ValueRange(args).getTypes());
  func::CallOp::create(b, loc, decl, args);
  op->erase();
}

struct LinalgToKernelCallsPass
    : public pith::impl::LinalgToKernelCallsPassBase<LinalgToKernelCallsPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (target != "cpu" && target != "cuda") {
      module.emitError("pith-linalg-to-kernel-calls: unknown target '")
          << target << "' (cpu or cuda)";
      return signalPassFailure();
    }
    SmallVector<Operation *> matmuls, batchMatmuls, convs, depthwise, tagged;
    SmallVector<linalg::MatmulOp> transposedMatmuls, sparseMatmuls;
    SmallVector<linalg::GenericOp> matmulGenerics;
    module.walk([&](Operation *op) {
      auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
      if (!linalgOp || !linalgOp.hasPureBufferSemantics())
        return;
      StringRef suffix = contractionSuffix(op);
      bool f32 = suffix == "f32";
      if (suffix.empty() ||
          (!f32 && !isa<linalg::MatmulOp, linalg::BatchMatmulOp, linalg::GenericOp>(op)))
        return;
      if (auto matmul = dyn_cast<linalg::MatmulOp>(op)) {
        bool readable = !matmul.hasUserDefinedMaps() || readsTransposedRhs(matmul);
        if (f32 && readable && isSparseWeight(matmul.getDpsInputs()[1]))
          sparseMatmuls.push_back(matmul);
        else if (!matmul.hasUserDefinedMaps())
          matmuls.push_back(op);
        else if (readsTransposedRhs(matmul))
          transposedMatmuls.push_back(matmul);
      } else if (auto batch = dyn_cast<linalg::BatchMatmulOp>(op)) {
        if (!batch.hasUserDefinedMaps())
          batchMatmuls.push_back(op);
      } else if (isa<linalg::Conv2DNchwFchwOp>(op)) {
        convs.push_back(op);
      } else if (isa<linalg::DepthwiseConv2DNchwChwOp>(op)) {
        depthwise.push_back(op);
      } else if (isa<linalg::GenericOp>(op) && op->hasAttr("pith.kernel")) {
        if (!f32)
          return;
        tagged.push_back(op);
      } else if (auto generic = dyn_cast<linalg::GenericOp>(op);
                 generic && matmulForm(generic) != MatmulForm::None) {
        matmulGenerics.push_back(generic);
      }
    });
    // Pattern: numpy matmul's generic (symbolic shapes) ==> the matmul or
    // batched matmul kernel on collapsed views.
    for (linalg::GenericOp op : matmulGenerics)
      matmulGenericToCall(module, op, matmulForm(op));
    // Pattern: linalg.matmul(A, B) -> C  ==>  call @pith_kernel_matmul_f32(A, B, C)
    for (Operation *op : matmuls)
      replaceWithCall(module, op, ("pith_kernel_matmul_" + contractionSuffix(op)).str(), {});
    for (linalg::MatmulOp op : transposedMatmuls)
      stridedMatmulToCall(module, op,
                          ("pith_kernel_matmul_strided_" + contractionSuffix(op)).str());
    for (linalg::MatmulOp op : sparseMatmuls)
      stridedMatmulToCall(module, op, "pith_kernel_sparse_matmul_f32");
    // Pattern: linalg.batch_matmul ==> call @pith_kernel_batch_matmul_f32
    for (Operation *op : batchMatmuls)
      replaceWithCall(module, op, ("pith_kernel_batch_matmul_" + contractionSuffix(op)).str(),
                      {});
    // Pattern: linalg.conv_2d_nchw_fchw{strides, dilations}(X, W) -> Y
    //          ==> call @pith_kernel_conv2d_nchw_f32(X, W, Y, sh, sw, dh, dw)
    for (Operation *op : convs) {
      auto conv = cast<linalg::Conv2DNchwFchwOp>(op);
      SmallVector<int64_t> parameters;
      for (int64_t s : conv.getStrides().getValues<int64_t>())
        parameters.push_back(s);
      for (int64_t d : conv.getDilations().getValues<int64_t>())
        parameters.push_back(d);
      replaceWithCall(module, op, "pith_kernel_conv2d_nchw_f32", parameters);
    }
    // Pattern: linalg.depthwise_conv_2d_nchw_chw{strides, dilations}(X, W) -> Y
    //          ==> call @pith_kernel_depthwise_conv2d_nchw_f32(X, W, Y, sh, sw, dh, dw)
    for (Operation *op : depthwise) {
      auto conv = cast<linalg::DepthwiseConv2DNchwChwOp>(op);
      SmallVector<int64_t> parameters;
      for (int64_t s : conv.getStrides().getValues<int64_t>())
        parameters.push_back(s);
      for (int64_t d : conv.getDilations().getValues<int64_t>())
        parameters.push_back(d);
      replaceWithCall(module, op, "pith_kernel_depthwise_conv2d_nchw_f32", parameters);
    }
    // Pattern: linalg.generic {pith.kernel = K, pith.strides, pith.dilations}
    //          (the channels-last convolutions of pith-convolutions-to-nhwc)
    //          ==> call @pith_kernel_K(X, W, Y, sh, sw, dh, dw)
    //          (pt, pl, pb, pr: zero padding the kernel adds, folded from a
    //          zero fill + copy into the interior of the image buffer)
    //          ==> call @pith_kernel_K(X, W, Y, sh, sw, dh, dw, pt, pl, pb, pr)
    //          or, when a zero fill precedes it and an elementwise epilogue
    //          (bias, residual add, clip/ReLU) alone reads its result,
    //          ==> call @pith_kernel_K_fused(X, W, bias, residual, Z, sh, sw,
    //                                        dh, dw, pt, pl, pb, pr, present, lo, hi)
    for (Operation *op : tagged) {
      SmallVector<int64_t> parameters;
      for (StringRef name : {"pith.strides", "pith.dilations"})
        llvm::append_range(parameters,
                           op->getAttrOfType<DenseI64ArrayAttr>(name).asArrayRef());
      std::optional<FoldedPadding> padding = matchPadding(op);
      Value image = padding ? padding->source : op->getOperand(0);
      if (padding)
        parameters.append({padding->top, padding->left, padding->bottom, padding->right});
      else
        parameters.append({0, 0, 0, 0});
      StringRef kernel = op->getAttrOfType<StringAttr>("pith.kernel").getValue();
      if (!fuseConvolutionEpilogue(module, op, image, kernel, parameters)) {
        op->setOperand(0, image);
        replaceWithCall(module, op, ("pith_kernel_" + kernel).str(), parameters);
      }
      if (padding) {
        padding->copy->erase();
        padding->zero->erase();
      }
    }
    if (target == "cuda" && failed(renameForCUDA(module)))
      signalPassFailure();
  }

  /// The GPU runtime implements the same calls on device memory under the
  /// prefix pith_cuda_ (lib/Runtime/CUDA/Libraries.cpp).
  static LogicalResult renameForCUDA(ModuleOp module) {
    static constexpr llvm::StringLiteral kCUDAKernels[] = {
        "matmul_f32", "matmul_strided_f32", "sparse_matmul_f32", "batch_matmul_f32",
        "conv2d_nchw_f32", "depthwise_conv2d_nchw_f32"};
    for (auto decl : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      StringRef name = decl.getSymName();
      if (!decl.isDeclaration() || !name.consume_front("pith_kernel_"))
        continue;
      if (!llvm::is_contained(kCUDAKernels, name))
        return decl.emitError("no GPU kernel for pith_kernel_") << name;
      auto renamed = StringAttr::get(module.getContext(), "pith_cuda_" + name.str());
      if (failed(SymbolTable::replaceAllSymbolUses(decl, renamed, module)))
        return decl.emitError("cannot rename a kernel call");
      decl.setSymName(renamed);
    }
    return success();
  }
};
} // namespace
