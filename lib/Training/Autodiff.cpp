//===- Autodiff.cpp - A training step from a forward model ---------------===//
//
// pith-autodiff turns the main graph of an inference model into one
// training step, still in the onnx dialect:
//
//   inputs:  the model's inputs, `labels` (cross-entropy) or `targets`
//            (mse), `learning_rate`, `step` (adamw), then every trained
//            parameter under its initializer's name, then the optimizer
//            state (`NAME.momentum`, or `NAME.adam_m` and `NAME.adam_v`);
//   outputs: `loss`, then `NAME.next` for every parameter and state input
//            (or `NAME.grad` with optimizer=none).
//
// A runtime keeps the state by feeding each `X.next` back as `X`. The
// backward pass is reverse-mode differentiation over the ops between the
// parameters and the loss (Gradients.cpp has the rules), appended after the
// forward ops in reverse order, so each activation's last reader comes as
// early as the data flow allows. Everything is standard ONNX: Pith compiles
// the step like any model, and onnxruntime can run it to check Pith.
//
//===----------------------------------------------------------------------===//

#include "pith/Training/Passes.h"
#include "pith/Transforms/Passes.h"

#include "Gradients.h"
#include "Weights.h"

#include "ONNX/ONNXDialect.h"
#include "ONNX/ONNXOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <numeric>

namespace pith {
#define GEN_PASS_DEF_AUTODIFFPASS
#include "pith/Training/Passes.h.inc"
} // namespace pith

using namespace mlir;
using namespace pith;
using namespace pith::training;

namespace {

/// The oldest opset whose ops the gradients are written in (ScatterND and
/// ScatterElements with reduction=add).
constexpr int64_t kMinimumOpset = 16;

StringRef nameOf(func::FuncOp func, unsigned i, bool result) {
  auto name = result ? func.getResultAttrOfType<StringAttr>(i, ONNX::attrs::kName)
                     : func.getArgAttrOfType<StringAttr>(i, ONNX::attrs::kName);
  return name ? name.getValue() : StringRef();
}

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text;
  for (auto [i, d] : llvm::enumerate(shape))
    text += (i ? "x" : "") + (d < 0 ? std::string("?") : std::to_string(d));
  return text.empty() ? "scalar" : text;
}

struct AutodiffPass : public pith::impl::AutodiffPassBase<AutodiffPass> {
  using AutodiffPassBase::AutodiffPassBase;

  void runOnOperation() override {
    if (failed(run(getOperation())))
      signalPassFailure();
  }

  LogicalResult fail(Operation *at, const Twine &message) {
    return at->emitError(getArgument() + ": " + message);
  }

  struct Parameter {
    std::string name;
    BlockArgument value;
    Value grad;
  };

  LogicalResult run(ModuleOp module) {
    if (loss != "cross-entropy" && loss != "mse" && loss != "output")
      return fail(module, "loss: expected 'cross-entropy', 'mse' or 'output', got '" + loss + "'");
    if (optimizer != "adamw" && optimizer != "sgd" && optimizer != "none")
      return fail(module, "optimizer: expected 'adamw', 'sgd' or 'none', got '" + optimizer + "'");
    if (!(clipNorm >= 0))
      return fail(module, llvm::formatv("clip-norm: expected 0 (off) or a positive norm, got {0}",
                                        clipNorm.getValue())
                              .str());
    auto funcs = module.getOps<func::FuncOp>();
    if (funcs.empty())
      return fail(module, "the module has no graph");
    func::FuncOp func = *funcs.begin();
    if (!module.getOps<dialect::ParameterOp>().empty())
      return fail(module, "the model's weights are pith.parameter ops; differentiate it before "
                          "passes that lift them");
    if (int64_t opset = ONNX::defaultOpsetOf(module); opset < kMinimumOpset)
      return fail(module, llvm::formatv("the model's opset is {0}; training needs {1} or newer "
                                        "(convert it with onnx.version_converter)",
                                        opset, kMinimumOpset)
                              .str());
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      auto type = dyn_cast<RankedTensorType>(func.getArgument(i).getType());
      if (!type || !type.hasStaticShape())
        return fail(func, "input '" + nameOf(func, i, false) + "' has shape " +
                              (type ? shapeText(type.getShape()) : std::string("unknown")) +
                              "; a training step is built for fixed shapes (give the batch "
                              "size, or --input-shape)");
    }
    // Import leaves some values untyped (shapes computed at run time from
    // static ones); the gradient rules need every type.
    OpPassManager refine(ModuleOp::getOperationName());
    refine.addPass(createRefineShapesPass());
    if (failed(runPipeline(refine, module)))
      return failure();
    Block &body = func.getBody().front();
    auto returnOp = cast<func::ReturnOp>(body.getTerminator());

