//===- ONNXExporter.cpp - onnx dialect -> ONNX ModelProto -----------------===//
//
// The inverse of the importer. Value names come from `onnx.names` (op
// results) and `onnx.name` (graph inputs and outputs); values without one get
// fresh unique names. Node names come from NameLoc locations.
//
// The main graph's initializers are not copied into the protobuf: the model
// is serialized around them and their bytes are written straight from the
// dense_resource blobs (or into an external-data file), so exporting a 1 GB
// model needs no second gigabyte of memory.
//
//===----------------------------------------------------------------------===//

#include "pith/Export/ONNXExporter.h"

#include "ONNX/ONNXOps.h"
#include "ONNX/ONNXSchema.h"
#include "pith/Proto/ONNXProto.h"
#include "pith/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "onnx/onnx_pb.h"

#include <google/protobuf/io/coded_stream.h>

using namespace mlir;
using namespace pith;
using namespace pith::ONNX;

namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(message.str());
}

/// Protobuf's hard limit for one message, less room for the graph itself.
constexpr uint64_t kInlineModelLimit = (1ull << 31) - (64ull << 20);

/// A main-graph initializer whose bytes are written at serialization time.
struct DeferredData {
  ArrayRef<char> bytes;
  bool deferred = false;
};

class Exporter {
public:
  explicit Exporter(ModuleOp module) : module(module) {}

  /// Fills `model`. With `deferMainData`, main-graph initializers get no
  /// raw_data; their bytes are listed in `deferred` (by initializer index).
  llvm::Error exportModel(onnx::ModelProto &model, bool deferMainData);

  std::vector<DeferredData> deferred;

private:
  llvm::Error exportHeader(onnx::ModelProto &model);
  llvm::Error exportMainGraph(func::FuncOp func, onnx::GraphProto &graph);
  llvm::Error exportBlock(Block &block, onnx::GraphProto &graph, bool isMain);
  llvm::Error exportNode(Operation *op, onnx::GraphProto &graph);
  llvm::Error exportInitializer(InitializerOp op, onnx::GraphProto &graph,
                                bool isMain);
  llvm::Error exportSubgraph(Region &region, DictionaryAttr info,
                             onnx::GraphProto &graph);
  llvm::Error exportAttribute(StringRef name, Attribute value,
                              std::optional<AttrKind> kind,
                              onnx::AttributeProto &out);
  llvm::Error exportTensor(ElementsAttr value, onnx::TensorProto &out,
                           DeferredData *defer);
  llvm::Error fillType(Type type, ArrayAttr dimParams, onnx::TypeProto &out);

  std::string claim(StringRef wanted);
  std::string nameOf(Value value);

  ModuleOp module;
  llvm::DenseMap<Value, std::string> names;
  /// Names taken in the graph being exported and the graphs enclosing it;
  /// sibling subgraphs may reuse names.
  std::vector<llvm::StringSet<>> usedFrames{1};
  /// Graph outputs' names, claimed by the values that produce them.
  llvm::DenseMap<Value, std::string> outputNames;
  /// Node names given so far: ONNX wants them unique, and a pass that
  /// expands one op into several (a factored layer into two MatMuls)
  /// leaves them one location.
  llvm::StringMap<int> nodeNames;
  bool deferMainData = false;
  int freshCounter = 0;
};

} // namespace

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

std::string Exporter::claim(StringRef wanted) {
  auto taken = [&](const std::string &name) {
    return llvm::any_of(usedFrames, [&](const llvm::StringSet<> &frame) {
      return frame.contains(name);
    });
  };
  std::string name = wanted.str();
  if (name.empty())
    name = "pith_" + std::to_string(freshCounter++);
  while (taken(name))
    name = wanted.str() + "__" + std::to_string(freshCounter++);
  usedFrames.back().insert(name);
  return name;
}

std::string Exporter::nameOf(Value value) {
  if (isa<NoneType>(value.getType()))
    return "";
  auto it = names.find(value);
  if (it != names.end())
    return it->second;
  std::string wanted;
  if (auto output = outputNames.find(value); output != outputNames.end())
    wanted = output->second;
  else if (auto result = dyn_cast<OpResult>(value))
    if (auto list = result.getOwner()->getAttrOfType<ArrayAttr>(attrs::kNames))
      if (result.getResultNumber() < list.size())
        wanted = cast<StringAttr>(list[result.getResultNumber()]).str();
  std::string name = claim(wanted);
  names[value] = name;
  return name;
}

