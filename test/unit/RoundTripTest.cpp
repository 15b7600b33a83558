//===- RoundTripTest.cpp - ONNX import and export, round trips ------------===//
//
// ONNX text -> onnx dialect -> binary ONNX -> onnx dialect prints the same
// IR; initializer bytes survive exactly; small tensor attributes stay inline;
// exportONNXFile replaces files atomically; bad input gives clear errors.
//
//===----------------------------------------------------------------------===//

#include "pith/Export/ONNXExporter.h"
#include "pith/Import/ONNXImporter.h"
#include "pith/Proto/ONNXProto.h"

#include "ONNX/ONNXOps.h"
#include "pith/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "onnx/onnx_pb.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

using namespace mlir;
using pith::ONNX::InitializerOp;

namespace {

/// A model with most of what the importer handles: initializers, named and
/// omitted optional inputs, an op versioned by opset (Split-13), symbolic
/// dimensions, an If with two subgraphs, an operator of another domain, and
/// tensor attributes on both sides of the inline limit.
std::string richModelText(bool customOp = true) {
  std::string big, small;
  for (int i = 0; i < 65; ++i)
    big += (i ? ", " : "") + std::to_string(i) + ".5";
  for (int i = 0; i < 64; ++i)
    small += (i ? ", " : "") + std::to_string(i) + ".25";
  std::string custom =
      customOp ? "t = com.example.Scale <factor = 2.5> (s)" : "t = Neg(s)";
  return R"(<
  ir_version: 8,
  opset_import: ["" : 17, "com.example" : 1],
  producer_name: "unit-test"
>
g (float[2,3] x, float[3,4] w, bool cond, float[N,4] s) => (float[2,4] y, float[2,2] p, float[2,2] q, float[N,4] t, float[2] o, float[65] big, float[64] small)
<float[4] b = {1.0, 2.0, 3.0, 4.0}, int64[2] sh = {2, 2}, double[2] d = {0.5, 0.25}>
{
  y0 = Gemm <alpha = 0.5, transB = 0> (x, w, b)
  y1 = Gemm (x, w, )
  y = Add(y0, y1)
  p, q = Split <axis = 1> (y)
  )" + custom + R"(
  o = If (cond) <
    then_branch = then_g () => (float[2] tb) { tb = Constant <value = float[2] {1.0, 2.0}> () },
    else_branch = else_g () => (float[2] eb) { eb = Constant <value = float[2] {3.0, 4.0}> () }
  >
  big = Constant <value = float[65] {)" +
         big + R"(}> ()
  small = Constant <value = float[64] {)" +
         small + R"(}> ()
}
)";
}

/// The same without the operator of another domain (see
/// MLIRTextRoundTripWithCustomOp).
std::string schemaOnlyModelText() {
  return R"(<
  ir_version: 8,
  opset_import: ["" : 17],
  producer_name: "unit-test"
>
g (float[2,3] x, float[3,4] w, bool cond) => (float[2,4] y, float[2,2] p, float[2,2] q, float[2] o)
<float[4] b = {1.0, 2.0, 3.0, 4.0}>
{
  y0 = Gemm <alpha = 0.5> (x, w, b)
  y1 = Gemm (x, w, )
  y = Add(y0, y1)
  p, q = Split <axis = 1> (y)
  o = If (cond) <
    then_branch = then_g () => (float[2] tb) { tb = Constant <value = float[2] {1.0, 2.0}> () },
    else_branch = else_g () => (float[2] eb) { eb = Constant <value = float[2] {3.0, 4.0}> () }
  >
}
)";
}

std::unique_ptr<MLIRContext> makeContext() {
  DialectRegistry registry;
  pith::registerAllDialects(registry);
  auto context = std::make_unique<MLIRContext>(registry);
  context->loadAllAvailableDialects();
  return context;
}

std::string print(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  return text;
}

template <typename T>
std::string errorOf(llvm::Expected<T> expected) {
  if (expected)
    return "<no error>";
  return llvm::toString(expected.takeError());
}

std::string readFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return "<unreadable: " + buffer.getError().message() + ">";
  return (*buffer)->getBuffer().str();
}

void writeFile(llvm::StringRef path, llvm::StringRef contents) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  ASSERT_FALSE(ec) << ec.message();
  os << contents;
}

std::vector<std::string> listDirectory(llvm::StringRef dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec))
    names.push_back(llvm::sys::path::filename(it->path()).str());
  std::sort(names.begin(), names.end());
  return names;
}

InitializerOp findInitializer(ModuleOp module, llvm::StringRef name) {
  InitializerOp found;
  module.walk([&](InitializerOp op) {
    if (op.getName() == name)
      found = op;
  });
  return found;
}

/// The bytes of an initializer's dense_resource blob.
std::string blobBytes(InitializerOp op) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(op.getValue());
  if (!resource)
    return "<not a dense_resource>";
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return "<no blob>";
  ArrayRef<char> data = blob->getData();
  return std::string(data.data(), data.size());
}