    // The output the loss reads.
    unsigned outputIndex = 0;
    if (!lossOutput.empty()) {
      bool found = false;
      for (unsigned i = 0; i < func.getNumResults() && !found; ++i)
        if (nameOf(func, i, true) == lossOutput) {
          outputIndex = i;
          found = true;
        }
      if (!found)
        return fail(func, "loss-output: the model has no output '" + lossOutput + "'");
    }
    if (func.getNumResults() == 0)
      return fail(func, "the model has no outputs");
    Value output = returnOp.getOperand(outputIndex);
    std::string outputName = nameOf(func, outputIndex, true).str();
    auto outputType = dyn_cast<RankedTensorType>(output.getType());
    if (!outputType || !outputType.getElementType().isF32() || !outputType.hasStaticShape())
      return fail(func, "output '" + outputName + "' is not a float32 tensor of known shape "
                        "(training runs in float32)");

    // Trained parameters: float initializers the loss depends on.
    llvm::StringSet<> frozen;
    for (const std::string &name : freeze)
      frozen.insert(name);
    llvm::StringSet<> inputNames;
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      inputNames.insert(nameOf(func, i, false));
    SmallVector<ONNX::InitializerOp> initializers;
    for (auto init : body.getOps<ONNX::InitializerOp>()) {
      auto type = cast<RankedTensorType>(init.getType());
      if (isa<FloatType>(type.getElementType()) && type.getRank() >= 1 &&
          !frozen.contains(init.getName()))
        initializers.push_back(init);
    }
    for (const std::string &name : freeze)
      if (llvm::none_of(body.getOps<ONNX::InitializerOp>(),
                        [&](ONNX::InitializerOp i) { return i.getName() == name; }))
        return fail(func, "freeze: the model has no initializer '" + name + "'");
    // Which values depend on which candidate (the first one, for errors).
    llvm::DenseMap<Value, StringRef> origin;
    for (ONNX::InitializerOp init : initializers)
      origin[init.getResult()] = init.getName();
    SmallVector<Operation *> forward;
    for (Operation &op : body.without_terminator()) {
      if (isa<ONNX::InitializerOp>(op))
        continue;
      forward.push_back(&op);
      for (Value operand : op.getOperands())
        if (auto it = origin.find(operand); it != origin.end()) {
          for (Value result : op.getResults())
            if (auto type = dyn_cast<TensorType>(result.getType());
                type && isa<FloatType>(type.getElementType()))
              origin.try_emplace(result, it->second);
          break;
        }
    }
    if (!origin.count(output))
      return fail(func, "output '" + outputName + "' does not depend on any float weight: "
                                                  "there is nothing to train");

    OpBuilder b(returnOp);
    OnnxBuilder g(b, module, returnOp.getLoc());
    MLIRContext *ctx = module.getContext();
    SmallVector<Type> argTypes(func.getArgumentTypes());
    auto addInput = [&](StringRef name, Type type) -> BlockArgument {
      // The argument goes at the end; insertArgument fails only for an
      // index out of range.
      (void)func.insertArgument(
          func.getNumArguments(), type,
          b.getDictionaryAttr(b.getNamedAttr(ONNX::attrs::kName, b.getStringAttr(name))),
          func.getLoc());
      return func.getArgument(func.getNumArguments() - 1);
    };
    for (StringRef name : {"labels", "targets", "learning_rate", "step"})
      if (inputNames.contains(name))
        return fail(func, "the model already has an input named '" + name.str() + "'");

