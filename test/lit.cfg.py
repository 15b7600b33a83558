# Lit configuration for Pith's FileCheck suites (test/Dialect, test/Import,
# test/Export, ...). Tools come from build/bin; FileCheck and not from LLVM 22.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "Pith"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "unit", "python", "conformance"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.pith_obj_root, "test")
config.environment["FILECHECK_OPTS"] = "-enable-var-scope --allow-unused-prefixes=false"

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.pith_tools_dir, append_path=True)
# use_default_substitutions() already maps %python to lit's own interpreter,
# which lacks onnx; tests need the project's venv.
config.substitutions = [(k, v) for k, v in config.substitutions if k != "%python"]
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
llvm_config.add_tool_substitutions(["pith-opt", "pith-translate", "pith",
                                    "pith-run-c-example", "pith-optimize-c-example",
                                    "pith-run-compiled"],
                                   [config.pith_tools_dir])

# The GPU target's tests need the CUDA toolkit Pith was built with (ptxas,
# libdevice); without it they are reported unsupported.
if config.pith_enable_cuda:
    config.available_features.add("cuda")