static std::string nodeName(Location loc) {
  if (auto named = dyn_cast<NameLoc>(loc))
    return named.getName().str();
  return "";
}

static std::string describe(Operation *op) {
  std::string name = nodeName(op->getLoc());
  return (name.empty() ? "op" : "node '" + name + "'") + " (" +
         op->getName().getStringRef().str() + ")";
}

//===----------------------------------------------------------------------===//
// Types, tensors, attributes
//===----------------------------------------------------------------------===//

llvm::Error Exporter::fillType(Type type, ArrayAttr dimParams,
                               onnx::TypeProto &out) {
  if (isa<UnknownType>(type))
    return llvm::Error::success();
  if (auto seq = dyn_cast<SeqType>(type))
    return fillType(seq.getElementType(), nullptr,
                    *out.mutable_sequence_type()->mutable_elem_type());
  if (auto opt = dyn_cast<OptType>(type))
    return fillType(opt.getElementType(), nullptr,
                    *out.mutable_optional_type()->mutable_elem_type());
  auto tensor = dyn_cast<TensorType>(type);
  if (!tensor) {
    std::string text;
    llvm::raw_string_ostream os(text);
    type.print(os);
    return error("type " + text + " has no ONNX equivalent");
  }
  std::optional<int32_t> element = proto::elementTypeToONNX(tensor.getElementType());
  if (!element)
    return error("element type has no ONNX equivalent");
  auto *tensorType = out.mutable_tensor_type();
  tensorType->set_elem_type(*element);
  auto ranked = dyn_cast<RankedTensorType>(tensor);
  if (!ranked)
    return llvm::Error::success();
  auto *shape = tensorType->mutable_shape();
  for (auto [i, dim] : llvm::enumerate(ranked.getShape())) {
    auto *outDim = shape->add_dim();
    if (!ShapedType::isDynamic(dim)) {
      outDim->set_dim_value(dim);
      continue;
    }
    if (dimParams && i < dimParams.size())
      if (auto param = dyn_cast<StringAttr>(dimParams[i]); param && !param.empty())
        outDim->set_dim_param(param.str());
  }
  return llvm::Error::success();
}

llvm::Error Exporter::exportTensor(ElementsAttr value, onnx::TensorProto &out,
                                   DeferredData *defer) {
  ShapedType type = value.getShapedType();
  std::optional<int32_t> element = proto::elementTypeToONNX(type.getElementType());
  if (!element)
    return error("tensor element type has no ONNX equivalent");
  out.set_data_type(*element);
  for (int64_t dim : type.getShape())
    out.add_dims(dim);

  if (auto strings = dyn_cast<DenseStringElementsAttr>(value)) {
    // getValues expands a splat; the raw data of a splat holds one string.
    for (StringRef s : strings.getValues<StringRef>())
      out.add_string_data(s.str());
    return llvm::Error::success();
  }
  ArrayRef<char> bytes;
  std::string owned;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return error("tensor data was elided from the IR (dense_resource<" +
                   resource.getRawHandle().getKey() + "> has no blob)");
    bytes = blob->getData();
  } else if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    if (type.getElementType().isInteger(1)) {
      for (bool b : dense.getValues<bool>())
        owned.push_back(b ? 1 : 0);
    } else if (dense.isSplat()) {
      ArrayRef<char> one = dense.getRawData();
      for (int64_t i = 0; i < type.getNumElements(); ++i)
        owned.append(one.data(), one.size());
    } else {
      bytes = dense.getRawData();
    }
    if (!owned.empty() || type.getNumElements() == 0)
      bytes = ArrayRef<char>(owned.data(), owned.size());
  } else {
    return error("unsupported tensor attribute kind");
  }
  // Only data the IR owns can be written later; a converted copy is stored.
  if (defer && owned.empty()) {
    defer->bytes = bytes;
    defer->deferred = true;
  } else {
    out.set_raw_data(bytes.data(), bytes.size());
  }
  return llvm::Error::success();
}