    // The loss and the gradient it seeds.
    Value lossValue, outputGrad;
    auto scalarF32 = RankedTensorType::get({}, b.getF32Type());
    int64_t count = outputType.getNumElements();
    if (loss == "cross-entropy") {
      if (outputType.getRank() < 1)
        return fail(func, "loss=cross-entropy reads class scores along the last axis; output '" +
                              outputName + "' is a scalar");
      int64_t classes = outputType.getShape().back(), rows = count / classes;
      SmallVector<int64_t> labelShape(outputType.getShape().drop_back());
      Value labels = addInput("labels", RankedTensorType::get(labelShape, b.getI64Type()));
      Value logits = g.reshape(output, {rows, classes});
      auto matrix = RankedTensorType::get({rows, classes}, outputType.getElementType());
      Value logProbs = g.op("LogSoftmax", {logits}, matrix,
                            {b.getNamedAttr("axis", b.getI64IntegerAttr(1))});
      // One-hot rows: labels [rows, 1] == 0..classes-1, as floats.
      SmallVector<int64_t> classIds(classes);
      std::iota(classIds.begin(), classIds.end(), 0);
      Value equal = g.op("Equal", {g.reshape(labels, {rows, 1}), g.ints(classIds)},
                         RankedTensorType::get({rows, classes}, b.getI1Type()));
      Value oneHot = g.cast(equal, outputType.getElementType());
      Value picked = g.reduceSum(g.mul(oneHot, logProbs), {0, 1}, false);
      lossValue = g.mul(g.unary("Neg", picked), g.scalar(1.0 / rows));
      Value grad = g.mul(g.sub(g.unary("Exp", logProbs), oneHot), g.scalar(1.0 / rows));
      outputGrad = g.reshape(grad, outputType.getShape());
    } else if (loss == "mse") {
      Value targets = addInput("targets", outputType);
      Value diff = g.sub(output, targets);
      SmallVector<int64_t> all(outputType.getRank());
      std::iota(all.begin(), all.end(), 0);
      lossValue = g.mul(g.reduceSum(g.mul(diff, diff), all, false), g.scalar(1.0 / count));
      outputGrad = g.mul(diff, g.scalar(2.0 / count));
    } else {
      if (count != 1)
        return fail(func, "loss=output needs a scalar loss; output '" + outputName +
                              "' has shape " + shapeText(outputType.getShape()));
      lossValue = g.reshape(output, {});
      outputGrad = g.expand(g.scalar(1.0), outputType.getShape());
    }

    // Parameters become inputs.
    SmallVector<Parameter> parameters;
    for (ONNX::InitializerOp init : initializers) {
      if (!llvm::any_of(init->getUsers(), [&](Operation *user) {
            return llvm::any_of(user->getResults(),
                                [&](Value r) { return origin.count(r) != 0; });
          }))
        continue;
      if (inputNames.contains(init.getName()))
        return fail(func, "initializer '" + init.getName() + "' has the name of an input");
      BlockArgument arg = addInput(init.getName(), init.getType());
      init.getResult().replaceAllUsesWith(arg);
      origin[arg] = origin[init.getResult()];
      parameters.push_back({init.getName().str(), arg, Value()});
    }

