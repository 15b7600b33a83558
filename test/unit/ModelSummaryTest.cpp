//===- ModelSummaryTest.cpp - What an imported model contains -------------===//
//
// summarizeModel counts operators (subgraphs included, structural ops not),
// parameters and their bytes, and reports opsets and the graph interface.
//
//===----------------------------------------------------------------------===//

#include "pith/Analysis/ModelSummary.h"

#include "pith/Import/ONNXImporter.h"
#include "pith/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

using namespace mlir;

namespace {

/// Gemm (without C: an onnx.None that is not a node), Relu, an operator of
/// another domain, and an If whose branches hold an Identity of a subgraph
/// initializer and a Constant.
constexpr const char *kModel = R"(<
  ir_version: 8,
  opset_import: ["" : 17, "com.example" : 1],
  producer_name: "unit-test"
>
g (float[N,3] x, bool cond) => (float[N,4] y, float[2] o)
<float[3,4] w = {1,2,3,4,5,6,7,8,9,10,11,12}, float[4] b = {1,2,3,4}, uint8[3] u = {1,2,3}, bool[3] m = {1,0,1}, int64[2] sh = {2,2}>
{
  y0 = Gemm <alpha = 0.5> (x, w, b)
  y1 = Gemm (x, w, )
  y2 = Add(y0, y1)
  y3 = Relu(y2)
  y = com.example.Scale <factor = 2.0> (y3)
  o = If (cond) <
    then_branch = then_g () => (float[2] tb) <float[2] k = {5, 6}> { tb = Identity(k) },
    else_branch = else_g () => (float[2] eb) { eb = Constant <value = float[2] {3.0, 4.0}> () }
  >
}
)";

class ModelSummaryTest : public ::testing::Test {
protected:
  ModelSummaryTest() {
    pith::registerAllDialects(registry);
    context = std::make_unique<MLIRContext>(registry);
    context->loadAllAvailableDialects();
  }

  OwningOpRef<ModuleOp> import(llvm::StringRef text) {
    auto module = pith::importONNXBuffer(text, /*isText=*/true, "model.onnxtxt",
                                         "", context.get());
    if (!module) {
      ADD_FAILURE() << llvm::toString(module.takeError());
      return {};
    }
    return std::move(*module);
  }

  DialectRegistry registry;
  std::unique_ptr<MLIRContext> context;
};

TEST_F(ModelSummaryTest, Header) {
  auto module = import(kModel);
  ASSERT_TRUE(module);
  pith::ModelSummary summary = pith::summarizeModel(*module);
  EXPECT_EQ(summary.opsets, (std::map<std::string, int64_t>{
                                {"ai.onnx", 17}, {"com.example", 1}}));
  EXPECT_EQ(summary.irVersion, 8);
  EXPECT_EQ(summary.producer, "unit-test");
  EXPECT_EQ(summary.graphName, "g");
}

TEST_F(ModelSummaryTest, InputsAndOutputs) {
  auto module = import(kModel);
  ASSERT_TRUE(module);
  pith::ModelSummary summary = pith::summarizeModel(*module);
  ASSERT_EQ(summary.inputs.size(), 2u);
  EXPECT_EQ(summary.inputs[0].name, "x");
  EXPECT_EQ(summary.inputs[0].type, "tensor<?x3xf32>");
  EXPECT_EQ(summary.inputs[1].name, "cond");
  EXPECT_EQ(summary.inputs[1].type, "tensor<i1>");
  ASSERT_EQ(summary.outputs.size(), 2u);
  EXPECT_EQ(summary.outputs[0].name, "y");
  EXPECT_EQ(summary.outputs[0].type, "tensor<?x4xf32>");
  EXPECT_EQ(summary.outputs[1].name, "o");
  EXPECT_EQ(summary.outputs[1].type, "tensor<2xf32>");
}

TEST_F(ModelSummaryTest, OperatorCounts) {
  auto module = import(kModel);
  ASSERT_TRUE(module);
  pith::ModelSummary summary = pith::summarizeModel(*module);
  std::map<std::string, int64_t> expected = {
      {"Gemm", 2},     {"Add", 1},      {"Relu", 1},
      {"If", 1},       {"Identity", 1}, {"Constant", 1},
      {"com.example.Scale", 1},
  };
  EXPECT_EQ(summary.opCounts, expected);
  // onnx.None, onnx.Initializer, onnx.Yield and func.return are not nodes.
  EXPECT_EQ(summary.nodes, 8);
  EXPECT_EQ(summary.subgraphs, 2);
}