llvm::Error Exporter::exportAttribute(StringRef name, Attribute value,
                                      std::optional<AttrKind> kind,
                                      onnx::AttributeProto &out) {
  using A = onnx::AttributeProto;
  out.set_name(name.str());
  if (auto i = dyn_cast<IntegerAttr>(value)) {
    out.set_type(A::INT);
    out.set_i(i.getInt());
  } else if (auto f = dyn_cast<FloatAttr>(value)) {
    out.set_type(A::FLOAT);
    out.set_f(static_cast<float>(f.getValueAsDouble()));
  } else if (auto s = dyn_cast<StringAttr>(value)) {
    out.set_type(A::STRING);
    out.set_s(s.str());
  } else if (auto ints = dyn_cast<DenseI64ArrayAttr>(value)) {
    out.set_type(A::INTS);
    for (int64_t v : ints.asArrayRef())
      out.add_ints(v);
  } else if (auto floats = dyn_cast<DenseF32ArrayAttr>(value)) {
    out.set_type(A::FLOATS);
    for (float v : floats.asArrayRef())
      out.add_floats(v);
  } else if (auto tensor = dyn_cast<ElementsAttr>(value)) {
    out.set_type(A::TENSOR);
    return exportTensor(tensor, *out.mutable_t(), nullptr);
  } else if (auto type = dyn_cast<TypeAttr>(value)) {
    out.set_type(A::TYPE_PROTO);
    return fillType(type.getValue(), nullptr, *out.mutable_tp());
  } else if (auto serialized = dyn_cast<SerializedProtoAttr>(value);
             serialized && serialized.getKind() == "AttributeProto") {
    // An attribute the importer kept verbatim (see importAttribute).
    if (!out.ParseFromString(serialized.getBytes().str()))
      return error("attribute '" + name + "' holds a corrupt AttributeProto");
    out.set_name(name.str());
  } else if (auto serialized = dyn_cast<SerializedProtoAttr>(value)) {
    out.set_type(A::SPARSE_TENSOR);
    if (!out.mutable_sparse_tensor()->ParseFromString(serialized.getBytes().str()))
      return error("attribute '" + name + "' holds a corrupt SparseTensorProto");
  } else if (auto array = dyn_cast<ArrayAttr>(value)) {
    // An empty list takes its kind from the schema; STRINGS otherwise.
    Attribute first = array.empty() ? Attribute() : array[0];
    if (isa_and_nonnull<ElementsAttr>(first) ||
        (!first && kind == AttrKind::Tensors)) {
      out.set_type(A::TENSORS);
      for (Attribute t : array)
        if (llvm::Error err = exportTensor(cast<ElementsAttr>(t),
                                           *out.add_tensors(), nullptr))
          return err;
    } else if (isa_and_nonnull<TypeAttr>(first) ||
               (!first && kind == AttrKind::Types)) {
      out.set_type(A::TYPE_PROTOS);
      for (Attribute t : array)
        if (llvm::Error err =
                fillType(cast<TypeAttr>(t).getValue(), nullptr, *out.add_type_protos()))
          return err;
    } else if (isa_and_nonnull<SerializedProtoAttr>(first) ||
               (!first && kind == AttrKind::SparseTensors)) {
      out.set_type(A::SPARSE_TENSORS);
      for (Attribute t : array)
        out.add_sparse_tensors()->ParseFromString(
            cast<SerializedProtoAttr>(t).getBytes().str());
    } else {
      out.set_type(A::STRINGS);
      for (Attribute s : array) {
        auto str = dyn_cast<StringAttr>(s);
        if (!str)
          return error("attribute '" + name + "' mixes kinds of values");
        out.add_strings(str.str());
      }
    }
  } else {
    return error("attribute '" + name + "' has no ONNX equivalent");
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Graphs and nodes
//===----------------------------------------------------------------------===//

llvm::Error Exporter::exportInitializer(InitializerOp op,
                                        onnx::GraphProto &graph, bool isMain) {
  onnx::TensorProto &tensor = *graph.add_initializer();
  // An initializer may share its name with a graph input, whose default
  // value it then is (IR version < 4).
  bool isInputDefault = llvm::any_of(graph.input(), [&](const auto &input) {
    return input.name() == op.getName();
  });
  std::string name = isInputDefault ? op.getName().str() : claim(op.getName());
  names[op.getResult()] = name;
  tensor.set_name(name);
  DeferredData *defer = nullptr;
  if (isMain && deferMainData) {
    deferred.resize(graph.initializer_size());
    defer = &deferred.back();
  }
  if (llvm::Error err = exportTensor(op.getValue(), tensor, defer))
    return error("initializer '" + op.getName() + "': " +
                 llvm::toString(std::move(err)));
  return llvm::Error::success();
}

llvm::Error Exporter::exportSubgraph(Region &region, DictionaryAttr info,
                                     onnx::GraphProto &graph) {
  if (auto name = info ? info.getAs<StringAttr>("name") : nullptr)
    graph.set_name(name.str());
  if (auto doc = info ? info.getAs<StringAttr>("doc_string") : nullptr)
    graph.set_doc_string(doc.str());
  ArrayAttr inputNames = info ? info.getAs<ArrayAttr>("inputs") : nullptr;
  ArrayAttr inputDims = info ? info.getAs<ArrayAttr>("input_dim_params") : nullptr;
  ArrayAttr outputDims = info ? info.getAs<ArrayAttr>("output_dim_params") : nullptr;
  auto dimsAt = [](ArrayAttr all, size_t i) -> ArrayAttr {
    return all && i < all.size() ? dyn_cast<ArrayAttr>(all[i]) : nullptr;
  };
  usedFrames.emplace_back();
  llvm::scope_exit popFrame([&] { usedFrames.pop_back(); });
  Block &block = region.front();
  for (BlockArgument arg : block.getArguments()) {
    std::string wanted;
    if (inputNames && arg.getArgNumber() < inputNames.size())
      wanted = cast<StringAttr>(inputNames[arg.getArgNumber()]).str();
    else
      wanted = nodeName(arg.getLoc());
    names[arg] = claim(wanted);
    auto *input = graph.add_input();
    input->set_name(names[arg]);
    if (llvm::Error err = fillType(arg.getType(), dimsAt(inputDims, arg.getArgNumber()),
                                   *input->mutable_type()))
      return err;
  }
  if (llvm::Error err = exportBlock(block, graph, /*isMain=*/false))
    return err;
  for (auto [i, output] : llvm::enumerate(block.getTerminator()->getOperands())) {
    auto *info = graph.add_output();
    info->set_name(nameOf(output));
    if (llvm::Error err = fillType(output.getType(), dimsAt(outputDims, i),
                                   *info->mutable_type()))
      return err;
  }
  return llvm::Error::success();
}

llvm::Error Exporter::exportNode(Operation *op, onnx::GraphProto &graph) {
  onnx::NodeProto &node = *graph.add_node();
  if (std::string name = nodeName(op->getLoc()); !name.empty()) {
    int &seen = nodeNames[name];
    node.set_name(seen++ ? name + "__" + std::to_string(seen - 1) : name);
  }
  const OpSchema *schema = nullptr;
  DictionaryAttr attributes;
  SmallVector<std::string> graphNames;
  if (auto custom = dyn_cast<CustomOp>(op)) {
    node.set_op_type(custom.getOpType().str());
    node.set_domain(custom.getDomain().str());
    attributes = custom.getAttrs();
    for (Attribute name : custom.getGraphAttrs())
      graphNames.push_back(cast<StringAttr>(name).str());
  } else {
    schema = lookupSchemaByOpName(op->getName().getStringRef());
    if (!schema)
      return error("cannot export " + describe(op) +
                   " to ONNX: it is not an ONNX operator");
    node.set_op_type(schema->opType);
    attributes = op->getAttrDictionary();
    for (const char *name : schema->graphAttributes)
      graphNames.push_back(name);
  }

  for (Value operand : op->getOperands())
    node.add_input(nameOf(operand));
  while (node.input_size() && node.input(node.input_size() - 1).empty())
    node.mutable_input()->RemoveLast();
  for (Value result : op->getResults())
    node.add_output(nameOf(result));
  while (node.output_size() && node.output(node.output_size() - 1).empty())
    node.mutable_output()->RemoveLast();

  for (NamedAttribute attribute : attributes) {
    StringRef name = attribute.getName().getValue();
    // onnx.* attributes carry names and docs; pith.* ones are Pith's own
    // annotations (training phases, recompute marks) with no ONNX meaning.
    if (name.starts_with("onnx.") || name.starts_with("pith."))
      continue;
    std::optional<AttrKind> kind;
    if (schema)
      if (const AttrSpec *spec = schema->findAttribute(name))
        kind = spec->kind;
    if (llvm::Error err = exportAttribute(name, attribute.getValue(), kind,
                                          *node.add_attribute()))
      return error(describe(op) + ": " + llvm::toString(std::move(err)));
  }
  if (auto doc = op->getAttrOfType<StringAttr>("onnx.doc_string"))
    node.set_doc_string(doc.str());

  auto infos = op->getAttrOfType<ArrayAttr>("onnx.subgraphs");
  for (auto [i, region] : llvm::enumerate(op->getRegions())) {
    if (region.empty())
      continue;
    if (i >= graphNames.size())
      return error(describe(op) + ": region " + llvm::Twine(i) + " has no name");
    auto *attribute = node.add_attribute();
    attribute->set_name(graphNames[i]);
    attribute->set_type(onnx::AttributeProto::GRAPH);
    DictionaryAttr info =
        infos && i < infos.size() ? dyn_cast<DictionaryAttr>(infos[i]) : nullptr;
    if (llvm::Error err = exportSubgraph(region, info, *attribute->mutable_g()))
      return err;
    // ONNX requires every graph to have a name; IR written by hand or by a
    // pass may not carry one.
    if (attribute->g().name().empty())
      attribute->mutable_g()->set_name(
          (node.name().empty() ? node.op_type() : node.name()) + "_" + graphNames[i]);
  }
  return llvm::Error::success();
}

llvm::Error Exporter::exportBlock(Block &block, onnx::GraphProto &graph,
                                  bool isMain) {
  for (Operation &op : block) {
    if (op.hasTrait<OpTrait::IsTerminator>() || isa<NoneOp>(op))
      continue;
    if (auto init = dyn_cast<InitializerOp>(op)) {
      if (llvm::Error err = exportInitializer(init, graph, isMain))
        return err;
      continue;
    }
    if (op.getDialect() && !isa<ONNXDialect>(op.getDialect()))
      return error("cannot export " + describe(&op) +
                   " to ONNX: only onnx-dialect ops can be exported");
    if (llvm::Error err = exportNode(&op, graph))
      return err;
  }
  return llvm::Error::success();
}

llvm::Error Exporter::exportMainGraph(func::FuncOp func, onnx::GraphProto &graph) {
  graph.set_name(func.getSymName().str());
  if (auto doc = func->getAttrOfType<StringAttr>("onnx.doc_string"))
    graph.set_doc_string(doc.str());
  Block &body = func.getBody().front();
  auto returnOp = cast<func::ReturnOp>(body.getTerminator());

  for (BlockArgument arg : body.getArguments()) {
    auto wanted = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), attrs::kName);
    names[arg] = claim(wanted ? wanted.getValue()
                              : "input_" + std::to_string(arg.getArgNumber()));
    auto *input = graph.add_input();
    input->set_name(names[arg]);
    auto params = func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), attrs::kDimParams);
    if (llvm::Error err = fillType(arg.getType(), params, *input->mutable_type()))
      return error("graph input '" + names[arg] + "': " + llvm::toString(std::move(err)));
  }
  // Values that are graph outputs take the output's name, unless another
  // output already did (then an Identity node makes the second name).
  SmallVector<std::string> outputWanted;
  for (auto [i, value] : llvm::enumerate(returnOp.getOperands())) {
    auto wanted = func.getResultAttrOfType<StringAttr>(i, attrs::kName);
    outputWanted.push_back(wanted ? wanted.str() : "output_" + std::to_string(i));
    if (isa<OpResult>(value) && !outputNames.count(value) &&
        !isa<InitializerOp>(value.getDefiningOp()))
      outputNames[value] = outputWanted.back();
  }
  if (llvm::Error err = exportBlock(body, graph, /*isMain=*/true))
    return err;

  for (auto [i, value] : llvm::enumerate(returnOp.getOperands())) {
    std::string name = nameOf(value);
    if (name != outputWanted[i]) {
      auto *identity = graph.add_node();
      identity->set_op_type("Identity");
      identity->add_input(name);
      name = claim(outputWanted[i]);
      identity->add_output(name);
    }
    auto *output = graph.add_output();
    output->set_name(name);
    auto params = func.getResultAttrOfType<ArrayAttr>(i, attrs::kDimParams);
    if (llvm::Error err = fillType(value.getType(), params, *output->mutable_type()))
      return error("graph output '" + name + "': " + llvm::toString(std::move(err)));
  }

  if (auto valueInfo = func->getAttrOfType<DictionaryAttr>("onnx.value_info")) {
    llvm::StringMap<Value> byName;
    for (auto &[value, name] : names)
      byName[name] = value;
    for (NamedAttribute entry : valueInfo) {
      Value value = byName.lookup(entry.getName().getValue());
      if (!value)
        continue;
      auto *info = graph.add_value_info();
      info->set_name(entry.getName().str());
      if (llvm::Error err = fillType(value.getType(),
                                     dyn_cast<ArrayAttr>(entry.getValue()),
                                     *info->mutable_type()))
        return err;
    }
  }
  return llvm::Error::success();
}

