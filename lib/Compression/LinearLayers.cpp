//===- LinearLayers.cpp - Linear layers as matrices, and their factoring --===//

#include "LinearLayers.h"

#include "Weights.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace pith;
using namespace pith::compression;

namespace {
using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

double floatAttr(Operation *op, StringRef name, double fallback) {
  auto attr = op->getAttrOfType<FloatAttr>(name);
  return attr ? attr.getValueAsDouble() : fallback;
}
int64_t intAttr(Operation *op, StringRef name, int64_t fallback) {
  auto attr = op->getAttrOfType<IntegerAttr>(name);
  return attr ? attr.getInt() : fallback;
}
} // namespace

int64_t Linear::rows() const {
  auto type = cast<RankedTensorType>(dialect::ParameterOp(weight).getType());
  return type.getDimSize(transposed ? 1 : 0);
}

int64_t Linear::columns() const {
  auto type = cast<RankedTensorType>(dialect::ParameterOp(weight).getType());
  return type.getDimSize(transposed ? 0 : 1);
}

std::string compression::asLinear(Operation *op, Linear &linear) {
  StringRef name = op->getName().getStringRef();
  bool isMatMul = name.starts_with("onnx.MatMul"), isGemm = name.starts_with("onnx.Gemm");
  if ((!isMatMul && !isGemm) || op->getNumOperands() < 2)
    return "not a MatMul or Gemm";
  auto use = op->getOperand(1).getDefiningOp<dialect::UseOp>();
  if (!use)
    return "its weight is computed at run time, not a stored parameter";
  dialect::ParameterOp weight = parameterOf(use);
  auto type = weight ? dyn_cast<RankedTensorType>(weight.getType()) : RankedTensorType();
  if (!type || !type.getElementType().isF32())
    return "its weight is not f32";
  if (type.getRank() != 2)
    return "its weight is " + std::to_string(type.getRank()) + "-D, not a matrix";
  if (!use->hasOneUse())
    return "its weight has other users";
  linear = {op, use, weight, false, Value()};
  if (isMatMul)
    return "";
  if (intAttr(op, "transA", 0) || floatAttr(op, "alpha", 1) != 1)
    return "a Gemm with transA or alpha";
  linear.transposed = intAttr(op, "transB", 0);
  if (op->getNumOperands() > 2 && !isa<NoneType>(op->getOperand(2).getType())) {
    auto bias = dyn_cast<RankedTensorType>(op->getOperand(2).getType());
    if (floatAttr(op, "beta", 1) != 1 || !bias || bias.getRank() != 1 ||
        bias.getDimSize(0) != linear.columns())
      return "a Gemm whose bias is not a vector added as is";
    linear.bias = op->getOperand(2);
  }
  return "";
}

Matrix compression::matrixOf(const Linear &linear) {
  dialect::ParameterOp weight = linear.weight;
  auto type = cast<RankedTensorType>(weight.getType());
  std::vector<float> values = WeightData(weight.getValue()).toFloats();
  Eigen::Map<RowMajorF> stored(values.data(), type.getDimSize(0), type.getDimSize(1));
  Matrix m = stored.cast<double>();
  return linear.transposed ? Matrix(m.transpose()) : m;
}

ElementsAttr compression::weightOf(MLIRContext *ctx, const Matrix &m, StringRef key) {
  RowMajorF rowMajor = m.cast<float>();
  std::vector<float> values(rowMajor.data(), rowMajor.data() + rowMajor.size());
  return makeWeight(RankedTensorType::get({m.rows(), m.cols()}, Float32Type::get(ctx)), key,
                    values);
}

void compression::replaceWithFactors(Linear &layer, dialect::ParameterOp left,
                                     dialect::ParameterOp right) {
  OpBuilder b(layer.op);
  Location loc = layer.op->getLoc();
  auto read = [&](dialect::ParameterOp parameter) -> Value {
    return dialect::UseOp::create(b, loc, parameter.getType(),
                                  FlatSymbolRefAttr::get(parameter.getSymNameAttr()));
  };
  Value leftValue = read(left), rightValue = read(right);
  auto factored = dialect::FactoredLinearOp::create(b, loc, layer.op->getResult(0).getType(),
                                                    layer.op->getOperand(0), leftValue,
                                                    rightValue, layer.bias);
  layer.op->getResult(0).replaceAllUsesWith(factored.getResult());
  layer.op->erase();
  layer.weightUse.erase();
  layer.weight.erase();
}

llvm::Expected<std::vector<Matrix>> compression::inputMoments(OutputErrorMeter &meter,
                                                              ModuleOp module,
                                                              ArrayRef<Value> inputs,
                                                              ArrayRef<int64_t> widths) {
  std::vector<Matrix> moments;
  if (inputs.empty())
    return moments;
  auto captured = meter.capture(module, inputs);
  if (!captured)
    return llvm::createStringError("reading activations: " +
                                   llvm::toString(captured.takeError()));
  for (auto [tensor, k] : llvm::zip(*captured, widths)) {
    if (tensor.dataType != 1 || tensor.shape.empty() || tensor.shape.back() != k)
      return llvm::createStringError("a layer input is not an f32 [..., " + std::to_string(k) +
                                     "] tensor");
    int64_t rows = tensor.numElements() / k;
    Eigen::Map<const RowMajorF> x(reinterpret_cast<const float *>(tensor.data.data()), rows, k);
    Matrix xd = x.cast<double>();
    moments.push_back(xd.transpose() * xd / double(std::max<int64_t>(rows, 1)));
    tensor = HostTensor(); // free it
  }
  return moments;
}

std::optional<Matrix> compression::whiteningOf(const Matrix &moment) {
  int64_t k = moment.rows();
  double ridge = 1e-6 * moment.trace() / k + 1e-12;
  for (int attempt = 0; attempt < 6; ++attempt, ridge *= 100) {
    Eigen::LLT<Matrix> llt(moment + ridge * Matrix::Identity(k, k));
    if (llt.info() == Eigen::Success)
      return Matrix(llt.matrixL());
  }
  return std::nullopt;
}
