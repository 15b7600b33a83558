//===- ElementTypes.cpp - ONNX data types <-> MLIR types ------------------===//
//
// ONNX signed integers map to signless MLIR integers (as elsewhere in MLIR),
// unsigned ones to unsigned integers, BOOL to i1 and STRING to !onnx.string.
//
//===----------------------------------------------------------------------===//

#include "pith/Proto/ONNXProto.h"

#include "ONNX/ONNXDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "onnx/onnx_pb.h"

using namespace mlir;

namespace {
// TensorProto.DataType values newer than libonnx 1.12's enum.
enum NewerDataType : int32_t {
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
} // namespace

Type pith::proto::elementTypeFromONNX(int32_t dataType, MLIRContext *ctx) {
  using T = onnx::TensorProto;
  auto sint = [&](unsigned w) { return IntegerType::get(ctx, w); };
  auto uint = [&](unsigned w) {
    return IntegerType::get(ctx, w, IntegerType::Unsigned);
  };
  switch (dataType) {
  case T::FLOAT: return Float32Type::get(ctx);
  case T::UINT8: return uint(8);
  case T::INT8: return sint(8);
  case T::UINT16: return uint(16);
  case T::INT16: return sint(16);
  case T::INT32: return sint(32);
  case T::INT64: return sint(64);
  case T::STRING: return pith::ONNX::StringType::get(ctx);
  case T::BOOL: return sint(1);
  case T::FLOAT16: return Float16Type::get(ctx);
  case T::DOUBLE: return Float64Type::get(ctx);
  case T::UINT32: return uint(32);
  case T::UINT64: return uint(64);
  case T::COMPLEX64: return ComplexType::get(Float32Type::get(ctx));
  case T::COMPLEX128: return ComplexType::get(Float64Type::get(ctx));
  case T::BFLOAT16: return BFloat16Type::get(ctx);
  case FLOAT8E4M3FN: return Float8E4M3FNType::get(ctx);
  case FLOAT8E4M3FNUZ: return Float8E4M3FNUZType::get(ctx);
  case FLOAT8E5M2: return Float8E5M2Type::get(ctx);
  case FLOAT8E5M2FNUZ: return Float8E5M2FNUZType::get(ctx);
  case UINT4: return uint(4);
  case INT4: return sint(4);
  case FLOAT4E2M1: return Float4E2M1FNType::get(ctx);
  case FLOAT8E8M0: return Float8E8M0FNUType::get(ctx);
  case UINT2: return uint(2);
  case INT2: return sint(2);
  case FLOAT6E2M3: return Float6E2M3FNType::get(ctx);
  case FLOAT6E3M2: return Float6E3M2FNType::get(ctx);
  default: return nullptr;
  }
}

std::optional<int32_t> pith::proto::elementTypeToONNX(Type type) {
  using T = onnx::TensorProto;
  if (type.isF32()) return T::FLOAT;
  if (type.isF64()) return T::DOUBLE;
  if (type.isF16()) return T::FLOAT16;
  if (type.isBF16()) return T::BFLOAT16;
  if (isa<Float8E4M3FNType>(type)) return FLOAT8E4M3FN;
  if (isa<Float8E4M3FNUZType>(type)) return FLOAT8E4M3FNUZ;
  if (isa<Float8E5M2Type>(type)) return FLOAT8E5M2;
  if (isa<Float8E5M2FNUZType>(type)) return FLOAT8E5M2FNUZ;
  if (isa<Float4E2M1FNType>(type)) return FLOAT4E2M1;
  if (isa<Float8E8M0FNUType>(type)) return FLOAT8E8M0;
  if (isa<Float6E2M3FNType>(type)) return FLOAT6E2M3;
  if (isa<Float6E3M2FNType>(type)) return FLOAT6E3M2;
  if (isa<pith::ONNX::StringType>(type)) return T::STRING;
  if (auto complex = dyn_cast<ComplexType>(type)) {
    if (complex.getElementType().isF32()) return T::COMPLEX64;
    if (complex.getElementType().isF64()) return T::COMPLEX128;
    return std::nullopt;
  }
  auto integer = dyn_cast<IntegerType>(type);
  if (!integer)
    return std::nullopt;
  bool isUnsigned = integer.isUnsigned();
  switch (integer.getWidth()) {
  case 1: return T::BOOL;
  case 2: return isUnsigned ? UINT2 : INT2;
  case 4: return isUnsigned ? UINT4 : INT4;
  case 8: return isUnsigned ? T::UINT8 : T::INT8;
  case 16: return isUnsigned ? T::UINT16 : T::INT16;
  case 32: return isUnsigned ? T::UINT32 : T::INT32;
  case 64: return isUnsigned ? T::UINT64 : T::INT64;
  default: return std::nullopt;
  }
}

unsigned pith::proto::storageBitsOf(int32_t dataType) {
  using T = onnx::TensorProto;
  switch (dataType) {
  case T::UINT8: case T::INT8: case T::BOOL:
  case FLOAT8E4M3FN: case FLOAT8E4M3FNUZ: case FLOAT8E5M2:
  case FLOAT8E5M2FNUZ: case FLOAT8E8M0:
    return 8;
  case T::UINT16: case T::INT16: case T::FLOAT16: case T::BFLOAT16:
    return 16;
  case T::FLOAT: case T::INT32: case T::UINT32:
    return 32;
  case T::INT64: case T::UINT64: case T::DOUBLE: case T::COMPLEX64:
    return 64;
  case T::COMPLEX128:
    return 128;
  case UINT4: case INT4: case FLOAT4E2M1:
    return 4;
  case UINT2: case INT2:
    return 2;
  case FLOAT6E2M3: case FLOAT6E3M2:
    // Not byte-aligned either; ONNX packs them (4 values in 3 bytes).
    return 6;
  default:
    return 0;
  }
}
