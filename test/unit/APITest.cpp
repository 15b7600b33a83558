//===- APITest.cpp - The C++ API (include/pith/API/Pith.h) ----------------===//
//
// Errors come back as values with messages (bad paths, bytes, pipelines,
// targets, inputs); a failed optimize leaves the model as it was; a model
// round-trips through bytes; a compiled model computes the right values and
// runs correctly from several threads at once.
//
//===----------------------------------------------------------------------===//

#include "pith/API/Pith.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <thread>

using namespace pith::api;

namespace {

/// y = Relu(x . w + b), x [2,3]; on the ramp below y = [[0, 0.125], [0, 1.25]].
constexpr const char *kModel = R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
mlp (float[2,3] x) => (float[2,2] y)
<float[3,2] w = {1.0, -1.0, 0.5, 0.5, -1.0, 2.0}, float[2] b = {0.25, -0.25}>
{
  h = MatMul(x, w)
  z = Add(h, b)
  y = Relu(z)
}
)";

class APITest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("pith-api", "onnxtxt", path));
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << kModel;
  }
  void TearDown() override { llvm::sys::fs::remove(path); }

  std::string modelPath() const { return std::string(path); }

  llvm::SmallString<128> path;
  std::vector<float> ramp = {-0.5f, -0.25f, 0.0f, 0.25f, 0.5f, 0.75f};
  TensorView input() const { return {DataType::Float, {2, 3}, ramp.data()}; }
};

std::vector<float> floats(const Tensor &tensor) {
  std::vector<float> values(tensor.data.size() / sizeof(float));
  std::memcpy(values.data(), tensor.data.data(), tensor.data.size());
  return values;
}