template <typename T>
std::string bytesOf(std::initializer_list<T> values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

/// The value of `attr` on the (only) op producing the graph output `name`.
Attribute constantValue(ModuleOp module, llvm::StringRef resultName) {
  Attribute value;
  module.walk([&](Operation *op) {
    auto names = op->getAttrOfType<ArrayAttr>(pith::ONNX::attrs::kNames);
    if (names && names.size() == 1 &&
        cast<StringAttr>(names[0]).getValue() == resultName)
      value = op->getAttr("value");
  });
  return value;
}

class RoundTripTest : public ::testing::Test {
protected:
  void SetUp() override {
    llvm::SmallString<256> model(::testing::TempDir());
    llvm::sys::path::append(model, "pith-unit-%%%%%%");
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory(model, tempDir));
  }

  void TearDown() override {
    if (!tempDir.empty())
      llvm::sys::fs::remove_directories(tempDir);
  }

  std::string tempPath(llvm::StringRef name) const {
    llvm::SmallString<256> path(tempDir);
    llvm::sys::path::append(path, name);
    return path.str().str();
  }

  OwningOpRef<ModuleOp> importText(llvm::StringRef text, MLIRContext *context,
                                   const pith::ImportOptions &options = {}) {
    auto module = pith::importONNXBuffer(text, /*isText=*/true, "model.onnxtxt",
                                         "", context, options);
    if (!module) {
      ADD_FAILURE() << llvm::toString(module.takeError());
      return {};
    }
    return std::move(*module);
  }

  OwningOpRef<ModuleOp> importBinary(llvm::StringRef bytes,
                                     MLIRContext *context,
                                     llvm::StringRef baseDirectory = "") {
    auto module = pith::importONNXBuffer(bytes, /*isText=*/false, "model.onnx",
                                         baseDirectory, context);
    if (!module) {
      ADD_FAILURE() << llvm::toString(module.takeError());
      return {};
    }
    return std::move(*module);
  }

  std::string exportBytes(ModuleOp module) {
    auto bytes = pith::exportONNXBytes(module);
    if (!bytes) {
      ADD_FAILURE() << llvm::toString(bytes.takeError());
      return "";
    }
    return std::move(*bytes);
  }

  void expectTextExportRoundTrips(llvm::StringRef modelText);

  llvm::SmallString<256> tempDir;
};

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

TEST_F(RoundTripTest, TextToBinaryToIRPrintsIdentically) {
  // Separate contexts: a second import into the same context would rename
  // the dense_resource keys that are already taken.
  auto context1 = makeContext();
  auto first = importText(richModelText(), context1.get());
  ASSERT_TRUE(first);
  std::string bytes = exportBytes(*first);
  ASSERT_FALSE(bytes.empty());

  auto context2 = makeContext();
  auto second = importBinary(bytes, context2.get());
  ASSERT_TRUE(second);
  std::string printed = print(*first);
  EXPECT_EQ(printed, print(*second));
  // The IR holds what the model has (a sanity check on the comparison).
  EXPECT_NE(printed.find("onnx.SplitV13"), std::string::npos);
  EXPECT_NE(printed.find("onnx.If"), std::string::npos);
  EXPECT_NE(printed.find("\"com.example\" \"Scale\""), std::string::npos);
  EXPECT_NE(printed.find("onnx.dim_params = [\"N\", \"\"]"), std::string::npos);

  // Exporting the re-imported module gives the same bytes again.
  EXPECT_EQ(exportBytes(*second), bytes);
}

TEST_F(RoundTripTest, ExportedModelIsAValidModelProto) {
  auto context = makeContext();
  auto module = importText(richModelText(), context.get());
  ASSERT_TRUE(module);
  std::string bytes = exportBytes(*module);
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(bytes));
  EXPECT_EQ(model.ir_version(), 8);
  EXPECT_EQ(model.producer_name(), "unit-test");
  ASSERT_EQ(model.opset_import_size(), 2);
  const onnx::GraphProto &graph = model.graph();
  EXPECT_EQ(graph.name(), "g");
  ASSERT_EQ(graph.input_size(), 4);
  EXPECT_EQ(graph.input(3).name(), "s");
  EXPECT_EQ(graph.input(3).type().tensor_type().shape().dim(0).dim_param(), "N");
  ASSERT_EQ(graph.output_size(), 7);
  EXPECT_EQ(graph.output(0).name(), "y");
  ASSERT_EQ(graph.initializer_size(), 3);
  EXPECT_EQ(graph.initializer(0).name(), "b");
  EXPECT_EQ(graph.initializer(0).raw_data(), bytesOf<float>({1, 2, 3, 4}));
  // The Gemm without C has two inputs, not a trailing "".
  ASSERT_GE(graph.node_size(), 2);
  EXPECT_EQ(graph.node(1).op_type(), "Gemm");
  EXPECT_EQ(graph.node(1).input_size(), 2);
  // The custom operator keeps its domain.
  bool foundCustom = false;
  for (const onnx::NodeProto &node : graph.node())
    if (node.op_type() == "Scale") {
      foundCustom = true;
      EXPECT_EQ(node.domain(), "com.example");
      ASSERT_EQ(node.attribute_size(), 1);
      EXPECT_EQ(node.attribute(0).name(), "factor");
      EXPECT_EQ(node.attribute(0).type(), onnx::AttributeProto::FLOAT);
      EXPECT_EQ(node.attribute(0).f(), 2.5f);
    }
  EXPECT_TRUE(foundCustom);
}

