#!/usr/bin/env python3
"""Generates the ONNX dialect's operator definitions from ONNX's schema registry.

Writes two committed files (regenerate them when the pinned onnx package in
scripts/requirements.txt changes):

  dialects/ONNX/ONNXSchemaOps.td   one ODS op per distinct operator signature
  dialects/ONNX/ONNXSchema.inc     the table the importer and exporter use to map
                                   (op type, opset version) <-> MLIR op

Every version of an ai.onnx operator whose formal inputs, outputs or attributes
differ from the previous one gets its own op: the newest signature takes the
plain ONNX name (`onnx.Split`), older ones are suffixed with the opset version
that introduced them (`onnx.SplitV13`, `onnx.SplitV2`). Versions that only widen
type constraints share an op. Operands and results are untyped (`AnyType`):
ONNX values are tensors, sequences, optionals or absent (`none`), and the opset
recorded on the module says which exact version's semantics apply.

Usage: scripts/gen_onnx_dialect.py [--check]
"""
import argparse
import collections
import os
import sys

import onnx
import onnx.defs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TD_PATH = os.path.join(ROOT, "dialects", "ONNX", "ONNXSchemaOps.td")
INC_PATH = os.path.join(ROOT, "dialects", "ONNX", "ONNXSchema.inc")

# ONNX attribute type -> (ODS attribute constraint, schema-table kind).
ATTR_KINDS = {
    "FLOAT": ("F32Attr", "Float"),
    "INT": ("I64Attr", "Int"),
    "STRING": ("StrAttr", "String"),
    "TENSOR": ("ElementsAttr", "Tensor"),
    "SPARSE_TENSOR": ("ONNX_SerializedProtoAttr", "SparseTensor"),
    "TYPE_PROTO": ("TypeAttr", "Type"),
    "FLOATS": ("DenseF32ArrayAttr", "Floats"),
    "INTS": ("DenseI64ArrayAttr", "Ints"),
    "STRINGS": ("StrArrayAttr", "Strings"),
    "TENSORS": ("ONNX_TensorArrayAttr", "Tensors"),
    "SPARSE_TENSORS": ("ArrayAttr", "SparseTensors"),
    "TYPE_PROTOS": ("TypeArrayAttr", "Types"),
}

# Operators whose result depends on more than their operands (random draws):
# they must not be folded, CSE'd or erased when unused.
NOT_PURE = {
    "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
    "Multinomial", "Bernoulli", "Dropout",
}

OPTION = {
    onnx.defs.OpSchema.FormalParameterOption.Single: "Single",
    onnx.defs.OpSchema.FormalParameterOption.Optional: "Optional",
    onnx.defs.OpSchema.FormalParameterOption.Variadic: "Variadic",
}


def signature(schema):
    """What makes two versions of an operator need different ops."""
    return (
        tuple((p.name, OPTION[p.option]) for p in schema.inputs),
        tuple((p.name, OPTION[p.option]) for p in schema.outputs),
        tuple(sorted((a.name, a.type.name, a.required)
                     for a in schema.attributes.values())),
    )


def group_versions():
    """op type -> list of (op name, [schemas]) ordered oldest first."""
    by_type = collections.defaultdict(list)
    for s in onnx.defs.get_all_schemas_with_history():
        if s.domain in ("", "ai.onnx"):
            by_type[s.name].append(s)
    groups = {}
    for op_type, schemas in sorted(by_type.items()):
        schemas.sort(key=lambda s: s.since_version)
        runs = []
        for s in schemas:
            if runs and signature(runs[-1][-1]) == signature(s):
                runs[-1].append(s)
            else:
                runs.append([s])
        named = []
        for i, run in enumerate(runs):
            latest = i == len(runs) - 1
            name = op_type if latest else f"{op_type}V{run[0].since_version}"
            named.append((name, run))
        groups[op_type] = named
    return groups


def unique_names(schema):
    """ODS names for inputs, outputs, attributes and regions, made unique."""
    taken = set()

    def claim(name, suffix):
        # Old schemas name variadics like "outputs..."; ODS needs identifiers.
        name = "".join(c for c in name if c.isalnum() or c == "_")
        while name in taken:
            name += suffix
        taken.add(name)
        return name

    attrs, regions = [], []
    for a in sorted(schema.attributes.values(), key=lambda a: a.name):
        if a.type.name == "GRAPH":
            regions.append((claim(a.name, "_graph"), a))
        else:
            attrs.append((claim(a.name, "_attr"), a))
    inputs = [(claim(p.name, "_in"), p) for p in schema.inputs]
    outputs = [(claim(p.name, "_out"), p) for p in schema.outputs]
    return inputs, outputs, attrs, regions


