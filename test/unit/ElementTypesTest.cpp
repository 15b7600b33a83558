//===- ElementTypesTest.cpp - ONNX data types <-> MLIR types --------------===//
//
// Every TensorProto.DataType Pith knows (1 to 28) maps to an MLIR type and
// back to the same code, with the storage width ONNX's raw_data uses.
//
//===----------------------------------------------------------------------===//

#include "pith/Proto/ONNXProto.h"

#include "ONNX/ONNXDialect.h"
#include "pith/InitAll.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <string>

using namespace mlir;
using pith::proto::elementTypeFromONNX;
using pith::proto::elementTypeToONNX;
using pith::proto::storageBitsOf;

namespace {

// TensorProto.DataType, as onnx.proto numbers them.
enum DataType : int32_t {
  UNDEFINED = 0,
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  UINT16 = 4,
  INT16 = 5,
  INT32 = 6,
  INT64 = 7,
  STRING = 8,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  UINT32 = 12,
  UINT64 = 13,
  COMPLEX64 = 14,
  COMPLEX128 = 15,
  BFLOAT16 = 16,
  FLOAT8E4M3FN = 17,
  FLOAT8E4M3FNUZ = 18,
  FLOAT8E5M2 = 19,
  FLOAT8E5M2FNUZ = 20,
  UINT4 = 21,
  INT4 = 22,
  FLOAT4E2M1 = 23,
  FLOAT8E8M0 = 24,
  UINT2 = 25,
  INT2 = 26,
  FLOAT6E2M3 = 27,
  FLOAT6E3M2 = 28,
};

std::string str(Type type) {
  if (!type)
    return "<null>";
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

class ElementTypesTest : public ::testing::Test {
protected:
  ElementTypesTest() {
    pith::registerAllDialects(registry);
    context = std::make_unique<MLIRContext>(registry);
    context->loadAllAvailableDialects();
  }

  Type fromONNX(int32_t code) { return elementTypeFromONNX(code, context.get()); }

  DialectRegistry registry;
  std::unique_ptr<MLIRContext> context;
};

TEST_F(ElementTypesTest, EachDataTypeMapsToTheExpectedMLIRType) {
  MLIRContext *ctx = context.get();
  auto sint = [&](unsigned w) { return IntegerType::get(ctx, w); };
  auto uint = [&](unsigned w) {
    return IntegerType::get(ctx, w, IntegerType::Unsigned);
  };
  struct Case {
    int32_t code;
    Type type;
  } cases[] = {
      {FLOAT, Float32Type::get(ctx)},
      {UINT8, uint(8)},
      {INT8, sint(8)},
      {UINT16, uint(16)},
      {INT16, sint(16)},
      {INT32, sint(32)},
      {INT64, sint(64)},
      {STRING, pith::ONNX::StringType::get(ctx)},
      {BOOL, sint(1)},
      {FLOAT16, Float16Type::get(ctx)},
      {DOUBLE, Float64Type::get(ctx)},
      {UINT32, uint(32)},
      {UINT64, uint(64)},
      {COMPLEX64, ComplexType::get(Float32Type::get(ctx))},
      {COMPLEX128, ComplexType::get(Float64Type::get(ctx))},
      {BFLOAT16, BFloat16Type::get(ctx)},
      {FLOAT8E4M3FN, Float8E4M3FNType::get(ctx)},
      {FLOAT8E4M3FNUZ, Float8E4M3FNUZType::get(ctx)},
      {FLOAT8E5M2, Float8E5M2Type::get(ctx)},
      {FLOAT8E5M2FNUZ, Float8E5M2FNUZType::get(ctx)},
      {UINT4, uint(4)},
      {INT4, sint(4)},
      {FLOAT4E2M1, Float4E2M1FNType::get(ctx)},
      {FLOAT8E8M0, Float8E8M0FNUType::get(ctx)},
      {UINT2, uint(2)},
      {INT2, sint(2)},
      {FLOAT6E2M3, Float6E2M3FNType::get(ctx)},
      {FLOAT6E3M2, Float6E3M2FNType::get(ctx)},
  };
  ASSERT_EQ(std::size(cases), 28u);
  for (const Case &c : cases)
    EXPECT_EQ(str(fromONNX(c.code)), str(c.type)) << "data type " << c.code;
}

TEST_F(ElementTypesTest, EveryDataTypeRoundTrips) {
  for (int32_t code = 1; code <= 28; ++code) {
    SCOPED_TRACE("data type " + std::to_string(code));
    Type type = fromONNX(code);
    ASSERT_TRUE(type);
    std::optional<int32_t> back = elementTypeToONNX(type);
    ASSERT_TRUE(back.has_value()) << str(type);
    EXPECT_EQ(*back, code) << str(type);
  }
}

TEST_F(ElementTypesTest, DistinctDataTypesGiveDistinctTypes) {
  for (int32_t a = 1; a <= 28; ++a)
    for (int32_t b = a + 1; b <= 28; ++b)
      EXPECT_NE(fromONNX(a), fromONNX(b)) << a << " and " << b;
}

TEST_F(ElementTypesTest, UndefinedAndUnknownCodesGiveNull) {
  EXPECT_FALSE(fromONNX(UNDEFINED));
  EXPECT_FALSE(fromONNX(-1));
  EXPECT_FALSE(fromONNX(100));
  EXPECT_FALSE(fromONNX(1000));
  EXPECT_FALSE(fromONNX(INT32_MAX));
  EXPECT_FALSE(fromONNX(INT32_MIN));
}

TEST_F(ElementTypesTest, StorageBits) {
  struct Case {
    int32_t code;
    unsigned bits;
  } cases[] = {
      {FLOAT, 32},         {UINT8, 8},           {INT8, 8},
      {UINT16, 16},        {INT16, 16},          {INT32, 32},
      {INT64, 64},         {BOOL, 8},            {FLOAT16, 16},
      {DOUBLE, 64},        {UINT32, 32},         {UINT64, 64},
      {COMPLEX64, 64},     {COMPLEX128, 128},    {BFLOAT16, 16},
      {FLOAT8E4M3FN, 8},   {FLOAT8E4M3FNUZ, 8},  {FLOAT8E5M2, 8},
      {FLOAT8E5M2FNUZ, 8}, {UINT4, 4},           {INT4, 4},
      {FLOAT4E2M1, 4},     {FLOAT8E8M0, 8},      {UINT2, 2},
      {INT2, 2},           {FLOAT6E2M3, 6},      {FLOAT6E3M2, 6},
  };
  for (const Case &c : cases)
    EXPECT_EQ(storageBitsOf(c.code), c.bits) << "data type " << c.code;
  // Strings have no fixed width; unknown codes have none either.
  EXPECT_EQ(storageBitsOf(STRING), 0u);
  EXPECT_EQ(storageBitsOf(UNDEFINED), 0u);
  EXPECT_EQ(storageBitsOf(-1), 0u);
  EXPECT_EQ(storageBitsOf(1000), 0u);
}

// The storage width agrees with the MLIR type's bit width, except for BOOL,
// which ONNX stores in a byte.
TEST_F(ElementTypesTest, StorageBitsMatchTypeWidths) {
  for (int32_t code = 1; code <= 28; ++code) {
    if (code == STRING)
      continue;
    SCOPED_TRACE("data type " + std::to_string(code));
    Type type = fromONNX(code);
    ASSERT_TRUE(type);
    unsigned width;
    if (auto complex = dyn_cast<ComplexType>(type))
      width = 2 * complex.getElementType().getIntOrFloatBitWidth();
    else
      width = type.getIntOrFloatBitWidth();
    EXPECT_EQ(storageBitsOf(code), code == BOOL ? 8u : width) << str(type);
  }
}

TEST_F(ElementTypesTest, TypesWithoutAnONNXEquivalent) {
  MLIRContext *ctx = context.get();
  Type noEquivalent[] = {
      IntegerType::get(ctx, 3),
      IntegerType::get(ctx, 128),
      IntegerType::get(ctx, 7, IntegerType::Unsigned),
      Float80Type::get(ctx),
      Float128Type::get(ctx),
      FloatTF32Type::get(ctx),
      Float8E4M3Type::get(ctx),
      Float8E4M3B11FNUZType::get(ctx),
      ComplexType::get(Float16Type::get(ctx)),
      IndexType::get(ctx),
      NoneType::get(ctx),
      RankedTensorType::get({2}, Float32Type::get(ctx)),
  };
  for (Type type : noEquivalent)
    EXPECT_FALSE(elementTypeToONNX(type).has_value()) << str(type);
}

TEST_F(ElementTypesTest, SignedIntegersMapLikeSignless) {
  MLIRContext *ctx = context.get();
  auto signedInt = [&](unsigned w) {
    return IntegerType::get(ctx, w, IntegerType::Signed);
  };
  EXPECT_EQ(elementTypeToONNX(signedInt(4)), std::optional<int32_t>(INT4));
  EXPECT_EQ(elementTypeToONNX(signedInt(8)), std::optional<int32_t>(INT8));
  EXPECT_EQ(elementTypeToONNX(signedInt(16)), std::optional<int32_t>(INT16));
  EXPECT_EQ(elementTypeToONNX(signedInt(32)), std::optional<int32_t>(INT32));
  EXPECT_EQ(elementTypeToONNX(signedInt(64)), std::optional<int32_t>(INT64));
}

} // namespace