TEST_F(RoundTripTest, InitializerBytesSurviveExactly) {
  // Bit patterns a float parser or printer would not keep: NaNs with
  // payloads, negative zero, denormals, infinities.
  onnx::ModelProto model;
  ASSERT_EQ(pith::proto::parseTextModel(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g (float[6] x) => (float[6] y, uint8[256] all, bool[5] m, int64[3] l)
<float[6] f = {0, 0, 0, 0, 0, 0}, uint8[256] all = {0}, bool[5] m = {0}, int64[3] l = {0, 0, 0}>
{
  y = Add(x, f)
}
)",
                                        model),
            "");
  ASSERT_EQ(model.graph().initializer_size(), 4);

  uint32_t floatBits[] = {0x7fc00001u, 0xffc12345u, 0x80000000u,
                          0x00000001u, 0x7f800000u, 0xff800000u};
  std::string floats(reinterpret_cast<const char *>(floatBits), sizeof(floatBits));
  std::string all;
  for (int i = 0; i < 256; ++i)
    all.push_back(static_cast<char>(i));
  std::string mask("\x01\x00\x01\x01\x00", 5);
  std::string longs = bytesOf<int64_t>({std::numeric_limits<int64_t>::min(), -1,
                                        std::numeric_limits<int64_t>::max()});
  std::string expected[] = {floats, all, mask, longs};
  for (int i = 0; i < 4; ++i) {
    onnx::TensorProto *tensor = model.mutable_graph()->mutable_initializer(i);
    tensor->clear_float_data();
    tensor->clear_int32_data();
    tensor->clear_int64_data();
    tensor->set_raw_data(expected[i]);
  }
  model.mutable_graph()->mutable_initializer(1)->clear_dims();
  model.mutable_graph()->mutable_initializer(1)->add_dims(256);
  model.mutable_graph()->mutable_initializer(2)->clear_dims();
  model.mutable_graph()->mutable_initializer(2)->add_dims(5);

  const char *names[] = {"f", "all", "m", "l"};
  auto context1 = makeContext();
  auto first = importBinary(model.SerializeAsString(), context1.get());
  ASSERT_TRUE(first);
  for (int i = 0; i < 4; ++i) {
    InitializerOp init = findInitializer(*first, names[i]);
    ASSERT_TRUE(init) << names[i];
    EXPECT_EQ(blobBytes(init), expected[i]) << names[i];
  }

  std::string bytes = exportBytes(*first);
  onnx::ModelProto exported;
  ASSERT_TRUE(exported.ParseFromString(bytes));
  ASSERT_EQ(exported.graph().initializer_size(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(exported.graph().initializer(i).name(), names[i]);
    EXPECT_EQ(exported.graph().initializer(i).raw_data(), expected[i]) << names[i];
  }

  auto context2 = makeContext();
  auto second = importBinary(bytes, context2.get());
  ASSERT_TRUE(second);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(blobBytes(findInitializer(*second, names[i])), expected[i])
        << names[i];
  EXPECT_EQ(print(*first), print(*second));
}

TEST_F(RoundTripTest, TypedInitializerFieldsBecomeLittleEndianBytes) {
  // The text parser fills float_data / int64_data, not raw_data.
  auto context = makeContext();
  auto module = importText(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g (float[4] x) => (float[4] y)
<float[4] b = {1.5, -2.0, 0.0, 1e-3}, int64[2] sh = {-1, 4294967296}, int32[2] i = {-7, 65536}, double[1] d = {0.1}>
{
  y = Add(x, b)
}
)",
                           context.get());
  ASSERT_TRUE(module);
  EXPECT_EQ(blobBytes(findInitializer(*module, "b")),
            bytesOf<float>({1.5f, -2.0f, 0.0f, 1e-3f}));
  EXPECT_EQ(blobBytes(findInitializer(*module, "sh")),
            bytesOf<int64_t>({-1, 4294967296ll}));
  EXPECT_EQ(blobBytes(findInitializer(*module, "i")),
            bytesOf<int32_t>({-7, 65536}));
  EXPECT_EQ(blobBytes(findInitializer(*module, "d")), bytesOf<double>({0.1}));
}

TEST_F(RoundTripTest, InitializersAreAlwaysResources) {
  auto context = makeContext();
  auto module = importText(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g (float[1] x) => (float[1] y)
<float[1] one = {3.0}>
{
  y = Add(x, one)
}
)",
                           context.get());
  ASSERT_TRUE(module);
  InitializerOp init = findInitializer(*module, "one");
  ASSERT_TRUE(init);
  EXPECT_TRUE(isa<DenseResourceElementsAttr>(init.getValue()));
  EXPECT_EQ(blobBytes(init), bytesOf<float>({3.0f}));
}

TEST_F(RoundTripTest, TensorAttributeInlineLimit) {
  auto context1 = makeContext();
  auto module = importText(richModelText(), context1.get());
  ASSERT_TRUE(module);

  // 65 elements: a dense_resource blob.
  Attribute big = constantValue(*module, "big");
  ASSERT_TRUE(big);
  auto bigResource = dyn_cast<DenseResourceElementsAttr>(big);
  ASSERT_TRUE(bigResource) << "65 elements should be a dense_resource";
  ASSERT_NE(bigResource.getRawHandle().getBlob(), nullptr);
  ArrayRef<char> bigData = bigResource.getRawHandle().getBlob()->getData();
  ASSERT_EQ(bigData.size(), 65 * sizeof(float));
  for (int i = 0; i < 65; ++i) {
    float value;
    std::memcpy(&value, bigData.data() + i * sizeof(float), sizeof(float));
    EXPECT_EQ(value, i + 0.5f) << "element " << i;
  }

  // 64 elements: stays a readable DenseElementsAttr.
  Attribute small = constantValue(*module, "small");
  ASSERT_TRUE(small);
  auto smallDense = dyn_cast<DenseElementsAttr>(small);
  ASSERT_TRUE(smallDense) << "64 elements should stay inline";
  EXPECT_EQ(smallDense.getNumElements(), 64);
  int index = 0;
  for (float value : smallDense.getValues<float>())
    EXPECT_EQ(value, index++ + 0.25f);

  // Both come back the same after a binary round trip.
  std::string bytes = exportBytes(*module);
  auto context2 = makeContext();
  auto second = importBinary(bytes, context2.get());
  ASSERT_TRUE(second);
  EXPECT_TRUE(isa<DenseResourceElementsAttr>(constantValue(*second, "big")));
  auto smallAgain = dyn_cast_or_null<DenseElementsAttr>(
      constantValue(*second, "small"));
  ASSERT_TRUE(smallAgain);
  EXPECT_EQ(smallAgain.getRawData(), smallDense.getRawData());

  // The limit is an option.
  auto context3 = makeContext();
  pith::ImportOptions options;
  options.inlineTensorElementLimit = 2;
  auto limited = importText(richModelText(), context3.get(), options);
  ASSERT_TRUE(limited);
  EXPECT_TRUE(isa<DenseResourceElementsAttr>(constantValue(*limited, "small")));
  options.inlineTensorElementLimit = 65;
  auto context4 = makeContext();
  auto raised = importText(richModelText(), context4.get(), options);
  ASSERT_TRUE(raised);
  EXPECT_TRUE(isa<DenseElementsAttr>(constantValue(*raised, "big")));
}

