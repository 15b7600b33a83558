//===- ONNXImporter.cpp - ONNX ModelProto -> onnx dialect -----------------===//
//
// Builds, for a ModelProto:
//   module attributes {onnx.opset_import, onnx.ir_version, producer...}
//     func.func @<graph name>(<graph inputs>) -> (<graph outputs>)
//       onnx.Initializer ... (one per initializer, data as dense_resource)
//       one op per node, in order; subgraphs as regions ending in onnx.Yield
//
// Nodes of ai.onnx are matched to an op by (op type, opset) through the
// schema table; anything else becomes onnx.Custom. Every op is verified as
// it is built, so errors name the node that caused them.
//
//===----------------------------------------------------------------------===//

#include "pith/Import/ONNXImporter.h"

#include "TensorImport.h"
#include "ONNX/ONNXOps.h"
#include "ONNX/ONNXSchema.h"
#include "pith/Proto/ONNXProto.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "onnx/onnx_pb.h"

using namespace mlir;
using namespace pith;
using namespace pith::ONNX;

namespace {

/// Thrown-free error plumbing: every failure becomes one message.
llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(message.str());
}

/// Names bound in the graph being imported and the graphs around it: ONNX
/// subgraphs may read any value of an enclosing graph.
class Scope {
public:
  void push() { frames.emplace_back(); }
  void pop() { frames.pop_back(); }
  void bind(llvm::StringRef name, Value value) { frames.back()[name] = value; }
  Value lookup(llvm::StringRef name) const {
    for (auto it = frames.rbegin(); it != frames.rend(); ++it)
      if (Value value = it->lookup(name))
        return value;
    return nullptr;
  }

private:
  std::vector<llvm::StringMap<Value>> frames;
};

/// The declared type of a value and its symbolic dimension names.
struct DeclaredType {
  Type type;
  ArrayAttr dimParams;
};

class Importer {
public:
  Importer(MLIRContext *context, llvm::StringRef displayName,
           llvm::StringRef baseDirectory, const ImportOptions &options)
      : context(context), builder(context), displayName(displayName.str()),
        baseDirectory(baseDirectory.str()), options(options) {}

  llvm::Expected<OwningOpRef<ModuleOp>> importModel(onnx::ModelProto &model);

private:
  llvm::Error importModelHeader(onnx::ModelProto &model, ModuleOp module);
  llvm::Error importMainGraph(onnx::GraphProto &graph, ModuleOp module);
  llvm::Error importNodes(onnx::GraphProto &graph);
  llvm::Error importInitializers(onnx::GraphProto &graph);
  llvm::Error importNode(onnx::NodeProto &node, int index);
  llvm::Error importSubgraph(onnx::GraphProto &graph, Region &region,
                             const std::string &nodeLabel,
                             SmallVectorImpl<Attribute> &subgraphInfo);
  llvm::Expected<Attribute> importAttribute(onnx::AttributeProto &attribute,
                                            const std::string &nodeLabel,
                                            bool schemaKnown);
  llvm::Expected<DeclaredType> importType(const onnx::TypeProto &type);
  Type resultType(const std::string &name);
  Value noneValue();
  void collectDeclaredTypes(onnx::GraphProto &graph);
  llvm::Error verifyBuilt(Operation *op, const std::string &nodeLabel);

  MLIRContext *context;
  OpBuilder builder;
  std::string displayName;
  std::string baseDirectory;
  ImportOptions options;
  int64_t defaultOpset = 0;
  Scope scope;
  /// Types the model states for values (outputs, value_info) or that shape
  /// inference found, by name, per graph: sibling subgraphs may use the same
  /// names for different values.
  llvm::DenseMap<const onnx::GraphProto *, llvm::StringMap<Type>> graphTypes;
  /// The table of the graph being imported.
  llvm::StringMap<Type> *currentTypes = nullptr;
  /// Names the enclosing node in errors inside a subgraph ("node 'if1' (If) > ").
  std::string labelPrefix;
  /// The `onnx.None` of the block being filled, created on first use.
  Value currentNone;
  int unnamedTensors = 0;
};

} // namespace

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

llvm::Expected<DeclaredType> Importer::importType(const onnx::TypeProto &type) {
  switch (type.value_case()) {
  case onnx::TypeProto::kTensorType: {
    const auto &tensor = type.tensor_type();
    Type element = proto::elementTypeFromONNX(tensor.elem_type(), context);
    if (!element)
      return DeclaredType{UnknownType::get(context), nullptr};
    if (!tensor.has_shape())
      return DeclaredType{UnrankedTensorType::get(element), nullptr};
    SmallVector<int64_t> shape;
    SmallVector<Attribute> params;
    bool anyParam = false;
    for (const auto &dim : tensor.shape().dim()) {
      if (dim.has_dim_value() && dim.dim_value() >= 0) {
        shape.push_back(dim.dim_value());
        params.push_back(builder.getStringAttr(""));
      } else {
        shape.push_back(ShapedType::kDynamic);
        params.push_back(builder.getStringAttr(dim.dim_param()));
        anyParam |= !dim.dim_param().empty();
      }
    }
    return DeclaredType{RankedTensorType::get(shape, element),
                        anyParam ? builder.getArrayAttr(params) : nullptr};
  }
  case onnx::TypeProto::kSequenceType: {
    auto element = importType(type.sequence_type().elem_type());
    if (!element)
      return element.takeError();
    return DeclaredType{SeqType::get(context, element->type), nullptr};
  }
  case onnx::TypeProto::kOptionalType: {
    auto element = importType(type.optional_type().elem_type());
    if (!element)
      return element.takeError();
    return DeclaredType{OptType::get(context, element->type), nullptr};
  }
  case onnx::TypeProto::VALUE_NOT_SET:
    return DeclaredType{UnknownType::get(context), nullptr};
  default:
    return error("unsupported ONNX type (map or sparse tensor)");
  }
}