TEST_F(ModelSummaryTest, Parameters) {
  auto module = import(kModel);
  ASSERT_TRUE(module);
  pith::ModelSummary summary = pith::summarizeModel(*module);
  // w 12, b 4, u 3, m 3, sh 2, and k (in the then-branch) 2.
  EXPECT_EQ(summary.initializers, 6);
  EXPECT_EQ(summary.parameters, 12 + 4 + 3 + 3 + 2 + 2);
  // Bytes as ONNX stores them: f32 4, u8 1, bool 1, i64 8.
  EXPECT_EQ(summary.parameterBytes, 48 + 16 + 3 + 3 + 16 + 8);
}

TEST_F(ModelSummaryTest, OpsetVersionsPickOps) {
  // The same Split node is onnx.SplitV13 at opset 17 and onnx.Split at 18;
  // both count as Split.
  for (int opset : {11, 17, 18}) {
    SCOPED_TRACE("opset " + std::to_string(opset));
    std::string text = "<\n  ir_version: 8,\n  opset_import: [\"\" : " +
                       std::to_string(opset) + R"(]
>
g (float[2,4] x) => (float[2,2] p, float[2,2] q)
{
  p, q = Split <axis = 1> (x)
}
)";
    auto module = import(text);
    ASSERT_TRUE(module);
    pith::ModelSummary summary = pith::summarizeModel(*module);
    EXPECT_EQ(summary.opCounts,
              (std::map<std::string, int64_t>{{"Split", 1}}));
    EXPECT_EQ(summary.nodes, 1);
    EXPECT_EQ(summary.opsets.at("ai.onnx"), opset);
    EXPECT_EQ(summary.initializers, 0);
    EXPECT_EQ(summary.parameters, 0);
    EXPECT_EQ(summary.parameterBytes, 0);
    EXPECT_EQ(summary.subgraphs, 0);
  }
}

TEST_F(ModelSummaryTest, OperatorsOfOtherDomainsAreQualified) {
  auto module = import(R"(<
  ir_version: 8,
  opset_import: ["" : 17, "com.microsoft" : 1, "ai.onnx.ml" : 3]
>
g (float[2] x) => (float[2] y, float[2] z)
{
  y = com.microsoft.Gelu (x)
  z = ai.onnx.ml.Normalizer (x)
}
)");
  ASSERT_TRUE(module);
  pith::ModelSummary summary = pith::summarizeModel(*module);
  EXPECT_EQ(summary.opCounts,
            (std::map<std::string, int64_t>{{"com.microsoft.Gelu", 1},
                                            {"ai.onnx.ml.Normalizer", 1}}));
  EXPECT_EQ(summary.nodes, 2);
  EXPECT_EQ(summary.opsets.at("com.microsoft"), 1);
  EXPECT_EQ(summary.opsets.at("ai.onnx.ml"), 3);
}

TEST_F(ModelSummaryTest, AiOnnxOperatorUnknownAtTheOpsetIsNotQualified) {

  auto module = import(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g (float[2] x) => (float[2] y)
{
  y = Gelu (x)
}
)");
  ASSERT_TRUE(module);
  pith::ModelSummary summary = pith::summarizeModel(*module);
  EXPECT_EQ(summary.opCounts, (std::map<std::string, int64_t>{{"Gelu", 1}}));
  EXPECT_EQ(summary.nodes, 1);
}

TEST_F(ModelSummaryTest, EmptyModule) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(context.get()));
  pith::ModelSummary summary = pith::summarizeModel(*module);
  EXPECT_TRUE(summary.opsets.empty());
  EXPECT_EQ(summary.irVersion, 0);
  EXPECT_EQ(summary.producer, "");
  EXPECT_EQ(summary.graphName, "");
  EXPECT_TRUE(summary.inputs.empty());
  EXPECT_TRUE(summary.outputs.empty());
  EXPECT_TRUE(summary.opCounts.empty());
  EXPECT_EQ(summary.nodes, 0);
  EXPECT_EQ(summary.initializers, 0);
}

TEST_F(ModelSummaryTest, PrintedSummary) {
  auto module = import(kModel);
  ASSERT_TRUE(module);
  std::string text;
  llvm::raw_string_ostream os(text);
  pith::printModelSummary(pith::summarizeModel(*module), os);
  for (const char *line : {
           "graph:        g\n",
           "ir version:   8\n",
           "producer:     unit-test\n",
           "opsets:       ai.onnx 17 com.example 1\n",
           "input:        x : tensor<?x3xf32>\n",
           "input:        cond : tensor<i1>\n",
           "output:       y : tensor<?x4xf32>\n",
           "nodes:        8 (7 op types, 2 subgraphs)\n",
           "  Gemm                     2\n",
           "  com.example.Scale        1\n",
           "parameters:   26 in 6 initializers, 94 bytes\n",
       })
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
}

} // namespace