TEST_F(RoundTripTest, MLIRTextRoundTrip) {
  auto context1 = makeContext();
  auto module = importText(schemaOnlyModelText(), context1.get());
  ASSERT_TRUE(module);
  std::string printed = print(*module);

  auto context2 = makeContext();
  OwningOpRef<ModuleOp> parsed =
      parseSourceString<ModuleOp>(printed, context2.get());
  ASSERT_TRUE(parsed) << printed;
  EXPECT_EQ(print(*parsed), printed);
  EXPECT_EQ(exportBytes(*parsed), exportBytes(*module));
}

TEST_F(RoundTripTest, MLIRTextRoundTripWithCustomOp) {
  // onnx.Custom prints its attr-dict ({onnx.names = [...]}) next to its
  // ONNX attributes, before the region list, where the parser can tell the
  // two apart.
  auto context1 = makeContext();
  auto module = importText(richModelText(), context1.get());
  ASSERT_TRUE(module);
  std::string printed = print(*module);
  auto context2 = makeContext();
  OwningOpRef<ModuleOp> parsed =
      parseSourceString<ModuleOp>(printed, context2.get());
  ASSERT_TRUE(parsed) << printed;
  EXPECT_EQ(print(*parsed), printed);
  EXPECT_EQ(exportBytes(*parsed), exportBytes(*module));
}

TEST_F(RoundTripTest, StringTensorsRoundTrip) {
  auto context1 = makeContext();
  auto module = importText(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g () => (string[2] y, string[3] z)
<string[2] s = {"a", "bc"}>
{
  y = Identity(s)
  z = Constant <value = string[3] {"q", "", "r"}> ()
}
)",
                           context1.get());
  ASSERT_TRUE(module);
  std::string bytes = exportBytes(*module);
  auto context2 = makeContext();
  auto again = importBinary(bytes, context2.get());
  ASSERT_TRUE(again);
  EXPECT_EQ(print(*again), print(*module));
}

TEST_F(RoundTripTest, SplatStringTensorsRoundTrip) {

  auto context1 = makeContext();
  auto module = importText(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g () => (string[2] y, string[3] z)
<string[2] s = {"a", "a"}>
{
  y = Identity(s)
  z = Constant <value = string[3] {"q", "q", "q"}> ()
}
)",
                           context1.get());
  ASSERT_TRUE(module);
  std::string bytes = exportBytes(*module);
  onnx::ModelProto exported;
  ASSERT_TRUE(exported.ParseFromString(bytes));
  EXPECT_EQ(exported.graph().initializer(0).string_data_size(), 2);
  auto context2 = makeContext();
  auto again = importBinary(bytes, context2.get());
  ASSERT_TRUE(again);
  EXPECT_EQ(print(*again), print(*module));
}

TEST_F(RoundTripTest, EmptyTensorsRoundTrip) {
  auto context1 = makeContext();
  auto module = importText(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g () => (float[0] e, int64[0] c)
<float[0] e = {}>
{
  c = Constant <value = int64[0] {}> ()
}
)",
                           context1.get());
  ASSERT_TRUE(module);
  EXPECT_EQ(blobBytes(findInitializer(*module, "e")), "");
  std::string bytes = exportBytes(*module);
  auto context2 = makeContext();
  auto again = importBinary(bytes, context2.get());
  ASSERT_TRUE(again);
  EXPECT_EQ(print(*again), print(*module));
}

TEST_F(RoundTripTest, SplatAndBoolTensorAttributesExportEveryElement) {
  // IR written by hand (or by a pass) may hold splat DenseElementsAttrs.
  auto context = makeContext();
  auto module = parseSourceString<ModuleOp>(R"mlir(
    module attributes {onnx.ir_version = 8 : i64,
                       onnx.opset_import = {ai.onnx = 17 : i64}} {
      func.func @g() -> (tensor<3xf32> {onnx.name = "a"},
                         tensor<3xi1> {onnx.name = "b"},
                         tensor<4xi1> {onnx.name = "c"}) {
        %a = onnx.Constant() {onnx.names = ["a"], value = dense<2.5> : tensor<3xf32>} : () -> tensor<3xf32>
        %b = onnx.Constant() {onnx.names = ["b"], value = dense<true> : tensor<3xi1>} : () -> tensor<3xi1>
        %c = onnx.Constant() {onnx.names = ["c"], value = dense<[true, false, false, true]> : tensor<4xi1>} : () -> tensor<4xi1>
        return %a, %b, %c : tensor<3xf32>, tensor<3xi1>, tensor<4xi1>
      }
    })mlir",
                                            context.get());
  ASSERT_TRUE(module);
  std::string bytes = exportBytes(*module);
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(bytes));
  ASSERT_EQ(model.graph().node_size(), 3);
  auto tensorOf = [&](int node) -> const onnx::TensorProto & {
    return model.graph().node(node).attribute(0).t();
  };
  EXPECT_EQ(tensorOf(0).data_type(), onnx::TensorProto::FLOAT);
  EXPECT_EQ(tensorOf(0).raw_data(), bytesOf<float>({2.5f, 2.5f, 2.5f}));
  EXPECT_EQ(tensorOf(1).data_type(), onnx::TensorProto::BOOL);
  EXPECT_EQ(tensorOf(1).raw_data(), std::string("\x01\x01\x01", 3));
  EXPECT_EQ(tensorOf(2).raw_data(), std::string("\x01\x00\x00\x01", 4));

  auto context2 = makeContext();
  auto again = importBinary(bytes, context2.get());
  ASSERT_TRUE(again);
  auto c = dyn_cast_or_null<DenseElementsAttr>(constantValue(*again, "c"));
  ASSERT_TRUE(c);
  EXPECT_EQ(llvm::to_vector(c.getValues<bool>()),
            (llvm::SmallVector<bool>{true, false, false, true}));
  auto a = dyn_cast_or_null<DenseElementsAttr>(constantValue(*again, "a"));
  ASSERT_TRUE(a);
  EXPECT_EQ(llvm::to_vector(a.getValues<float>()),
            (llvm::SmallVector<float>{2.5f, 2.5f, 2.5f}));
}