/// Collects the types the model states, per graph. Graph outputs win over
/// value_info, which wins over types found by shape inference (added later).
void Importer::collectDeclaredTypes(onnx::GraphProto &graph) {
  llvm::StringMap<Type> &types = graphTypes[&graph];
  auto record = [&](const onnx::ValueInfoProto &info) {
    if (!info.has_type() || types.count(info.name()))
      return;
    if (auto declared = importType(info.type()))
      types[info.name()] = declared->type;
    else
      llvm::consumeError(declared.takeError());
  };
  for (const auto &output : graph.output())
    record(output);
  for (const auto &info : graph.value_info())
    record(info);
  for (auto &node : *graph.mutable_node())
    for (auto &attribute : *node.mutable_attribute())
      if (attribute.has_g())
        collectDeclaredTypes(*attribute.mutable_g());
}

Type Importer::resultType(const std::string &name) {
  if (currentTypes)
    if (Type type = currentTypes->lookup(name))
      return type;
  return UnknownType::get(context);
}

Value Importer::noneValue() {
  if (!currentNone) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(builder.getInsertionBlock());
    currentNone = NoneOp::create(builder, builder.getUnknownLoc(),
                                  builder.getNoneType());
  }
  return currentNone;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

/// Old models leave AttributeProto.type unset; the filled field tells it.
static int attributeKind(const onnx::AttributeProto &a) {
  using A = onnx::AttributeProto;
  if (a.type() != A::UNDEFINED)
    return a.type();
  if (a.has_f()) return A::FLOAT;
  if (a.has_i()) return A::INT;
  if (a.has_s()) return A::STRING;
  if (a.has_t()) return A::TENSOR;
  if (a.has_g()) return A::GRAPH;
  if (a.has_sparse_tensor()) return A::SPARSE_TENSOR;
  if (a.has_tp()) return A::TYPE_PROTO;
  if (a.floats_size()) return A::FLOATS;
  if (a.ints_size()) return A::INTS;
  if (a.strings_size()) return A::STRINGS;
  if (a.tensors_size()) return A::TENSORS;
  if (a.graphs_size()) return A::GRAPHS;
  if (a.sparse_tensors_size()) return A::SPARSE_TENSORS;
  if (a.type_protos_size()) return A::TYPE_PROTOS;
  return A::UNDEFINED;
}

static AttrKind toAttrKind(int kind) {
  using A = onnx::AttributeProto;
  switch (kind) {
  case A::FLOAT: return AttrKind::Float;
  case A::INT: return AttrKind::Int;
  case A::STRING: return AttrKind::String;
  case A::TENSOR: return AttrKind::Tensor;
  case A::GRAPH: return AttrKind::Graph;
  case A::SPARSE_TENSOR: return AttrKind::SparseTensor;
  case A::TYPE_PROTO: return AttrKind::Type;
  case A::FLOATS: return AttrKind::Floats;
  case A::INTS: return AttrKind::Ints;
  case A::STRINGS: return AttrKind::Strings;
  case A::TENSORS: return AttrKind::Tensors;
  case A::GRAPHS: return AttrKind::Graphs;
  case A::SPARSE_TENSORS: return AttrKind::SparseTensors;
  default: return AttrKind::Types;
  }
}

