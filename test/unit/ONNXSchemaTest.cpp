//===- ONNXSchemaTest.cpp - The ONNX operator schema table ----------------===//
//
// lookupSchema picks the newest version not newer than the opset,
// lookupSchemaByOpName finds attributes with their kinds, and every entry of
// the generated table names an op the onnx dialect registers.
//
//===----------------------------------------------------------------------===//

#include "ONNX/ONNXSchema.h"

#include "ONNX/ONNXDialect.h"
#include "ONNX/ONNXOps.h"
#include "pith/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace pith::ONNX;

namespace {

llvm::ArrayRef<OpSchema> tableEntries() { return allOpSchemas(); }

std::string opNameAt(llvm::StringRef opType, int64_t opset) {
  const OpSchema *schema = lookupSchema(opType, opset);
  return schema ? schema->opName : "<null>";
}

class ONNXSchemaTest : public ::testing::Test {
protected:
  ONNXSchemaTest() {
    pith::registerAllDialects(registry);
    context = std::make_unique<mlir::MLIRContext>(registry);
    context->loadAllAvailableDialects();
  }

  mlir::DialectRegistry registry;
  std::unique_ptr<mlir::MLIRContext> context;
};

TEST(ONNXSchemaLookup, PicksNewestVersionNotNewerThanOpset) {
  EXPECT_EQ(opNameAt("Split", 1), "onnx.SplitV1");
  EXPECT_EQ(opNameAt("Split", 2), "onnx.SplitV2");
  EXPECT_EQ(opNameAt("Split", 11), "onnx.SplitV2");
  EXPECT_EQ(opNameAt("Split", 12), "onnx.SplitV2");
  EXPECT_EQ(opNameAt("Split", 13), "onnx.SplitV13");
  EXPECT_EQ(opNameAt("Split", 17), "onnx.SplitV13");
  EXPECT_EQ(opNameAt("Split", 18), "onnx.Split");
  EXPECT_EQ(opNameAt("Split", maxSupportedOpset()), "onnx.Split");

  const OpSchema *split11 = lookupSchema("Split", 11);
  ASSERT_NE(split11, nullptr);
  EXPECT_STREQ(split11->opType, "Split");
  EXPECT_EQ(split11->sinceVersion, 11);
  const OpSchema *split12 = lookupSchema("Split", 12);
  ASSERT_NE(split12, nullptr);
  EXPECT_EQ(split12->sinceVersion, 11);
  EXPECT_EQ(lookupSchema("Split", 18)->sinceVersion, 18);
}

TEST(ONNXSchemaLookup, AbsentBeforeItsFirstVersion) {
  EXPECT_EQ(lookupSchema("Gelu", 1), nullptr);
  EXPECT_EQ(lookupSchema("Gelu", 17), nullptr);
  EXPECT_EQ(lookupSchema("Gelu", 19), nullptr);
  EXPECT_EQ(opNameAt("Gelu", 20), "onnx.Gelu");
  EXPECT_EQ(opNameAt("Gelu", maxSupportedOpset()), "onnx.Gelu");
  EXPECT_EQ(lookupSchema("Split", 0), nullptr);
  EXPECT_EQ(lookupSchema("Split", -1), nullptr);
}

TEST(ONNXSchemaLookup, UnknownOperatorIsNull) {
  EXPECT_EQ(lookupSchema("NoSuchOperator", 17), nullptr);
  EXPECT_EQ(lookupSchema("", 17), nullptr);
  // Op types are case-sensitive.
  EXPECT_EQ(lookupSchema("gemm", 17), nullptr);
  EXPECT_EQ(lookupSchemaByOpName("onnx.NoSuchOperator"), nullptr);
  // The lookup by op name wants the dialect op's name, not the op type.
  EXPECT_EQ(lookupSchemaByOpName("Gemm"), nullptr);
}

TEST(ONNXSchemaLookup, StructuralOpsHaveNoSchema) {
  for (const char *name : {"onnx.None", "onnx.Initializer", "onnx.Custom",
                           "onnx.Yield"})
    EXPECT_EQ(lookupSchemaByOpName(name), nullptr) << name;
}

TEST(ONNXSchemaLookup, MaxSupportedOpset) {
  EXPECT_GE(maxSupportedOpset(), 23);
  EXPECT_EQ(maxSupportedOpset(), maxSupportedOpset());
  // Some operator has a version at exactly the newest opset, none later.
  int64_t newest = 0;
  for (const OpSchema &entry : tableEntries())
    newest = std::max(newest, entry.sinceVersion);
  EXPECT_EQ(newest, maxSupportedOpset());
}

TEST(ONNXSchemaByName, GemmAttributes) {
  const OpSchema *gemm = lookupSchemaByOpName("onnx.Gemm");
  ASSERT_NE(gemm, nullptr);
  EXPECT_STREQ(gemm->opType, "Gemm");
  EXPECT_STREQ(gemm->opName, "onnx.Gemm");

  const AttrSpec *alpha = gemm->findAttribute("alpha");
  ASSERT_NE(alpha, nullptr);
  EXPECT_STREQ(alpha->name, "alpha");
  EXPECT_EQ(alpha->kind, AttrKind::Float);
  EXPECT_FALSE(alpha->required);
  EXPECT_EQ(stringifyAttrKind(alpha->kind), "FLOAT");

  const AttrSpec *transB = gemm->findAttribute("transB");
  ASSERT_NE(transB, nullptr);
  EXPECT_EQ(transB->kind, AttrKind::Int);
  EXPECT_FALSE(transB->required);

  // `broadcast` was dropped in Gemm-7; `onnx.Gemm` is the signature of 11+.
  EXPECT_EQ(gemm->findAttribute("broadcast"), nullptr);
  EXPECT_EQ(gemm->findAttribute("Alpha"), nullptr);
  EXPECT_TRUE(gemm->graphAttributes.empty());

  ASSERT_EQ(gemm->inputs.size(), 3u);
  EXPECT_STREQ(gemm->inputs[0].name, "A");
  EXPECT_EQ(gemm->inputs[0].kind, FormalKind::Single);
  EXPECT_EQ(gemm->inputs[2].kind, FormalKind::Optional);
  ASSERT_EQ(gemm->outputs.size(), 1u);
  EXPECT_EQ(gemm->outputs[0].kind, FormalKind::Single);

  const OpSchema *gemmV1 = lookupSchemaByOpName("onnx.GemmV1");
  ASSERT_NE(gemmV1, nullptr);
  ASSERT_NE(gemmV1->findAttribute("broadcast"), nullptr);
  EXPECT_EQ(gemmV1->findAttribute("broadcast")->kind, AttrKind::Int);
}

TEST(ONNXSchemaByName, CastToIsRequiredInt) {
  for (const char *name : {"onnx.Cast", "onnx.CastV19", "onnx.CastV6"}) {
    SCOPED_TRACE(name);
    const OpSchema *cast = lookupSchemaByOpName(name);
    ASSERT_NE(cast, nullptr);
    EXPECT_STREQ(cast->opType, "Cast");
    const AttrSpec *to = cast->findAttribute("to");
    ASSERT_NE(to, nullptr);
    EXPECT_EQ(to->kind, AttrKind::Int);
    EXPECT_TRUE(to->required);
    EXPECT_EQ(stringifyAttrKind(to->kind), "INT");
  }
  // Cast-1 took the type's name as a string.
  const OpSchema *castV1 = lookupSchemaByOpName("onnx.CastV1");
  ASSERT_NE(castV1, nullptr);
  ASSERT_NE(castV1->findAttribute("to"), nullptr);
  EXPECT_EQ(castV1->findAttribute("to")->kind, AttrKind::String);
  EXPECT_TRUE(castV1->findAttribute("to")->required);

  const AttrSpec *saturate =
      lookupSchemaByOpName("onnx.Cast")->findAttribute("saturate");
  ASSERT_NE(saturate, nullptr);
  EXPECT_FALSE(saturate->required);
}

TEST(ONNXSchemaByName, IfHasGraphAttributes) {
  const OpSchema *ifOp = lookupSchemaByOpName("onnx.If");
  ASSERT_NE(ifOp, nullptr);
  EXPECT_STREQ(ifOp->opType, "If");
  ASSERT_EQ(ifOp->graphAttributes.size(), 2u);
  EXPECT_STREQ(ifOp->graphAttributes[0], "else_branch");
  EXPECT_STREQ(ifOp->graphAttributes[1], "then_branch");
  // Graph attributes are listed apart from the others.
  EXPECT_EQ(ifOp->findAttribute("then_branch"), nullptr);
  EXPECT_EQ(ifOp->findAttribute("else_branch"), nullptr);
  ASSERT_EQ(ifOp->outputs.size(), 1u);
  EXPECT_EQ(ifOp->outputs[0].kind, FormalKind::Variadic);

  const OpSchema *loop = lookupSchema("Loop", maxSupportedOpset());
  ASSERT_NE(loop, nullptr);
  ASSERT_EQ(loop->graphAttributes.size(), 1u);
  EXPECT_STREQ(loop->graphAttributes[0], "body");
}

TEST(ONNXSchemaByName, StringifyAttrKind) {
  EXPECT_EQ(stringifyAttrKind(AttrKind::Float), "FLOAT");
  EXPECT_EQ(stringifyAttrKind(AttrKind::Int), "INT");
  EXPECT_EQ(stringifyAttrKind(AttrKind::String), "STRING");
  EXPECT_EQ(stringifyAttrKind(AttrKind::Tensor), "TENSOR");
  EXPECT_EQ(stringifyAttrKind(AttrKind::SparseTensor), "SPARSE_TENSOR");
  EXPECT_EQ(stringifyAttrKind(AttrKind::Type), "TYPE_PROTO");
  EXPECT_EQ(stringifyAttrKind(AttrKind::Graph), "GRAPH");
  EXPECT_EQ(stringifyAttrKind(AttrKind::Floats), "FLOATS");
  EXPECT_EQ(stringifyAttrKind(AttrKind::Ints), "INTS");
  EXPECT_EQ(stringifyAttrKind(AttrKind::Strings), "STRINGS");
  EXPECT_EQ(stringifyAttrKind(AttrKind::Tensors), "TENSORS");
  EXPECT_EQ(stringifyAttrKind(AttrKind::SparseTensors), "SPARSE_TENSORS");
  EXPECT_EQ(stringifyAttrKind(AttrKind::Types), "TYPE_PROTOS");
  EXPECT_EQ(stringifyAttrKind(AttrKind::Graphs), "GRAPHS");
}

// Every version of every operator in the table is what lookupSchema returns
// from its sinceVersion up to (not including) the next version.
TEST(ONNXSchemaTable, EveryVersionIsFoundInItsRange) {
  llvm::StringMap<std::set<int64_t>> versions;
  for (const OpSchema &entry : tableEntries())
    versions[entry.opType].insert(entry.sinceVersion);
  ASSERT_GT(versions.size(), 100u);

  for (const OpSchema &entry : tableEntries()) {
    SCOPED_TRACE(std::string(entry.opType) + "-" +
                 std::to_string(entry.sinceVersion));
    const std::set<int64_t> &all = versions[entry.opType];
    EXPECT_EQ(all.count(entry.sinceVersion), 1u);
    auto next = all.upper_bound(entry.sinceVersion);
    int64_t end = next == all.end() ? maxSupportedOpset() + 1 : *next;
    for (int64_t opset : {entry.sinceVersion, end - 1}) {
      const OpSchema *found = lookupSchema(entry.opType, opset);
      ASSERT_NE(found, nullptr) << "at opset " << opset;
      EXPECT_EQ(found->sinceVersion, entry.sinceVersion) << "at opset " << opset;
      EXPECT_STREQ(found->opName, entry.opName) << "at opset " << opset;
    }
    if (entry.sinceVersion == *all.begin()) {
      EXPECT_EQ(lookupSchema(entry.opType, entry.sinceVersion - 1), nullptr);
    }
  }
}

// Versions that share a dialect op must share its signature: the importer
// checks nodes against the version's schema, the exporter against the one
// lookupSchemaByOpName returns.
TEST(ONNXSchemaTable, VersionsSharingAnOpShareTheSignature) {
  auto signature = [](const OpSchema &s) {
    std::string text = std::string(s.opType) + "(";
    for (const FormalSpec &f : s.inputs)
      text += std::string(f.name) + ":" + std::to_string(int(f.kind)) + ",";
    text += ")->(";
    for (const FormalSpec &f : s.outputs)
      text += std::string(f.name) + ":" + std::to_string(int(f.kind)) + ",";
    text += ") {";
    for (const AttrSpec &a : s.attributes)
      text += std::string(a.name) + ":" + stringifyAttrKind(a.kind).str() +
              (a.required ? "!" : "") + ",";
    text += "} [";
    for (const char *g : s.graphAttributes)
      text += std::string(g) + ",";
    return text + "]";
  };
  for (const OpSchema &entry : tableEntries()) {
    SCOPED_TRACE(std::string(entry.opType) + "-" +
                 std::to_string(entry.sinceVersion));
    const OpSchema *byName = lookupSchemaByOpName(entry.opName);
    ASSERT_NE(byName, nullptr) << entry.opName;
    EXPECT_STREQ(byName->opName, entry.opName);
    EXPECT_EQ(signature(*byName), signature(entry));
  }
}

TEST_F(ONNXSchemaTest, EveryOpNameIsARegisteredOp) {
  ASSERT_NE(context->getLoadedDialect<ONNXDialect>(), nullptr);
  llvm::StringSet<> registered;
  for (mlir::RegisteredOperationName name : context->getRegisteredOperations())
    registered.insert(name.getStringRef());
  EXPECT_TRUE(registered.contains("onnx.Gemm"));

  llvm::StringSet<> opTypes;
  for (const OpSchema &entry : tableEntries()) {
    SCOPED_TRACE(std::string(entry.opType) + "-" +
                 std::to_string(entry.sinceVersion));
    opTypes.insert(entry.opType);
    EXPECT_TRUE(registered.contains(entry.opName)) << entry.opName;
    auto op = mlir::RegisteredOperationName::lookup(entry.opName, context.get());
    ASSERT_TRUE(op.has_value()) << entry.opName;
    EXPECT_EQ(op->getDialect().getNamespace(), "onnx");

    // The op declares each non-graph attribute of the schema.
    llvm::StringSet<> declared;
    for (mlir::StringAttr name : op->getAttributeNames())
      declared.insert(name.getValue());
    for (const AttrSpec &attribute : entry.attributes)
      EXPECT_TRUE(declared.contains(attribute.name))
          << entry.opName << " lacks attribute " << attribute.name;
  }

  // The newest version of each operator, as the importer finds it.
  for (const auto &opType : opTypes) {
    const OpSchema *newest = lookupSchema(opType.getKey(), maxSupportedOpset());
    ASSERT_NE(newest, nullptr) << opType.getKey().str();
    EXPECT_TRUE(mlir::RegisteredOperationName::lookup(newest->opName,
                                                      context.get()))
        << newest->opName;
  }
}

} // namespace