/// A model with one com.example.Op node carrying `attributes`.
std::string customOpModel(
    const std::vector<onnx::AttributeProto> &attributes) {
  onnx::ModelProto model;
  std::string problem = pith::proto::parseTextModel(R"(<
  ir_version: 8,
  opset_import: ["" : 17, "com.example" : 1]
>
g (float[2] x) => (float[2] y)
{
  y = com.example.Op (x)
}
)",
                                                    model);
  EXPECT_EQ(problem, "");
  for (const onnx::AttributeProto &attribute : attributes)
    *model.mutable_graph()->mutable_node(0)->add_attribute() = attribute;
  return model.SerializeAsString();
}

/// The attributes of the first node of a binary model, by name.
std::map<std::string, onnx::AttributeProto> nodeAttributes(llvm::StringRef bytes) {
  onnx::ModelProto model;
  std::map<std::string, onnx::AttributeProto> attributes;
  if (!model.ParseFromArray(bytes.data(), bytes.size()) ||
      model.graph().node_size() == 0)
    return attributes;
  for (const onnx::AttributeProto &attribute : model.graph().node(0).attribute())
    attributes[attribute.name()] = attribute;
  return attributes;
}

TEST_F(RoundTripTest, CustomOpAttributeKindsSurvive) {
  using A = onnx::AttributeProto;
  std::vector<A> attributes;
  auto add = [&](const char *name, A::AttributeType type) -> A & {
    attributes.emplace_back();
    attributes.back().set_name(name);
    attributes.back().set_type(type);
    return attributes.back();
  };
  add("i", A::INT).set_i(-3);
  add("f", A::FLOAT).set_f(1.0f);
  add("s", A::STRING).set_s("text");
  A &ints = add("ints", A::INTS);
  ints.add_ints(1);
  ints.add_ints(2);
  add("floats", A::FLOATS).add_floats(0.5f);
  add("strings", A::STRINGS).add_strings("a");
  A &t = add("t", A::TENSOR);
  t.mutable_t()->set_data_type(onnx::TensorProto::INT64);
  t.mutable_t()->add_dims(1);
  t.mutable_t()->add_int64_data(7);
  A &ts = add("ts", A::TENSORS);
  ts.add_tensors()->set_data_type(onnx::TensorProto::FLOAT);
  ts.mutable_tensors(0)->add_float_data(2.0f);
  add("empty_ints", A::INTS);
  add("empty_floats", A::FLOATS);
  add("empty_strings", A::STRINGS);

  auto context = makeContext();
  auto module = importBinary(customOpModel(attributes), context.get());
  ASSERT_TRUE(module);
  auto exported = nodeAttributes(exportBytes(*module));
  ASSERT_EQ(exported.size(), attributes.size());
  for (const A &attribute : attributes) {
    SCOPED_TRACE(attribute.name());
    ASSERT_EQ(exported.count(attribute.name()), 1u);
    const A &out = exported[attribute.name()];
    EXPECT_EQ(out.type(), attribute.type());
  }
  EXPECT_EQ(exported["i"].i(), -3);
  EXPECT_EQ(exported["f"].f(), 1.0f);
  EXPECT_EQ(exported["s"].s(), "text");
  EXPECT_EQ(exported["ints"].ints_size(), 2);
  EXPECT_EQ(exported["t"].t().raw_data(), bytesOf<int64_t>({7}));
  ASSERT_EQ(exported["ts"].tensors_size(), 1);
  EXPECT_EQ(exported["ts"].tensors(0).raw_data(), bytesOf<float>({2.0f}));
}

TEST_F(RoundTripTest, CustomOpEmptyListAttributesKeepTheirKind) {

  using A = onnx::AttributeProto;
  std::vector<A> attributes(2);
  attributes[0].set_name("empty_tensors");
  attributes[0].set_type(A::TENSORS);
  attributes[1].set_name("empty_types");
  attributes[1].set_type(A::TYPE_PROTOS);
  auto context = makeContext();
  auto module = importBinary(customOpModel(attributes), context.get());
  ASSERT_TRUE(module);
  auto exported = nodeAttributes(exportBytes(*module));
  EXPECT_EQ(exported["empty_tensors"].type(), A::TENSORS);
  EXPECT_EQ(exported["empty_types"].type(), A::TYPE_PROTOS);
}

//===----------------------------------------------------------------------===//
// exportONNXFile
//===----------------------------------------------------------------------===//