llvm::Expected<Attribute>
Importer::importAttribute(onnx::AttributeProto &a,
                          const std::string &nodeLabel, bool schemaKnown) {
  using A = onnx::AttributeProto;
  TensorImportContext tensorContext{context, baseDirectory,
                                    options.inlineTensorElementLimit,
                                    nodeLabel + "." + a.name()};
  auto tensor = [&](onnx::TensorProto &t) -> llvm::Expected<Attribute> {
    auto attr = importTensor(t, tensorContext, /*forceResource=*/false);
    if (!attr)
      return attr.takeError();
    return Attribute(*attr);
  };
  int kind = attributeKind(a);
  // An empty list of tensors, types or sparse tensors looks like an empty
  // list of strings once it is an ArrayAttr; outside the schema nothing else
  // tells them apart, so such an attribute is kept verbatim.
  bool emptyUntypedList = a.tensors_size() + a.type_protos_size() +
                              a.sparse_tensors_size() ==
                          0;
  if (!schemaKnown && emptyUntypedList &&
      (kind == A::TENSORS || kind == A::TYPE_PROTOS || kind == A::SPARSE_TENSORS))
    return SerializedProtoAttr::get(context, "AttributeProto",
                                    a.SerializeAsString());
  switch (kind) {
  case A::FLOAT:
    return builder.getF32FloatAttr(a.f());
  case A::INT:
    return builder.getI64IntegerAttr(a.i());
  case A::STRING:
    return builder.getStringAttr(a.s());
  case A::TENSOR:
    return tensor(*a.mutable_t());
  case A::SPARSE_TENSOR:
    return SerializedProtoAttr::get(context, "SparseTensorProto",
                                    a.sparse_tensor().SerializeAsString());
  case A::TYPE_PROTO: {
    auto type = importType(a.tp());
    if (!type)
      return type.takeError();
    return TypeAttr::get(type->type);
  }
  case A::FLOATS:
    return builder.getDenseF32ArrayAttr(
        SmallVector<float>(a.floats().begin(), a.floats().end()));
  case A::INTS:
    return builder.getDenseI64ArrayAttr(
        SmallVector<int64_t>(a.ints().begin(), a.ints().end()));
  case A::STRINGS: {
    SmallVector<StringRef> strings(a.strings().begin(), a.strings().end());
    return builder.getStrArrayAttr(strings);
  }
  case A::TENSORS: {
    SmallVector<Attribute> tensors;
    for (auto &t : *a.mutable_tensors()) {
      auto attr = tensor(t);
      if (!attr)
        return attr.takeError();
      tensors.push_back(*attr);
    }
    return builder.getArrayAttr(tensors);
  }
  case A::SPARSE_TENSORS: {
    SmallVector<Attribute> tensors;
    for (const auto &t : a.sparse_tensors())
      tensors.push_back(SerializedProtoAttr::get(context, "SparseTensorProto",
                                                 t.SerializeAsString()));
    return builder.getArrayAttr(tensors);
  }
  case A::TYPE_PROTOS: {
    SmallVector<Attribute> types;
    for (const auto &tp : a.type_protos()) {
      auto type = importType(tp);
      if (!type)
        return type.takeError();
      types.push_back(TypeAttr::get(type->type));
    }
    return builder.getArrayAttr(types);
  }
  default:
    return error("attribute '" + a.name() + "' has no value");
  }
}

//===----------------------------------------------------------------------===//
// Graphs and nodes
//===----------------------------------------------------------------------===//

llvm::Error Importer::verifyBuilt(Operation *op, const std::string &nodeLabel) {
  std::string message;
  ScopedDiagnosticHandler handler(context, [&](Diagnostic &diag) {
    if (message.empty())
      message = diag.str();
    return success();
  });
  if (succeeded(mlir::verify(op, /*verifyRecursively=*/false)))
    return llvm::Error::success();
  return error(nodeLabel + ": " + message);
}

static std::string describeNode(const onnx::NodeProto &node, int index) {
  std::string label = node.name().empty()
                          ? "node #" + std::to_string(index)
                          : "node '" + node.name() + "'";
  std::string type = node.domain().empty() || node.domain() == "ai.onnx"
                         ? node.op_type()
                         : node.domain() + "." + node.op_type();
  return label + " (" + type + ")";
}

/// A sparse initializer (values at int64 indices, linear or one row of
/// coordinates each) as the dense initializer it stands for.
static llvm::Expected<onnx::TensorProto> densify(const onnx::SparseTensorProto &sparse) {
  const onnx::TensorProto &values = sparse.values();
  std::string name = values.name();
  auto fail = [&](const std::string &why) {
    return llvm::createStringError("sparse initializer '" + name + "': " + why);
  };
  std::string valueBytes, indexBytes;
  if (std::string problem = proto::tensorBytes(values, valueBytes); !problem.empty())
    return fail(problem);
  if (std::string problem = proto::tensorBytes(sparse.indices(), indexBytes); !problem.empty())
    return fail(problem);
  unsigned width = proto::storageBitsOf(values.data_type()) / 8;
  if (width == 0 || sparse.indices().data_type() != onnx::TensorProto::INT64)
    return fail("needs fixed-width values and int64 indices");
  int64_t rank = sparse.dims_size(), total = 1;
  for (int64_t d : sparse.dims())
    total *= d;
  int64_t count = values.dims_size() == 1 ? values.dims(0) : -1;
  const auto &indexDims = sparse.indices().dims();
  bool linear = indexDims.size() == 1;
  if (count < 0 || (linear ? indexDims[0] != count
                           : indexDims.size() != 2 || indexDims[0] != count ||
                                 indexDims[1] != rank))
    return fail("values must be 1-D and indices [NNZ] or [NNZ, rank]");
  std::vector<int64_t> indices(indexBytes.size() / sizeof(int64_t));
  std::memcpy(indices.data(), indexBytes.data(), indices.size() * sizeof(int64_t));
  std::string dense(static_cast<size_t>(total) * width, '\0');
  for (int64_t e = 0; e < count; ++e) {
    int64_t at = 0;
    if (linear) {
      at = indices[e];
    } else {
      for (int64_t d = 0; d < rank; ++d) {
        int64_t i = indices[e * rank + d];
        if (i < 0 || i >= sparse.dims(d))
          return fail("index out of range");
        at = at * sparse.dims(d) + i;
      }
    }
    if (at < 0 || at >= total)
      return fail("index out of range");
    std::memcpy(&dense[at * width], &valueBytes[e * width], width);
  }
  onnx::TensorProto tensor;
  tensor.set_name(name);
  tensor.set_data_type(values.data_type());
  for (int64_t d : sparse.dims())
    tensor.add_dims(d);
  tensor.set_raw_data(std::move(dense));
  return tensor;
}