llvm::Error Exporter::exportHeader(onnx::ModelProto &model) {
  auto opsets = module->getAttrOfType<DictionaryAttr>(attrs::kOpsetImport);
  if (!opsets)
    return error("the module has no '" + attrs::kOpsetImport +
                 "' attribute; it does not hold an ONNX model");
  for (NamedAttribute entry : opsets) {
    auto *opset = model.add_opset_import();
    StringRef domain = entry.getName().getValue();
    opset->set_domain(domain == kDefaultDomain ? "" : domain.str());
    opset->set_version(cast<IntegerAttr>(entry.getValue()).getInt());
  }
  auto irVersion = module->getAttrOfType<IntegerAttr>(attrs::kIrVersion);
  model.set_ir_version(irVersion ? irVersion.getInt() : 8);
  // Fields the model did not have stay unset, not set to "".
  auto copyString = [&](const char *name, auto setter) {
    if (auto attr = module->getAttrOfType<StringAttr>(name))
      (model.*setter)(attr.str());
  };
  using M = onnx::ModelProto;
  copyString("onnx.producer_name", static_cast<void (M::*)(const std::string &)>(&M::set_producer_name));
  copyString("onnx.producer_version", static_cast<void (M::*)(const std::string &)>(&M::set_producer_version));
  copyString("onnx.domain", static_cast<void (M::*)(const std::string &)>(&M::set_domain));
  copyString("onnx.doc_string", static_cast<void (M::*)(const std::string &)>(&M::set_doc_string));
  if (auto version = module->getAttrOfType<IntegerAttr>("onnx.model_version"))
    model.set_model_version(version.getInt());
  if (auto props = module->getAttrOfType<ArrayAttr>("onnx.metadata_props"))
    for (Attribute pair : props) {
      auto entry = cast<ArrayAttr>(pair);
      auto *prop = model.add_metadata_props();
      prop->set_key(cast<StringAttr>(entry[0]).str());
      prop->set_value(cast<StringAttr>(entry[1]).str());
    }
  if (auto functions = module->getAttrOfType<ArrayAttr>("onnx.functions"))
    for (Attribute function : functions)
      model.add_functions()->ParseFromString(
          cast<SerializedProtoAttr>(function).getBytes().str());
  if (auto training = module->getAttrOfType<ArrayAttr>("onnx.training_info"))
    for (Attribute info : training)
      model.add_training_info()->ParseFromString(
          cast<SerializedProtoAttr>(info).getBytes().str());
  return llvm::Error::success();
}