TEST_F(RoundTripTest, ExportFileWritesAModelThatImportsBack) {
  auto context1 = makeContext();
  auto module = importText(richModelText(), context1.get());
  ASSERT_TRUE(module);
  std::string path = tempPath("model.onnx");
  writeFile(path, "old contents");
  llvm::Error err = pith::exportONNXFile(*module, path);
  ASSERT_FALSE(err) << llvm::toString(std::move(err));
  EXPECT_EQ(readFile(path), exportBytes(*module));
  EXPECT_EQ(listDirectory(tempDir), std::vector<std::string>{"model.onnx"});

  auto context2 = makeContext();
  auto again = pith::importONNXFile(path, context2.get());
  ASSERT_TRUE(bool(again)) << llvm::toString(again.takeError());
  EXPECT_EQ(print(**again), print(*module));
}

TEST_F(RoundTripTest, FailedExportLeavesTheOldFileUntouched) {
  auto context = makeContext();
  auto module = importText(schemaOnlyModelText(), context.get());
  ASSERT_TRUE(module);
  (*module)->removeAttr(pith::ONNX::attrs::kOpsetImport);

  std::string path = tempPath("model.onnx");
  writeFile(path, "old contents");
  llvm::Error err = pith::exportONNXFile(*module, path);
  ASSERT_TRUE(bool(err));
  std::string message = llvm::toString(std::move(err));
  EXPECT_NE(message.find("onnx.opset_import"), std::string::npos) << message;
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_EQ(readFile(path), "old contents");
  EXPECT_EQ(listDirectory(tempDir), std::vector<std::string>{"model.onnx"});

  // Nor does a failure to write the text format.
  pith::ExportOptions text;
  text.textFormat = true;
  err = pith::exportONNXFile(*module, path, text);
  EXPECT_TRUE(bool(err));
  llvm::consumeError(std::move(err));
  EXPECT_EQ(readFile(path), "old contents");

  // Nor one that fails on the graph, after the header was fine.
  auto context2 = makeContext();
  auto twoFuncs = parseSourceString<ModuleOp>(R"mlir(
    module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
      func.func @a() { return }
      func.func @b() { return }
    })mlir",
                                              context2.get());
  ASSERT_TRUE(twoFuncs);
  err = pith::exportONNXFile(*twoFuncs, path);
  ASSERT_TRUE(bool(err));
  message = llvm::toString(std::move(err));
  EXPECT_NE(message.find("exactly one graph function"), std::string::npos)
      << message;
  EXPECT_EQ(readFile(path), "old contents");
  EXPECT_EQ(listDirectory(tempDir), std::vector<std::string>{"model.onnx"});
}

TEST_F(RoundTripTest, FailedTextExportLeavesTheOldFileUntouched) {
  // The ONNX text format cannot hold a float16 initializer.
  onnx::ModelProto model;
  ASSERT_EQ(pith::proto::parseTextModel(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g (float16[2] x) => (float16[2] y)
<float[2] h = {0, 0}>
{
  y = Add(x, h)
}
)",
                                        model),
            "");
  onnx::TensorProto *h = model.mutable_graph()->mutable_initializer(0);
  h->clear_float_data();
  h->set_data_type(onnx::TensorProto::FLOAT16);
  h->set_raw_data(std::string("\x00\x3c\x00\x40", 4));  // 1.0, 2.0
  auto context = makeContext();
  auto module = importBinary(model.SerializeAsString(), context.get());
  ASSERT_TRUE(module);

  std::string path = tempPath("model.onnxtxt");
  writeFile(path, "old contents");
  pith::ExportOptions text;
  text.textFormat = true;
  llvm::Error err = pith::exportONNXFile(*module, path, text);
  ASSERT_TRUE(bool(err));
  std::string message = llvm::toString(std::move(err));
  EXPECT_NE(message.find("'h'"), std::string::npos) << message;
  EXPECT_EQ(readFile(path), "old contents");
  EXPECT_EQ(listDirectory(tempDir), std::vector<std::string>{"model.onnxtxt"});
}

TEST_F(RoundTripTest, TextExportRoundTrips) {
  auto context1 = makeContext();
  auto module = importText(richModelText(/*customOp=*/false), context1.get());
  ASSERT_TRUE(module);
  std::string path = tempPath("model.onnxtxt");
  pith::ExportOptions text;
  text.textFormat = true;
  llvm::Error err = pith::exportONNXFile(*module, path, text);
  ASSERT_FALSE(err) << llvm::toString(std::move(err));
  EXPECT_EQ(listDirectory(tempDir), std::vector<std::string>{"model.onnxtxt"});

  auto context2 = makeContext();
  auto again = pith::importONNXFile(path, context2.get());
  ASSERT_TRUE(bool(again)) << llvm::toString(again.takeError()) << "\n"
                           << readFile(path);
  EXPECT_EQ(print(**again), print(*module)) << readFile(path);
}

/// Exports `modelText` in ONNX's text format and imports the file again;
/// the printed IR of both imports must be the same.
void RoundTripTest::expectTextExportRoundTrips(llvm::StringRef modelText) {
  auto context1 = makeContext();
  auto module = importText(modelText, context1.get());
  ASSERT_TRUE(module);
  std::string path = tempPath("model.onnxtxt");
  pith::ExportOptions text;
  text.textFormat = true;
  llvm::Error err = pith::exportONNXFile(*module, path, text);
  ASSERT_FALSE(err) << llvm::toString(std::move(err));
  auto context2 = makeContext();
  auto again = pith::importONNXFile(path, context2.get());
  ASSERT_TRUE(bool(again)) << llvm::toString(again.takeError()) << "\n"
                           << readFile(path);
  EXPECT_EQ(print(**again), print(*module)) << readFile(path);
}

TEST_F(RoundTripTest, TextExportKeepsNodeDomains) {
  expectTextExportRoundTrips(R"(<
  ir_version: 8,
  opset_import: ["" : 17, "com.example" : 1]
>
g (float[2] x) => (float[2] y)
{
  y = com.example.Scale <factor = 0.5> (x)
}
)");
}