llvm::Error Importer::importInitializers(onnx::GraphProto &graph) {
  // Sparse initializers become the dense ones they stand for (a weight's
  // zeros are what pith-sparsify and the sparse kernels look at).
  for (const onnx::SparseTensorProto &sparse : graph.sparse_initializer()) {
    auto dense = densify(sparse);
    if (!dense)
      return dense.takeError();
    *graph.add_initializer() = std::move(*dense);
  }
  graph.clear_sparse_initializer();
  for (onnx::TensorProto &tensor : *graph.mutable_initializer()) {
    TensorImportContext tensorContext{
        context, baseDirectory, options.inlineTensorElementLimit,
        "initializer_" + std::to_string(unnamedTensors++)};
    auto value = importTensor(tensor, tensorContext, /*forceResource=*/true);
    if (!value)
      return error("initializer '" + tensor.name() +
                   "': " + llvm::toString(value.takeError()));
    auto op = InitializerOp::create(
        builder, NameLoc::get(builder.getStringAttr(tensor.name())),
        value->getShapedType(), builder.getStringAttr(tensor.name()), *value);
    // A graph input of the same name overrides the initializer (its
    // default value, in IR version < 4 models).
    if (!scope.lookup(tensor.name()))
      scope.bind(tensor.name(), op.getResult());
  }
  return llvm::Error::success();
}

llvm::Error Importer::importNodes(onnx::GraphProto &graph) {
  for (int i = 0; i < graph.node_size(); ++i)
    if (llvm::Error err = importNode(*graph.mutable_node(i), i))
      return err;
  return llvm::Error::success();
}

llvm::Error Importer::importSubgraph(onnx::GraphProto &graph, Region &region,
                                     const std::string &nodeLabel,
                                     SmallVectorImpl<Attribute> &subgraphInfo) {
  OpBuilder::InsertionGuard guard(builder);
  Value outerNone = currentNone;
  currentNone = nullptr;
  llvm::StringMap<Type> *outerTypes = currentTypes;
  currentTypes = &graphTypes[&graph];
  std::string outerPrefix = labelPrefix;
  labelPrefix = nodeLabel + " > ";
  llvm::scope_exit restore([&] {
    currentNone = outerNone;
    currentTypes = outerTypes;
    labelPrefix = outerPrefix;
  });
  Block *block = builder.createBlock(&region);
  scope.push();
  llvm::scope_exit popScope([&] { scope.pop(); });
  auto emptyDims = builder.getArrayAttr({});
  SmallVector<Attribute> inputNames, inputDims, outputDims;
  for (const auto &input : graph.input()) {
    auto declared = importType(input.type());
    if (!declared)
      return error(nodeLabel + ": subgraph input '" + input.name() +
                   "': " + llvm::toString(declared.takeError()));
    BlockArgument arg = block->addArgument(
        declared->type, NameLoc::get(builder.getStringAttr(input.name())));
    scope.bind(input.name(), arg);
    inputNames.push_back(builder.getStringAttr(input.name()));
    inputDims.push_back(declared->dimParams ? declared->dimParams : emptyDims);
  }
  if (llvm::Error err = importInitializers(graph))
    return err;
  if (llvm::Error err = importNodes(graph))
    return err;
  SmallVector<Value> outputs;
  for (const auto &output : graph.output()) {
    Value value = scope.lookup(output.name());
    if (!value)
      return error(nodeLabel + ": subgraph '" + graph.name() + "' output '" +
                   output.name() + "' is not defined");
    outputs.push_back(value);
    ArrayAttr dims;
    if (output.has_type()) {
      if (auto declared = importType(output.type()))
        dims = declared->dimParams;
      else
        llvm::consumeError(declared.takeError());
    }
    outputDims.push_back(dims ? dims : emptyDims);
  }
  YieldOp::create(builder, builder.getUnknownLoc(), outputs);
  NamedAttrList info;
  info.append("name", builder.getStringAttr(graph.name()));
  info.append("inputs", builder.getArrayAttr(inputNames));
  // Symbolic dimensions of the subgraph's inputs and outputs.
  if (llvm::any_of(inputDims, [&](Attribute a) { return a != emptyDims; }))
    info.append("input_dim_params", builder.getArrayAttr(inputDims));
  if (llvm::any_of(outputDims, [&](Attribute a) { return a != emptyDims; }))
    info.append("output_dim_params", builder.getArrayAttr(outputDims));
  if (!graph.doc_string().empty())
    info.append("doc_string", builder.getStringAttr(graph.doc_string()));
  subgraphInfo.push_back(info.getDictionary(context));
  return llvm::Error::success();
}