    // Backward, over the forward ops in reverse.
    llvm::DenseMap<Value, Value> grads;
    grads[output] = outputGrad;
    auto accumulate = [&](Value value, Value grad) {
      auto [it, inserted] = grads.try_emplace(value, grad);
      if (!inserted)
        it->second = g.add(it->second, grad);
    };
    int64_t backwardStart = static_cast<int64_t>(body.getOperations().size());
    for (Operation *op : llvm::reverse(forward)) {
      SmallVector<Value> resultGrads;
      bool any = false;
      for (Value result : op->getResults()) {
        resultGrads.push_back(grads.lookup(result));
        any |= bool(resultGrads.back());
      }
      auto needs = [&](unsigned i) { return origin.count(op->getOperand(i)) != 0; };
      bool wanted = false;
      for (unsigned i = 0; i < op->getNumOperands(); ++i)
        wanted |= needs(i);
      if (!any || !wanted)
        continue;
      StringRef type = onnxTypeOf(op);
      StringRef param;
      for (unsigned i = 0; i < op->getNumOperands() && param.empty(); ++i)
        if (needs(i))
          param = origin[op->getOperand(i)];
      std::string where = compression::describeNode(op->getLoc()) + " (" +
                          (type.empty() ? op->getName().getStringRef().str() : type.str()) + ")";
      if (type.empty() || op->getNumRegions() != 0 || !hasGradientRule(type))
        return fail(op, where + " is on the path from parameter '" + param.str() +
                            "' to the loss and has no gradient rule");
      for (Value v : llvm::concat<Value>(op->getOperands(), op->getResults()))
        if (auto tensor = dyn_cast<TensorType>(v.getType()); tensor && !tensor.hasStaticShape())
          return fail(op, where + " on the path from parameter '" + param.str() +
                              "' to the loss has a value of unknown shape");
      SmallVector<Value> operandGrads;
      GradientRequest request{op, type, resultGrads, needs};
      if (std::string why = differentiate(request, g, operandGrads); !why.empty())
        return fail(op, where + " on the path from parameter '" + param.str() +
                            "' to the loss: " + why);
      for (unsigned i = 0; i < op->getNumOperands(); ++i)
        if (operandGrads[i] && needs(i))
          accumulate(op->getOperand(i), operandGrads[i]);
    }
    for (Parameter &p : parameters)
      p.grad = grads.lookup(p.value);
    if (clipNorm > 0) {
      // torch.nn.utils.clip_grad_norm_: every gradient times
      // min(1, max_norm / (total_norm + 1e-6)), the norm over all of them.
      Value squares;
      for (Parameter &p : parameters) {
        if (!p.grad)
          continue;
        SmallVector<int64_t> axes(cast<RankedTensorType>(p.grad.getType()).getRank());
        std::iota(axes.begin(), axes.end(), 0);
        Value sum = g.reduceSum(g.mul(p.grad, p.grad), axes, false);
        squares = squares ? g.add(squares, sum) : sum;
      }
      if (squares) {
        Value norm = g.add(g.unary("Sqrt", squares), g.scalar(1e-6));
        Value scale = g.binary("Min", g.scalar(1.0), g.div(g.scalar(clipNorm), norm));
        for (Parameter &p : parameters)
          if (p.grad)
            p.grad = g.mul(p.grad, scale);
      }
    }