TEST_F(RoundTripTest, TextExportKeepsWholeFloatAttributesFloat) {
  expectTextExportRoundTrips(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g (float[2,3] x, float[3,4] w) => (float[2,4] y)
{
  y = Gemm <alpha = 1.0, beta = 2.0> (x, w)
}
)");
}

TEST_F(RoundTripTest, TextExportKeepsSubgraphInitializers) {
  expectTextExportRoundTrips(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g (bool cond) => (float[2] o)
{
  o = If (cond) <
    then_branch = then_g () => (float[2] tb) <float[2] k = {5.5, 6.5}> { tb = Identity(k) },
    else_branch = else_g () => (float[2] eb) { eb = Constant <value = float[2] {3.5, 4.5}> () }
  >
}
)");
}

TEST_F(RoundTripTest, TextExportKeepsDoubleInitializersExactly) {

  auto context1 = makeContext();
  auto module = importText(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g (double[2] x) => (double[2] y)
<double[2] d = {0.123456789012345, 0.1}>
{
  y = Add(x, d)
}
)",
                           context1.get());
  ASSERT_TRUE(module);
  std::string path = tempPath("model.onnxtxt");
  pith::ExportOptions text;
  text.textFormat = true;
  llvm::Error err = pith::exportONNXFile(*module, path, text);
  ASSERT_FALSE(err) << llvm::toString(std::move(err));
  auto context2 = makeContext();
  auto again = pith::importONNXFile(path, context2.get());
  ASSERT_TRUE(bool(again)) << llvm::toString(again.takeError());
  EXPECT_EQ(blobBytes(findInitializer(**again, "d")),
            bytesOf<double>({0.123456789012345, 0.1}));
}

TEST_F(RoundTripTest, TextExportOfNonFiniteFloats) {
  // ONNX's text format has no spelling for infinity or NaN. Text export of
  // such an initializer must either fail or write a file that reads back
  // the same bytes; never a file that cannot be imported.
  onnx::ModelProto model;
  ASSERT_EQ(pith::proto::parseTextModel(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g (float[2] x) => (float[2] y)
<float[2] k = {0, 0}>
{
  y = Add(x, k)
}
)",
                                        model),
            "");
  onnx::TensorProto *k = model.mutable_graph()->mutable_initializer(0);
  k->clear_float_data();
  k->set_raw_data(bytesOf<float>({std::numeric_limits<float>::infinity(),
                                  std::numeric_limits<float>::quiet_NaN()}));
  auto context1 = makeContext();
  auto module = importBinary(model.SerializeAsString(), context1.get());
  ASSERT_TRUE(module);
  std::string path = tempPath("model.onnxtxt");
  pith::ExportOptions text;
  text.textFormat = true;
  llvm::Error err = pith::exportONNXFile(*module, path, text);
  if (err) {
    llvm::consumeError(std::move(err));
    EXPECT_FALSE(llvm::sys::fs::exists(path));
    return;
  }
  auto context2 = makeContext();
  auto again = pith::importONNXFile(path, context2.get());
  ASSERT_TRUE(bool(again)) << llvm::toString(again.takeError()) << "\n"
                           << readFile(path);
  EXPECT_EQ(blobBytes(findInitializer(**again, "k")),
            blobBytes(findInitializer(*module, "k")));
}

TEST_F(RoundTripTest, ExportWithExternalDataImportsBack) {
  auto context1 = makeContext();
  auto module = importText(richModelText(), context1.get());
  ASSERT_TRUE(module);
  std::string path = tempPath("model.onnx");
  pith::ExportOptions options;
  options.externalDataFile = "model.onnx.data";
  options.externalDataThreshold = 16;
  llvm::Error err = pith::exportONNXFile(*module, path, options);
  ASSERT_FALSE(err) << llvm::toString(std::move(err));
  EXPECT_EQ(listDirectory(tempDir),
            (std::vector<std::string>{"model.onnx", "model.onnx.data"}));

  // b (16 bytes), sh (16) and d (16) are external; offsets are 64-aligned.
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(readFile(path)));
  ASSERT_EQ(model.graph().initializer_size(), 3);
  for (const onnx::TensorProto &tensor : model.graph().initializer()) {
    SCOPED_TRACE(tensor.name());
    EXPECT_EQ(tensor.data_location(), onnx::TensorProto::EXTERNAL);
    EXPECT_FALSE(tensor.has_raw_data());
    std::map<std::string, std::string> entries;
    for (const auto &entry : tensor.external_data())
      entries[entry.key()] = entry.value();
    EXPECT_EQ(entries["location"], "model.onnx.data");
    EXPECT_EQ(std::stoll(entries["offset"]) % 64, 0);
    EXPECT_EQ(entries["length"], "16");
  }

  auto context2 = makeContext();
  auto again = pith::importONNXFile(path, context2.get());
  ASSERT_TRUE(bool(again)) << llvm::toString(again.takeError());
  EXPECT_EQ(print(**again), print(*module));

  // A path is not a file name next to the model.
  options.externalDataFile = "sub/model.data";
  err = pith::exportONNXFile(*module, tempPath("other.onnx"), options);
  ASSERT_TRUE(bool(err));
  std::string message = llvm::toString(std::move(err));
  EXPECT_NE(message.find("plain file name"), std::string::npos) << message;
  EXPECT_FALSE(llvm::sys::fs::exists(tempPath("other.onnx")));
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST_F(RoundTripTest, GarbageBytesAreNotAValidProtobuf) {
  auto context = makeContext();
  std::string valid;
  {
    auto module = importText(schemaOnlyModelText(), context.get());
    ASSERT_TRUE(module);
    valid = exportBytes(*module);
  }
  std::string garbage[] = {
      std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8),
      // A length-delimited field (graph) claiming more bytes than follow.
      std::string("\x3a\xff\xff\x03", 4) + "short",
      // An end-group tag with no group open.
      std::string("\x0c", 1),
      valid.substr(0, valid.size() / 2),
  };
  for (const std::string &bytes : garbage) {
    std::string message = errorOf(pith::importONNXBuffer(
        bytes, /*isText=*/false, "junk.onnx", "", context.get()));
    EXPECT_NE(message.find("not a valid ONNX protobuf"), std::string::npos)
        << message;
    EXPECT_NE(message.find("junk.onnx"), std::string::npos) << message;
  }
}