llvm::Error Importer::importNode(onnx::NodeProto &node, int index) {
  std::string label = labelPrefix + describeNode(node, index);
  bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
  const OpSchema *schema =
      defaultDomain ? lookupSchema(node.op_type(), defaultOpset) : nullptr;

  // Operands, with absent optional inputs as `none`.
  SmallVector<Value> operands;
  for (const std::string &name : node.input()) {
    if (name.empty()) {
      operands.push_back(noneValue());
      continue;
    }
    Value value = scope.lookup(name);
    if (!value)
      return error(label + ": input '" + name + "' is not defined");
    operands.push_back(value);
  }

  // Results, with absent optional outputs typed `none`.
  SmallVector<Type> resultTypes;
  SmallVector<Attribute> names;
  for (const std::string &name : node.output()) {
    resultTypes.push_back(name.empty() ? Type(builder.getNoneType())
                                       : resultType(name));
    names.push_back(builder.getStringAttr(name));
  }

  if (schema) {
    auto arityError = [&](const char *what, size_t have,
                          const std::vector<FormalSpec> &formals) {
      return error(label + ": has " + std::to_string(have) + " " + what +
                   ", opset " + std::to_string(defaultOpset) + " allows " +
                   std::to_string(formals.size()));
    };
    bool variadicIn = !schema->inputs.empty() &&
                      schema->inputs.back().kind == FormalKind::Variadic;
    if (!variadicIn && operands.size() > schema->inputs.size())
      return arityError("inputs", operands.size(), schema->inputs);
    for (size_t i = 0; i < schema->inputs.size(); ++i) {
      const FormalSpec &formal = schema->inputs[i];
      bool present = i < operands.size() &&
                     !isa<NoneType>(operands[i].getType());
      if (formal.kind == FormalKind::Single && !present)
        return error(label + ": required input '" + formal.name +
                     "' is missing");
    }
    while (operands.size() < schema->inputs.size() &&
           schema->inputs[operands.size()].kind == FormalKind::Optional)
      operands.push_back(noneValue());
    bool variadicOut = !schema->outputs.empty() &&
                       schema->outputs.back().kind == FormalKind::Variadic;
    if (!variadicOut && resultTypes.size() > schema->outputs.size())
      return arityError("outputs", resultTypes.size(), schema->outputs);
    while (resultTypes.size() < schema->outputs.size() &&
           schema->outputs[resultTypes.size()].kind == FormalKind::Optional) {
      resultTypes.push_back(builder.getNoneType());
      names.push_back(builder.getStringAttr(""));
    }
  }

  Location loc = node.name().empty()
                     ? builder.getUnknownLoc()
                     : Location(NameLoc::get(builder.getStringAttr(node.name())));
  OperationState state(loc, schema ? schema->opName : "onnx.Custom");
  state.addOperands(operands);
  state.addTypes(resultTypes);

  NamedAttrList attributes;
  SmallVector<Attribute> graphNames;
  std::vector<onnx::GraphProto *> graphs;
  std::vector<std::pair<std::string, onnx::GraphProto *>> namedGraphs;
  for (onnx::AttributeProto &a : *node.mutable_attribute()) {
    int kind = attributeKind(a);
    if (kind == onnx::AttributeProto::UNDEFINED)
      return error(label + ": attribute '" + a.name() + "' has no value");
    if (kind == onnx::AttributeProto::GRAPH) {
      namedGraphs.push_back({a.name(), a.mutable_g()});
      continue;
    }
    if (kind == onnx::AttributeProto::GRAPHS)
      return error(label + ": attribute '" + a.name() +
                   "' of kind GRAPHS is not supported");
    if (schema) {
      if (const AttrSpec *spec = schema->findAttribute(a.name());
          spec && spec->kind != toAttrKind(kind))
        return error(label + ": attribute '" + a.name() + "' must be " +
                     stringifyAttrKind(spec->kind) + ", got " +
                     stringifyAttrKind(toAttrKind(kind)));
    }
    auto value = importAttribute(a, label, schema != nullptr);
    if (!value)
      return error(label + ": " + llvm::toString(value.takeError()));
    attributes.append(a.name(), *value);
  }

  // Regions: in the schema's order for known ops, in node order for Custom.
  if (schema) {
    for (const char *graphName : schema->graphAttributes) {
      auto it = llvm::find_if(namedGraphs, [&](auto &entry) {
        return entry.first == graphName;
      });
      graphs.push_back(it == namedGraphs.end() ? nullptr : it->second);
    }
    for (auto &entry : namedGraphs)
      if (!llvm::is_contained(schema->graphAttributes,
                              llvm::StringRef(entry.first)))
        return error(label + ": unexpected graph attribute '" + entry.first +
                     "'");
  } else {
    for (auto &entry : namedGraphs) {
      graphs.push_back(entry.second);
      graphNames.push_back(builder.getStringAttr(entry.first));
    }
    // Custom keeps the ONNX attributes in one dictionary.
    NamedAttrList outer;
    outer.append("domain", builder.getStringAttr(node.domain()));
    outer.append("op_type", builder.getStringAttr(node.op_type()));
    outer.append("attrs", attributes.getDictionary(context));
    outer.append("graph_attrs", builder.getArrayAttr(graphNames));
    attributes = outer;
  }
  attributes.append(attrs::kNames, builder.getArrayAttr(names));
  if (!node.doc_string().empty())
    attributes.append("onnx.doc_string", builder.getStringAttr(node.doc_string()));
  state.addAttributes(attributes);
  for (size_t i = 0; i < graphs.size(); ++i)
    state.addRegion();

  Operation *op = builder.create(state);
  SmallVector<Attribute> subgraphInfo;
  for (size_t i = 0; i < graphs.size(); ++i) {
    if (!graphs[i]) {
      subgraphInfo.push_back(builder.getDictionaryAttr({}));
      continue;
    }
    if (llvm::Error err =
            importSubgraph(*graphs[i], op->getRegion(i), label, subgraphInfo))
      return err;
  }
  if (!subgraphInfo.empty())
    op->setAttr("onnx.subgraphs", builder.getArrayAttr(subgraphInfo));
  if (llvm::Error err = verifyBuilt(op, label))
    return err;
  for (auto [name, result] : llvm::zip(node.output(), op->getResults()))
    if (!name.empty())
      scope.bind(name, result);
  return llvm::Error::success();
}