def td_escape(text):
    return text.replace("}]", "} ]").strip()


def op_def(name, run, latest_doc):
    schema = run[-1]
    inputs, outputs, attrs, regions = unique_names(schema)
    versions = ", ".join(str(s.since_version) for s in run)
    traits = []
    if regions:
        traits.append("RecursiveMemoryEffects")
    elif schema.name not in NOT_PURE:
        traits.append("Pure")
    args = []
    for n, p in inputs:
        args.append(f"Variadic<AnyType>:${n}" if OPTION[p.option] == "Variadic"
                    else f"AnyType:${n}")
    for n, a in attrs:
        ods = ATTR_KINDS[a.type.name][0]
        args.append(f"{ods}:${n}" if a.required else f"OptionalAttr<{ods}>:${n}")
    results = [f"Variadic<AnyType>:${n}" if OPTION[p.option] == "Variadic"
               else f"AnyType:${n}" for n, p in outputs]
    lines = [f'def ONNX_{name}Op : ONNX_SchemaOp<"{name}", "{schema.name}", '
             f'[{", ".join(str(s.since_version) for s in run)}], [{", ".join(traits)}]> {{']
    lines.append(f'  let summary = "ONNX {schema.name} (opset versions {versions})";')
    if latest_doc:
        lines.append(f"  let description = [{{\n{td_escape(schema.doc or '')}\n  }}];")
    else:
        lines.append(f"  let description = [{{\nThe signature of ONNX {schema.name} used by "
                     f"opset versions {versions}. See `onnx.{schema.name}` for the "
                     f"newest form.\n  }}];")
    lines.append("  let arguments = (ins" + ("\n    " + ",\n    ".join(args) if args else "") + ");")
    lines.append("  let results = (outs" + ("\n    " + ",\n    ".join(results) if results else "") + ");")
    if regions:
        regs = [f"SizedRegion<1>:${n}" if a.required else f"AnyRegion:${n}" for n, a in regions]
        lines.append("  let regions = (region " + ", ".join(regs) + ");")
    lines.append("}")
    return "\n".join(lines)


def schema_entry(name, run, schema):
    inputs, outputs, attrs, regions = unique_names(schema)
    fmt = lambda ps: "{" + ", ".join(f'{{"{p.name}", FormalKind::{OPTION[p.option]}}}' for _, p in ps) + "}"
    attr_list = "{" + ", ".join(
        f'{{"{a.name}", AttrKind::{ATTR_KINDS[a.type.name][1]}, {str(a.required).lower()}}}'
        for _, a in attrs) + "}"
    region_list = "{" + ", ".join(f'"{a.name}"' for _, a in regions) + "}"
    return (f'  {{"{schema.name}", {schema.since_version}, "onnx.{name}", '
            f'{fmt(inputs)}, {fmt(outputs)}, {attr_list}, {region_list}}},')


def generate():
    groups = group_versions()
    header = ("// Generated by scripts/gen_onnx_dialect.py from onnx "
              f"{onnx.__version__} (ai.onnx opset {onnx.defs.onnx_opset_version()}). "
              "Do not edit.\n")
    td = [header, "#ifndef PITH_ONNX_SCHEMA_OPS_TD", "#define PITH_ONNX_SCHEMA_OPS_TD", ""]
    inc = [header,
           f"PITH_ONNX_MAX_OPSET({onnx.defs.onnx_opset_version()})",
           f"PITH_ONNX_MAX_DATA_TYPE({max(onnx.TensorProto.DataType.values())})",
           "PITH_ONNX_SCHEMA_BEGIN"]
    for op_type, named in groups.items():
        for i, (name, run) in enumerate(named):
            td.append(op_def(name, run, latest_doc=(i == len(named) - 1)))
            td.append("")
            for s in run:
                inc.append(schema_entry(name, run, s))
    td.append("#endif // PITH_ONNX_SCHEMA_OPS_TD")
    inc.append("PITH_ONNX_SCHEMA_END")
    n_ops = sum(len(v) for v in groups.values())
    return "\n".join(td) + "\n", "\n".join(inc) + "\n", len(groups), n_ops


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="fail if the committed files differ from what would be generated")
    args = ap.parse_args()
    td, inc, n_types, n_ops = generate()
    if args.check:
        stale = [p for p, text in ((TD_PATH, td), (INC_PATH, inc))
                 if not os.path.exists(p) or open(p).read() != text]
        if stale:
            print("stale generated files: " + ", ".join(stale), file=sys.stderr)
            return 1
        return 0
    for path, text in ((TD_PATH, td), (INC_PATH, inc)):
        with open(path, "w") as f:
            f.write(text)
    print(f"{n_types} operator types, {n_ops} ops -> {TD_PATH}, {INC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