TEST_F(RoundTripTest, EmptyBufferIsAModelWithoutGraph) {
  auto context = makeContext();
  std::string message = errorOf(pith::importONNXBuffer(
      "", /*isText=*/false, "empty.onnx", "", context.get()));
  EXPECT_NE(message.find("empty.onnx"), std::string::npos) << message;
  EXPECT_NE(message.find("no graph"), std::string::npos) << message;
}

TEST_F(RoundTripTest, MalformedTextIsRejected) {
  auto context = makeContext();
  std::string message = errorOf(pith::importONNXBuffer(
      "this is not <an> ONNX model {", /*isText=*/true, "bad.onnxtxt", "",
      context.get()));
  EXPECT_NE(message.find("bad.onnxtxt"), std::string::npos) << message;
  EXPECT_NE(message.find("ONNX text format"), std::string::npos) << message;
}

TEST_F(RoundTripTest, UnsupportedOpsetIsRejected) {
  auto context = makeContext();
  std::string message = errorOf(pith::importONNXBuffer(R"(<
  ir_version: 8,
  opset_import: ["" : 99]
>
g (float[2] x) => (float[2] y)
{
  y = Relu(x)
}
)",
                                                       /*isText=*/true, "m",
                                                       "", context.get()));
  EXPECT_NE(message.find("unsupported ai.onnx opset 99"), std::string::npos)
      << message;
}

/// A binary model whose initializer `w` (float[4]) lives in `location`.
std::string externalDataModel(llvm::StringRef location) {
  onnx::ModelProto model;
  std::string problem = pith::proto::parseTextModel(R"(<
  ir_version: 8,
  opset_import: ["" : 17]
>
g (float[4] x) => (float[4] y)
<float[4] w = {0, 0, 0, 0}>
{
  y = Add(x, w)
}
)",
                                                    model);
  EXPECT_EQ(problem, "");
  onnx::TensorProto *w = model.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto *entry = w->add_external_data();
  entry->set_key("location");
  entry->set_value(location.str());
  entry = w->add_external_data();
  entry->set_key("offset");
  entry->set_value("4");
  entry = w->add_external_data();
  entry->set_key("length");
  entry->set_value("16");
  return model.SerializeAsString();
}

TEST_F(RoundTripTest, ExternalDataWithoutBaseDirectoryIsRejected) {
  std::string data = std::string("pad!") + bytesOf<float>({1, 2, 3, 4});
  writeFile(tempPath("w.bin"), data);
  auto context = makeContext();
  std::string message = errorOf(pith::importONNXBuffer(
      externalDataModel("w.bin"), /*isText=*/false, "ext.onnx", "",
      context.get()));
  EXPECT_NE(message.find("ext.onnx"), std::string::npos) << message;
  EXPECT_NE(message.find("'w'"), std::string::npos) << message;
  EXPECT_NE(message.find("cannot be resolved"), std::string::npos) << message;
}

TEST_F(RoundTripTest, ExternalDataIsReadRelativeToBaseDirectory) {
  std::string data = std::string("pad!") + bytesOf<float>({1, 2, 3, 4});
  writeFile(tempPath("w.bin"), data);
  auto context = makeContext();
  auto module = importBinary(externalDataModel("w.bin"), context.get(), tempDir);
  ASSERT_TRUE(module);
  EXPECT_EQ(blobBytes(findInitializer(*module, "w")),
            bytesOf<float>({1, 2, 3, 4}));
  // Export brings the bytes back inline.
  onnx::ModelProto exported;
  ASSERT_TRUE(exported.ParseFromString(exportBytes(*module)));
  ASSERT_EQ(exported.graph().initializer_size(), 1);
  EXPECT_NE(exported.graph().initializer(0).data_location(),
            onnx::TensorProto::EXTERNAL);
  EXPECT_EQ(exported.graph().initializer(0).raw_data(),
            bytesOf<float>({1, 2, 3, 4}));
}

TEST_F(RoundTripTest, ExternalDataMustStayInsideBaseDirectory) {
  std::string sub = tempPath("model");
  ASSERT_FALSE(llvm::sys::fs::create_directory(sub));
  writeFile(tempPath("w.bin"), std::string("pad!") + bytesOf<float>({1, 2, 3, 4}));
  auto context = makeContext();
  std::string message = errorOf(pith::importONNXBuffer(
      externalDataModel("../w.bin"), /*isText=*/false, "ext.onnx", sub,
      context.get()));
  EXPECT_NE(message.find("escapes"), std::string::npos) << message;

  message = errorOf(pith::importONNXBuffer(
      externalDataModel(tempPath("w.bin")), /*isText=*/false, "ext.onnx", sub,
      context.get()));
  EXPECT_NE(message.find("absolute"), std::string::npos) << message;

  message = errorOf(pith::importONNXBuffer(
      externalDataModel("missing.bin"), /*isText=*/false, "ext.onnx", sub,
      context.get()));
  EXPECT_NE(message.find("not found"), std::string::npos) << message;
}

} // namespace