llvm::Error Importer::importMainGraph(onnx::GraphProto &graph, ModuleOp module) {
  builder.setInsertionPointToEnd(module.getBody());
  scope.push();
  SmallVector<Type> inputTypes;
  SmallVector<DictionaryAttr> argAttrs;
  for (const auto &input : graph.input()) {
    auto declared = importType(input.type());
    if (!declared)
      return error("graph input '" + input.name() +
                   "': " + llvm::toString(declared.takeError()));
    inputTypes.push_back(declared->type);
    NamedAttrList attrs;
    attrs.append(attrs::kName, builder.getStringAttr(input.name()));
    if (declared->dimParams)
      attrs.append(attrs::kDimParams, declared->dimParams);
    argAttrs.push_back(attrs.getDictionary(context));
  }
  std::string name = graph.name().empty() ? "main_graph" : graph.name();
  auto func = func::FuncOp::create(builder, builder.getUnknownLoc(), name,
                                   builder.getFunctionType(inputTypes, {}));
  func.setAllArgAttrs(argAttrs);
  Block *entry = func.addEntryBlock();
  for (auto [input, arg] : llvm::zip(graph.input(), entry->getArguments())) {
    arg.setLoc(NameLoc::get(builder.getStringAttr(input.name())));
    scope.bind(input.name(), arg);
  }
  builder.setInsertionPointToStart(entry);
  currentNone = nullptr;
  currentTypes = &graphTypes[&graph];
  if (llvm::Error err = importInitializers(graph))
    return err;
  if (llvm::Error err = importNodes(graph))
    return err;

  SmallVector<Value> outputs;
  SmallVector<DictionaryAttr> resultAttrs;
  for (const auto &output : graph.output()) {
    Value value = scope.lookup(output.name());
    if (!value)
      return error("graph output '" + output.name() + "' is not defined");
    outputs.push_back(value);
    NamedAttrList attrs;
    attrs.append(attrs::kName, builder.getStringAttr(output.name()));
    if (output.has_type()) {
      auto declared = importType(output.type());
      if (!declared)
        return error("graph output '" + output.name() +
                     "': " + llvm::toString(declared.takeError()));
      if (declared->dimParams)
        attrs.append(attrs::kDimParams, declared->dimParams);
    }
    resultAttrs.push_back(attrs.getDictionary(context));
  }
  func::ReturnOp::create(builder, builder.getUnknownLoc(), outputs);
  func.setFunctionType(
      builder.getFunctionType(inputTypes, ValueRange(outputs).getTypes()));
  func.setAllResultAttrs(resultAttrs);

  // value_info entries to write back, with their symbolic dimensions.
  NamedAttrList valueInfo;
  for (const auto &info : graph.value_info()) {
    ArrayAttr params = builder.getArrayAttr({});
    if (info.has_type())
      if (auto declared = importType(info.type()); declared && declared->dimParams)
        params = declared->dimParams;
    valueInfo.set(info.name(), params);
  }
  if (!valueInfo.empty())
    func->setAttr("onnx.value_info", valueInfo.getDictionary(context));
  if (!graph.doc_string().empty())
    func->setAttr("onnx.doc_string", builder.getStringAttr(graph.doc_string()));
  scope.pop();
  return llvm::Error::success();
}