TEST_F(APITest, LoadsDescribesCompilesAndRuns) {
  Result<Model> model = Model::load(modelPath());
  ASSERT_TRUE(model.ok()) << model.status().message();
  ASSERT_EQ(model->inputs().size(), 1u);
  EXPECT_EQ(model->inputs()[0].name, "x");
  EXPECT_EQ(model->inputs()[0].shape, (std::vector<int64_t>{2, 3}));
  Result<CompiledModel> compiled = model->compile();
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  Result<std::vector<Tensor>> outputs = compiled->run({input()});
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  ASSERT_EQ(outputs->size(), 1u);
  EXPECT_EQ((*outputs)[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(floats((*outputs)[0]), (std::vector<float>{0.0f, 0.125f, 0.0f, 1.25f}));
}

TEST_F(APITest, RoundTripsThroughBytes) {
  Result<Model> model = Model::load(modelPath());
  ASSERT_TRUE(model.ok());
  Result<std::string> bytes = model->toBytes();
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  Result<Model> again = Model::loadBytes(*bytes, "in memory");
  ASSERT_TRUE(again.ok()) << again.status().message();
  Result<CompiledModel> compiled = again->compile();
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(floats(compiled->run({input()}).value()[0]),
            (std::vector<float>{0.0f, 0.125f, 0.0f, 1.25f}));
}

TEST_F(APITest, ErrorsAreValuesWithMessages) {
  Result<Model> missing = Model::load("/no/such/model.onnx");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/no/such/model.onnx"), std::string::npos);
  Result<Model> junk = Model::loadBytes("\x08junk", "junk bytes");
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.status().message().find("junk bytes"), std::string::npos);

  Result<Model> model = Model::load(modelPath());
  ASSERT_TRUE(model.ok());
  Status unknown = model->optimize("pith-no-such-pass");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("pith-no-such-pass"), std::string::npos);
  Status option = model->optimize("pith-low-rank{no-such-option=1}");
  ASSERT_FALSE(option.ok());
  EXPECT_NE(option.message().find("no-such-option"), std::string::npos);
  Status named = model->optimize("pith-low-rank{rank=1 min-size=0 layers=nothing}");
  ASSERT_FALSE(named.ok());
  EXPECT_NE(named.message().find("no MatMul, Gemm or Conv weight 'nothing'"), std::string::npos)
      << named.message();
  EXPECT_TRUE(model->report().passes.empty());

  Result<CompiledModel> gpu = model->compile({"gpu", {}});
  ASSERT_FALSE(gpu.ok());
  EXPECT_EQ(gpu.status().message(), "compile: unknown target 'gpu' (cpu or cuda)");

  Result<CompiledModel> compiled = model->compile();
  ASSERT_TRUE(compiled.ok());
  std::vector<double> doubles(6);
  auto wrongType = compiled->run({{DataType::Double, {2, 3}, doubles.data()}});
  ASSERT_FALSE(wrongType.ok());
  EXPECT_EQ(wrongType.status().message(), "input 'x' must be float32, got float64");
  auto wrongShape = compiled->run({{DataType::Float, {3, 2}, ramp.data()}});
  ASSERT_FALSE(wrongShape.ok());
  EXPECT_EQ(wrongShape.status().message(), "input 'x' must have shape [2,3], got [3,2]");
  auto noData = compiled->run({{DataType::Float, {2, 3}, nullptr}});
  ASSERT_FALSE(noData.ok());
  EXPECT_EQ(noData.status().message(), "input 'x' has no data");
  auto none = compiled->run({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "the model takes 1 inputs, got 0");
}

TEST_F(APITest, OptimizeRunsRegisteredPassesAndReports) {
  Result<Model> model = Model::load(modelPath());
  ASSERT_TRUE(model.ok());
  Status status = model->optimize("pith-dedup-weights,pith-low-rank{rank=1 min-size=0}");
  ASSERT_TRUE(status.ok()) << status.message();
  Report report = model->report();
  ASSERT_EQ(report.passes.size(), 2u);
  EXPECT_EQ(report.passes[0].pass, "pith-dedup-weights");
  EXPECT_EQ(report.passes[1].pass, "pith-low-rank");
  // w (3x2) at rank 1 would need 3 + 2 of its 6 parameters: below
  // break-even, reported and left dense.
  ASSERT_EQ(report.passes[1].lines.size(), 2u);
  EXPECT_EQ(report.passes[1].lines[1],
            "not factored: 'w' (3x2): rank 1 would not save (break-even 1)");
  EXPECT_EQ(report.cost.parameters, 8);
  EXPECT_NE(report.json.find("\"pass\": \"pith-low-rank\""), std::string::npos);
}

TEST_F(APITest, TypedPassOptionsAreThePipelineSyntax) {
  Result<Model> typed = Model::load(modelPath());
  Result<Model> text = Model::load(modelPath());
  ASSERT_TRUE(typed.ok() && text.ok());
  Status status = typed->optimize(
      "pith-low-rank", PassOptions{{"rank", int64_t(1)}, {"min-size", int64_t(0)},
                                   {"layers", std::vector<std::string>{"w"}}});
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_TRUE(text->optimize("pith-low-rank{rank=1 min-size=0 layers=w}").ok());
  EXPECT_EQ(typed->report().json, text->report().json);
  Status wrongType = typed->optimize("pith-low-rank", PassOptions{{"rank", 0.5}});
  ASSERT_FALSE(wrongType.ok());
  EXPECT_NE(wrongType.message().find("rank"), std::string::npos) << wrongType.message();
}

TEST_F(APITest, MovedFromObjectsAnswerWithErrors) {
  Result<Model> model = Model::load(modelPath());
  ASSERT_TRUE(model.ok());
  Result<CompiledModel> compiled = model->compile();
  ASSERT_TRUE(compiled.ok());
  Model taken = std::move(*model);
  EXPECT_EQ(model->optimize("canonicalize").message(), "the model was moved from");
  EXPECT_EQ(model->compile().status().message(), "the model was moved from");
  EXPECT_EQ(model->save("/tmp/unused.onnx").message(), "the model was moved from");
  EXPECT_TRUE(model->inputs().empty());
  EXPECT_TRUE(taken.optimize("canonicalize").ok());
  CompiledModel kept = std::move(*compiled);
  EXPECT_EQ(compiled->run({input()}).status().message(), "the compiled model was moved from");
  EXPECT_TRUE(compiled->inputs().empty());
  EXPECT_TRUE(kept.run({input()}).ok());
}

TEST_F(APITest, OneCompiledModelRunsFromSeveralThreads) {
  Result<Model> model = Model::load(modelPath());
  ASSERT_TRUE(model.ok());
  Result<CompiledModel> compiled = model->compile();
  ASSERT_TRUE(compiled.ok());
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto outputs = compiled->run({input()});
        if (!outputs.ok() ||
            floats((*outputs)[0]) != std::vector<float>{0.0f, 0.125f, 0.0f, 1.25f})
          ++wrong[t];
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(wrong, (std::vector<int>{0, 0, 0, 0}));
}

} // namespace