llvm::Error Exporter::exportModel(onnx::ModelProto &model, bool deferData) {
  deferMainData = deferData;
  if (llvm::Error err = exportHeader(model))
    return err;
  auto funcs = llvm::to_vector(module.getOps<func::FuncOp>());
  if (funcs.size() != 1)
    return error("expected exactly one graph function in the module, found " +
                 llvm::Twine(funcs.size()));
  return exportMainGraph(funcs.front(), *model.mutable_graph());
}

//===----------------------------------------------------------------------===//
// Serialization
//===----------------------------------------------------------------------===//

namespace {
using google::protobuf::io::CodedOutputStream;

constexpr uint8_t kModelGraphTag = (7 << 3) | 2;        // ModelProto.graph
constexpr uint8_t kGraphInitializerTag = (5 << 3) | 2;  // GraphProto.initializer
constexpr uint8_t kTensorRawDataTag = (9 << 3) | 2;     // TensorProto.raw_data

void writeVarint(llvm::raw_ostream &os, uint64_t value) {
  while (value >= 0x80) {
    os << static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  os << static_cast<char>(value);
}

/// Writes `model`, whose main-graph initializers lack the raw_data listed in
/// `deferred`, as one valid ModelProto: protobuf merges the fields of a
/// message in any order, so the graph is written head first, then each
/// initializer with its bytes appended from the blob.
void writeModel(llvm::raw_ostream &os, onnx::ModelProto &model,
                const std::vector<DeferredData> &deferred) {
  std::unique_ptr<onnx::GraphProto> graph(model.release_graph());
  google::protobuf::RepeatedPtrField<onnx::TensorProto> initializers;
  initializers.Swap(graph->mutable_initializer());

  std::vector<std::string> heads;
  std::vector<uint64_t> sizes;
  uint64_t graphSize = graph->ByteSizeLong();
  for (int i = 0; i < initializers.size(); ++i) {
    heads.push_back(initializers.Get(i).SerializeAsString());
    uint64_t size = heads.back().size();
    if (i < static_cast<int>(deferred.size()) && deferred[i].deferred) {
      uint64_t n = deferred[i].bytes.size();
      size += 1 + CodedOutputStream::VarintSize64(n) + n;
    }
    sizes.push_back(size);
    graphSize += 1 + CodedOutputStream::VarintSize64(size) + size;
  }
  os << model.SerializeAsString();
  os << static_cast<char>(kModelGraphTag);
  writeVarint(os, graphSize);
  os << graph->SerializeAsString();
  for (size_t i = 0; i < heads.size(); ++i) {
    os << static_cast<char>(kGraphInitializerTag);
    writeVarint(os, sizes[i]);
    os << heads[i];
    if (i < deferred.size() && deferred[i].deferred) {
      os << static_cast<char>(kTensorRawDataTag);
      writeVarint(os, deferred[i].bytes.size());
      os.write(deferred[i].bytes.data(), deferred[i].bytes.size());
    }
  }
}

/// Moves deferred initializers of at least `threshold` bytes into an
/// external-data file and points their TensorProtos at it.
void writeExternalData(onnx::ModelProto &model,
                       std::vector<DeferredData> &deferred, llvm::raw_ostream &os,
                       StringRef location, int64_t threshold) {
  uint64_t offset = 0;
  for (size_t i = 0; i < deferred.size(); ++i) {
    DeferredData &data = deferred[i];
    if (!data.deferred || static_cast<int64_t>(data.bytes.size()) < threshold)
      continue;
    // Align each tensor so that readers can map it directly.
    uint64_t padding = (64 - offset % 64) % 64;
    os.write_zeros(padding);
    offset += padding;
    os.write(data.bytes.data(), data.bytes.size());
    auto *tensor = model.mutable_graph()->mutable_initializer(i);
    tensor->set_data_location(onnx::TensorProto::EXTERNAL);
    auto add = [&](const char *key, const std::string &value) {
      auto *entry = tensor->add_external_data();
      entry->set_key(key);
      entry->set_value(value);
    };
    add("location", location.str());
    add("offset", std::to_string(offset));
    add("length", std::to_string(data.bytes.size()));
    offset += data.bytes.size();
    data.deferred = false;
  }
}

/// Moves the main graph's float initializers with fewer than a third of
/// their elements nonzero into sparse_initializer (values + int64 linear
/// indices: 12 bytes a nonzero against 4 an element). Initializers whose
/// data stays deferred are read from `deferred`; both lists stay aligned.
void sparsifyInitializers(onnx::ModelProto &model, std::vector<DeferredData> &deferred) {
  onnx::GraphProto &graph = *model.mutable_graph();
  google::protobuf::RepeatedPtrField<onnx::TensorProto> kept;
  std::vector<DeferredData> keptData;
  for (int i = 0; i < graph.initializer_size(); ++i) {
    onnx::TensorProto &tensor = *graph.mutable_initializer(i);
    DeferredData data = i < static_cast<int>(deferred.size()) ? deferred[i] : DeferredData();
    ArrayRef<char> bytes = data.deferred ? data.bytes
                                         : ArrayRef<char>(tensor.raw_data().data(),
                                                          tensor.raw_data().size());
    int64_t count = static_cast<int64_t>(bytes.size() / sizeof(float)), nonzeros = 0;
    bool candidate = tensor.data_type() == onnx::TensorProto::FLOAT &&
                     tensor.data_location() != onnx::TensorProto::EXTERNAL && count > 0;
    if (candidate)
      for (int64_t e = 0; e < count; ++e) {
        float v;
        std::memcpy(&v, bytes.data() + e * sizeof(float), sizeof(float));
        nonzeros += v != 0.0f;
      }
    if (!candidate || 3 * nonzeros >= count) {
      *kept.Add() = std::move(tensor);
      keptData.push_back(data);
      continue;
    }
    onnx::SparseTensorProto &sparse = *graph.add_sparse_initializer();
    for (int64_t d : tensor.dims())
      sparse.add_dims(d);
    std::string values, indices;
    values.reserve(nonzeros * sizeof(float));
    indices.reserve(nonzeros * sizeof(int64_t));
    for (int64_t e = 0; e < count; ++e) {
      float v;
      std::memcpy(&v, bytes.data() + e * sizeof(float), sizeof(float));
      if (v == 0.0f)
        continue;
      values.append(reinterpret_cast<const char *>(&v), sizeof(float));
      indices.append(reinterpret_cast<const char *>(&e), sizeof(int64_t));
    }
    onnx::TensorProto &valueTensor = *sparse.mutable_values();
    valueTensor.set_name(tensor.name());
    valueTensor.set_data_type(onnx::TensorProto::FLOAT);
    valueTensor.add_dims(nonzeros);
    valueTensor.set_raw_data(std::move(values));
    onnx::TensorProto &indexTensor = *sparse.mutable_indices();
    indexTensor.set_data_type(onnx::TensorProto::INT64);
    indexTensor.add_dims(nonzeros);
    indexTensor.set_raw_data(std::move(indices));
  }
  graph.mutable_initializer()->Swap(&kept);
  deferred = std::move(keptData);
}

} // namespace

/// `module` in standard ONNX: itself, or an expanded copy when it holds pith
/// ops (the caller's module stays as it was).
static llvm::Expected<OwningOpRef<ModuleOp>> standardONNX(ModuleOp module) {
  OwningOpRef<ModuleOp> copy;
  if (!pith::containsPithIR(module))
    return copy;
  copy = module.clone();
  if (failed(pith::expandToONNX(*copy)))
    return error("cannot rewrite the pith ops as ONNX");
  return copy;
}

llvm::Error pith::exportONNXFile(ModuleOp original, StringRef path,
                                 const ExportOptions &options) {
  auto expanded = standardONNX(original);
  if (!expanded)
    return error(path + ": " + llvm::toString(expanded.takeError()));
  ModuleOp module = *expanded ? **expanded : original;
  Exporter exporter(module);
  onnx::ModelProto model;
  bool deferData = !options.textFormat;
  if (llvm::Error err = exporter.exportModel(model, deferData))
    return error(path + ": " + llvm::toString(std::move(err)));

  if (options.sparseInitializers)
    sparsifyInitializers(model, exporter.deferred);

  // llvm::writeToOutput writes a temporary file and renames it into place:
  // a failed export leaves no partial file and an existing one untouched.
  if (options.textFormat) {
    std::string problem;
    std::string text = proto::printTextModel(model, problem);
    if (!problem.empty())
      return error(path + ": " + problem);
    return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
      os << text;
      return llvm::Error::success();
    });
  }

  uint64_t dataBytes = 0;
  for (const DeferredData &data : exporter.deferred)
    dataBytes += data.bytes.size();
  std::string externalFile = options.externalDataFile;
  if (externalFile.empty() && dataBytes > kInlineModelLimit)
    externalFile = llvm::sys::path::filename(path).str() + ".data";
  if (!externalFile.empty()) {
    if (path == "-")
      return error("external data needs an output file, not stdout");
    if (llvm::sys::path::has_parent_path(externalFile))
      return error(path + ": external data file '" + externalFile +
                   "' must be a plain file name, stored next to the model");
    llvm::SmallString<256> dataPath(path);
    llvm::sys::path::remove_filename(dataPath);
    llvm::sys::path::append(dataPath, externalFile);
    if (llvm::Error err =
            llvm::writeToOutput(dataPath, [&](llvm::raw_ostream &os) {
              writeExternalData(model, exporter.deferred, os, externalFile,
                                options.externalDataThreshold);
              return llvm::Error::success();
            }))
      return err;
  }
  return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    writeModel(os, model, exporter.deferred);
    return llvm::Error::success();
  });
}

llvm::Expected<std::string> pith::exportONNXBytes(ModuleOp original) {
  auto expanded = standardONNX(original);
  if (!expanded)
    return expanded.takeError();
  ModuleOp module = *expanded ? **expanded : original;
  Exporter exporter(module);
  onnx::ModelProto model;
  if (llvm::Error err = exporter.exportModel(model, /*deferMainData=*/true))
    return std::move(err);
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  writeModel(os, model, exporter.deferred);
  return bytes;
}