llvm::Error Importer::importModelHeader(onnx::ModelProto &model,
                                        ModuleOp module) {
  NamedAttrList opsets;
  bool hasDefault = false;
  for (const auto &opset : model.opset_import()) {
    bool isDefault = opset.domain().empty() || opset.domain() == "ai.onnx";
    if (isDefault) {
      hasDefault = true;
      defaultOpset = opset.version();
      if (defaultOpset < 1 || defaultOpset > maxSupportedOpset())
        return error("unsupported ai.onnx opset " +
                     std::to_string(defaultOpset) + " (Pith supports 1 to " +
                     std::to_string(maxSupportedOpset()) + ")");
    }
    opsets.set(isDefault ? kDefaultDomain.str() : opset.domain(),
               builder.getI64IntegerAttr(opset.version()));
  }
  if (!hasDefault) {
    bool usesDefault = llvm::any_of(model.graph().node(), [](auto &node) {
      return node.domain().empty() || node.domain() == "ai.onnx";
    });
    if (usesDefault)
      return error("the model imports no ai.onnx opset but uses its operators");
  }
  module->setAttr(attrs::kOpsetImport, opsets.getDictionary(context));
  module->setAttr(attrs::kIrVersion, builder.getI64IntegerAttr(model.ir_version()));
  auto setString = [&](const char *name, const std::string &value) {
    if (!value.empty())
      module->setAttr(name, builder.getStringAttr(value));
  };
  setString("onnx.producer_name", model.producer_name());
  setString("onnx.producer_version", model.producer_version());
  setString("onnx.domain", model.domain());
  setString("onnx.doc_string", model.doc_string());
  if (model.has_model_version())
    module->setAttr("onnx.model_version",
                    builder.getI64IntegerAttr(model.model_version()));
  if (model.metadata_props_size()) {
    SmallVector<Attribute> props;
    for (const auto &entry : model.metadata_props())
      props.push_back(builder.getStrArrayAttr({entry.key(), entry.value()}));
    module->setAttr("onnx.metadata_props", builder.getArrayAttr(props));
  }
  // Model-local functions and training info are carried verbatim.
  SmallVector<Attribute> functions;
  for (const auto &function : model.functions())
    functions.push_back(SerializedProtoAttr::get(context, "FunctionProto",
                                                 function.SerializeAsString()));
  if (!functions.empty())
    module->setAttr("onnx.functions", builder.getArrayAttr(functions));
  SmallVector<Attribute> training;
  for (const auto &info : model.training_info())
    training.push_back(SerializedProtoAttr::get(context, "TrainingInfoProto",
                                                info.SerializeAsString()));
  if (!training.empty())
    module->setAttr("onnx.training_info", builder.getArrayAttr(training));
  return llvm::Error::success();
}

/// Types found by ONNX shape inference, without changing the model: the
/// value_info it adds is read and then removed again, so export writes back
/// only what the model had.
static void recordInferredTypes(
    onnx::GraphProto &graph, const std::vector<int> &originalCounts,
    size_t &graphIndex,
    std::vector<std::pair<onnx::GraphProto *, onnx::ValueInfoProto>> &inferred) {
  int keep = originalCounts[graphIndex++];
  auto *infos = graph.mutable_value_info();
  for (int i = keep; i < infos->size(); ++i)
    inferred.push_back({&graph, infos->Get(i)});
  infos->DeleteSubrange(keep, infos->size() - keep);
  for (auto &node : *graph.mutable_node())
    for (auto &attribute : *node.mutable_attribute())
      if (attribute.has_g())
        recordInferredTypes(*attribute.mutable_g(), originalCounts, graphIndex,
                            inferred);
}

static void countValueInfo(const onnx::GraphProto &graph,
                           std::vector<int> &counts) {
  counts.push_back(graph.value_info_size());
  for (const auto &node : graph.node())
    for (const auto &attribute : node.attribute())
      if (attribute.has_g())
        countValueInfo(attribute.g(), counts);
}