    // The optimizer.
    SmallVector<Value> results = {lossValue};
    SmallVector<std::string> resultNames = {"loss"};
    Value lr, step;
    if (optimizer != "none")
      lr = addInput("learning_rate", scalarF32);
    if (optimizer == "adamw")
      step = addInput("step", scalarF32);
    double decay = weightDecay >= 0 ? weightDecay : optimizer == "adamw" ? 0.01 : 0.0;
    Value biasCorrection1, biasCorrection2;
    if (optimizer == "adamw") {
      auto correction = [&](double beta) {
        Value power = g.binary("Pow", g.scalar(beta), step);
        return g.unary("Reciprocal", g.sub(g.scalar(1.0), power));
      };
      biasCorrection1 = correction(beta1);
      biasCorrection2 = correction(beta2);
    }
    int64_t trainedValues = 0;
    for (Parameter &p : parameters) {
      Value param = p.value, grad = p.grad;
      trainedValues += cast<RankedTensorType>(param.getType()).getNumElements();
      if (!grad)
        grad = g.zeros(cast<RankedTensorType>(param.getType()));
      if (optimizer == "none") {
        results.push_back(grad);
        resultNames.push_back(p.name + ".grad");
        continue;
      }
      if (optimizer == "sgd") {
        // torch.optim.SGD: v = momentum v + (g + decay p); p -= lr v.
        Value direction = decay != 0 ? g.add(grad, g.mul(param, g.scalar(decay))) : grad;
        if (momentum != 0) {
          Value velocity = addInput(p.name + ".momentum", param.getType());
          direction = g.add(g.mul(velocity, g.scalar(momentum)), direction);
          results.push_back(g.sub(param, g.mul(direction, lr)));
          resultNames.push_back(p.name + ".next");
          results.push_back(direction);
          resultNames.push_back(p.name + ".momentum.next");
        } else {
          results.push_back(g.sub(param, g.mul(direction, lr)));
          resultNames.push_back(p.name + ".next");
        }
        continue;
      }
      // torch.optim.AdamW: p -= lr decay p; m, v moments; p -= lr m^ / (sqrt(v^) + eps).
      Value m = addInput(p.name + ".adam_m", param.getType());
      Value v = addInput(p.name + ".adam_v", param.getType());
      Value m2 = g.add(g.mul(m, g.scalar(beta1)), g.mul(grad, g.scalar(1.0 - beta1)));
      Value v2 = g.add(g.mul(v, g.scalar(beta2)), g.mul(g.mul(grad, grad), g.scalar(1.0 - beta2)));
      Value denominator =
          g.add(g.unary("Sqrt", g.mul(v2, biasCorrection2)), g.scalar(epsilon));
      Value update = g.div(g.mul(m2, biasCorrection1), denominator);
      Value decayed = decay != 0 ? g.sub(param, g.mul(param, g.mul(lr, g.scalar(decay)))) : param;
      results.push_back(g.sub(decayed, g.mul(update, lr)));
      resultNames.push_back(p.name + ".next");
      results.push_back(m2);
      resultNames.push_back(p.name + ".adam_m.next");
      results.push_back(v2);
      resultNames.push_back(p.name + ".adam_v.next");
    }

    // Everything after the last forward op is the loss, backward pass and
    // update: marked so that pith-remat tells forward from backward.
    bool after = false;
    for (Operation &op : body) {
      if (after && !isa<func::ReturnOp>(op))
        op.setAttr(kBackwardAttr, b.getUnitAttr());
      after |= !forward.empty() && &op == forward.back();
    }

    // The step's outputs replace the model's.
    int64_t backwardOps =
        static_cast<int64_t>(body.getOperations().size()) - backwardStart;
    func::ReturnOp::create(b, returnOp.getLoc(), results);
    returnOp.erase();
    SmallVector<Type> resultTypes;
    for (Value v : results)
      resultTypes.push_back(v.getType());
    func.setFunctionType(FunctionType::get(ctx, func.getArgumentTypes(), resultTypes));
    SmallVector<DictionaryAttr> resultAttrs;
    for (const std::string &name : resultNames)
      resultAttrs.push_back(
          b.getDictionaryAttr(b.getNamedAttr(ONNX::attrs::kName, b.getStringAttr(name))));
    func.removeResAttrsAttr();
    func.setAllResultAttrs(resultAttrs);
    // Forward values only the model's old outputs read, and the frozen
    // copies of parameters, go.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (isOpTriviallyDead(&op))
        op.erase();

    SmallVector<Attribute> names;
    for (const Parameter &p : parameters)
      names.push_back(b.getStringAttr(p.name));
    module->setAttr("pith.training",
                    b.getDictionaryAttr({b.getNamedAttr("loss", b.getStringAttr(loss)),
                                         b.getNamedAttr("output", b.getStringAttr(outputName)),
                                         b.getNamedAttr("optimizer", b.getStringAttr(optimizer)),
                                         b.getNamedAttr("parameters", b.getArrayAttr(names))}));
    std::vector<std::string> lines = {llvm::formatv(
        "training step: {0} parameters ({1} values), loss {2} on output '{3}', optimizer {4}; "
        "{5} ops added for the loss, backward pass and update",
        parameters.size(), trainedValues, loss, outputName, optimizer, backwardOps)};
    compression::appendReport(
        module, getArgument(), lines,
        {b.getNamedAttr("parameters", b.getI64IntegerAttr(parameters.size())),
         b.getNamedAttr("trained_values", b.getI64IntegerAttr(trainedValues)),
         b.getNamedAttr("added_ops", b.getI64IntegerAttr(backwardOps))});
    return success();
  }
};

} // namespace