llvm::Expected<OwningOpRef<ModuleOp>>
Importer::importModel(onnx::ModelProto &model) {
  auto fail = [&](llvm::Error err) -> llvm::Error {
    return error(displayName + ": " + llvm::toString(std::move(err)));
  };
  OwningOpRef<ModuleOp> module =
      ModuleOp::create(FileLineColLoc::get(context, displayName, 0, 0));
  if (llvm::Error err = importModelHeader(model, *module))
    return fail(std::move(err));
  if (!model.has_graph())
    return fail(error("the model has no graph"));

  // Concrete input shapes fill in symbolic dimensions; they must agree with
  // the model's static ones.
  for (auto &input : *model.mutable_graph()->mutable_input()) {
    auto shape = options.inputShapes.find(input.name());
    if (shape == options.inputShapes.end() || !input.type().has_tensor_type())
      continue;
    auto *tensorType = input.mutable_type()->mutable_tensor_type();
    auto describe = [](llvm::ArrayRef<int64_t> dims) {
      std::string text = "[";
      for (size_t i = 0; i < dims.size(); ++i)
        text += (i ? "," : "") + std::to_string(dims[i]);
      return text + "]";
    };
    if (tensorType->has_shape()) {
      const auto &dims = tensorType->shape().dim();
      bool matches = dims.size() == static_cast<int>(shape->second.size());
      std::string expected = "[";
      for (int i = 0; i < dims.size(); ++i) {
        bool fixed = dims[i].has_dim_value();
        expected += (i ? "," : "") +
                    (fixed ? std::to_string(dims[i].dim_value()) : std::string("?"));
        if (matches && fixed && dims[i].dim_value() != shape->second[i])
          matches = false;
      }
      if (!matches)
        return fail(error("input '" + input.name() + "' must have shape " +
                          expected + "], got " + describe(shape->second)));
    }
    auto *dims = tensorType->mutable_shape();
    dims->clear_dim();
    for (int64_t size : shape->second)
      dims->add_dim()->set_dim_value(size);
  }
  // Symbolic output dimensions follow from the inputs: leave them unknown so
  // that shape inference fills them in.
  if (!options.inputShapes.empty())
    for (auto &output : *model.mutable_graph()->mutable_output())
      // (mutable_shape() on an output without a shape would make it a scalar.)
      if (output.type().has_tensor_type() && output.type().tensor_type().has_shape())
        for (auto &dim : *output.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim())
          if (dim.has_dim_param())
            dim.clear_dim_param();
  collectDeclaredTypes(*model.mutable_graph());
  // libonnx 1.12 knows operator schemas up to opset 17; at newer opsets its
  // answers could be wrong, so types stay as the model states them.
  if (options.inferShapes && defaultOpset <= 17) {
    std::vector<int> counts;
    countValueInfo(model.graph(), counts);
    // Inference also refines the graph outputs' types in place: keep what
    // it found as inferred types, and the model's own outputs as they were.
    google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> outputs =
        model.graph().output();
    std::string problem = proto::inferShapes(model);
    std::vector<std::pair<onnx::GraphProto *, onnx::ValueInfoProto>> inferred;
    for (const auto &output : model.graph().output())
      inferred.push_back({model.mutable_graph(), output});
    model.mutable_graph()->mutable_output()->Swap(&outputs);
    size_t graphIndex = 0;
    recordInferredTypes(*model.mutable_graph(), counts, graphIndex, inferred);
    if (problem.empty())
      for (const auto &[graph, info] : inferred) {
        llvm::StringMap<Type> &types = graphTypes[graph];
        if (!info.has_type())
          continue;
        auto inferredType = importType(info.type());
        if (!inferredType) {
          llvm::consumeError(inferredType.takeError());
          continue;
        }
        // A stated type wins, unless inference knows more of its shape
        // (symbolic dimensions made concrete by ImportOptions::inputShapes).
        auto stated = dyn_cast_or_null<RankedTensorType>(types.lookup(info.name()));
        auto inferred = dyn_cast<RankedTensorType>(inferredType->type);
        bool refines = stated && inferred && inferred.hasStaticShape() &&
                       !stated.hasStaticShape() &&
                       stated.getRank() == inferred.getRank() &&
                       stated.getElementType() == inferred.getElementType();
        if (!types.count(info.name()) || refines)
          types[info.name()] = inferredType->type;
      }
  }

  if (llvm::Error err = importMainGraph(*model.mutable_graph(), *module))
    return fail(std::move(err));

  std::string message;
  {
    ScopedDiagnosticHandler handler(context, [&](Diagnostic &diag) {
      if (message.empty())
        message = diag.str();
      return success();
    });
    if (failed(mlir::verify(*module)))
      return fail(error(message));
  }
  return std::move(module);
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

static bool isTextFormatPath(llvm::StringRef path) {
  return path.ends_with(".onnxtxt") || path.ends_with(".txt");
}

static void loadDialects(MLIRContext *context) {
  context->loadDialect<ONNXDialect, func::FuncDialect>();
}

llvm::Expected<OwningOpRef<ModuleOp>>
pith::importONNXFile(llvm::StringRef path, MLIRContext *context,
                     const ImportOptions &options) {
  loadDialects(context);
  onnx::ModelProto model;
  llvm::SmallString<256> directory(path);
  llvm::sys::path::remove_filename(directory);
  if (directory.empty())
    directory = ".";
  if (path == "-")
    directory.clear();
  if (isTextFormatPath(path)) {
    auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(path);
    if (!buffer)
      return error(path + ": cannot read: " + buffer.getError().message());
    std::string problem =
        proto::parseTextModel((*buffer)->getBuffer(), model);
    if (!problem.empty())
      return error(path + ": " + problem);
  } else {
    if (path != "-" && !llvm::sys::fs::exists(path))
      return error(path + ": no such file");
    if (llvm::sys::fs::is_directory(path))
      return error(path + ": is a directory, not an ONNX model file");
    std::string problem = proto::parseBinaryModelFile(path, model);
    if (!problem.empty())
      return error(path + ": " + problem);
  }
  Importer importer(context, path, directory, options);
  return importer.importModel(model);
}

llvm::Expected<OwningOpRef<ModuleOp>>
pith::importONNXBuffer(llvm::StringRef bytes, bool isText,
                       llvm::StringRef displayName,
                       llvm::StringRef baseDirectory, MLIRContext *context,
                       const ImportOptions &options) {
  loadDialects(context);
  onnx::ModelProto model;
  if (isText) {
    std::string problem = proto::parseTextModel(bytes, model);
    if (!problem.empty())
      return error(displayName + ": " + problem);
  } else if (bytes.size() > static_cast<size_t>(INT_MAX) ||
             !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return error(displayName +
                 ": not a valid ONNX protobuf (truncated or corrupt data)");
  }
  Importer importer(context, displayName, baseDirectory, options);
  return importer.importModel(model);
}
