// The model: Inputs/repeated_blocks.py, N blocks of attention (wq, wk, wv,
// wo) and a feed-forward pair (w1 with bias b1, w2).

// Exact copies: everything ties within a zero budget, outputs are
// bit-identical, each weight is stored once instead of 4 times.
// RUN: %python %S/Inputs/repeated_blocks.py --blocks 4 --weights same --calibration %t.npz > %t.same.mlir
// RUN: pith-opt %t.same.mlir --pith-tie-layers="groups=all max-rel-error=0 calibration=%t.npz" > %t.tied.mlir
// RUN: FileCheck %s --check-prefix=EXACT < %t.tied.mlir
// RUN: pith-translate --export-onnx %t.same.mlir -o %t.same.onnx
// RUN: pith-translate --export-onnx %t.tied.mlir -o %t.tied.onnx
// RUN: %python %S/Inputs/initializers.py %t.same.onnx | FileCheck %s --check-prefix=UNTIED-STORED
// RUN: %python %S/Inputs/initializers.py %t.tied.onnx | FileCheck %s --check-prefix=TIED-STORED
// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.load('%t.npz')['x'])"
// RUN: pith run %t.same.onnx --input x=%t.x.npy --output-dir %t.same.out
// RUN: pith run %t.tied.onnx --input x=%t.x.npy --output-dir %t.tied.out
// RUN: %python -c "import numpy as np; a, b = (np.load(d + '/y.npy') for d in ('%t.same.out', '%t.tied.out')); print('bit-identical' if a.tobytes() == b.tobytes() else 'DIFFERENT')" | FileCheck %s --check-prefix=SAME
// EXACT: "4 repeated blocks of 14 ops; groups (all): {0,1,2,3}"
// EXACT: "tied 6 of 6 candidates: 408 parameters (1.6 kB) saved; output error 0.000e+00"
// EXACT-COUNT-4: pith.use @tied.block0.w2
// EXACT-DAG: pith.parameter @tied.block0.wq : tensor<4x4xf32> = {{.*}} sources ["block0.wq", "block1.wq", "block2.wq", "block3.wq"]
// EXACT-DAG: pith.parameter @tied.block0.b1 : tensor<8xf32> = {{.*}} sources ["block0.b1", "block1.b1", "block2.b1", "block3.b1"]
// UNTIED-STORED: 28 initializers
// TIED-STORED: 7 initializers
// SAME: bit-identical

// Which weights, and how blocks group.
// RUN: %python %S/Inputs/repeated_blocks.py --blocks 4 > %t.different.mlir
// RUN: pith-opt %t.different.mlir --pith-tie-layers="weights=attention unbudgeted=true" | FileCheck %s --check-prefix=ATTENTION
// ATTENTION: "4 repeated blocks of 14 ops; groups (adjacent): {0,1} {2,3}"
// ATTENTION-SAME: "no error budget (unbudgeted=true): every candidate tied by its mean without measuring; fine-tune the model afterwards"
// ATTENTION-NOT: ffn
// ATTENTION: "tied 8 of 8 candidates: 128 parameters (512 B) saved, output error not measured"
// RUN: pith-opt %t.different.mlir --pith-tie-layers="weights=ffn groups=cycle unbudgeted=true" | FileCheck %s --check-prefix=CYCLE
// CYCLE: groups (cycle): {0,2} {1,3}
// CYCLE-NOT: tied attention
// CYCLE: "tied ffn 'block{{[01]}}.w{{[12]}}'
// CYCLE: pith.parameter @tied.block0.w1 : tensor<4x8xf32> = {{.*}} sources ["block0.w1", "block2.w1"]

// A budget that forbids every tie: nothing changes.
// RUN: pith-opt %t.different.mlir --pith-tie-layers="groups=all max-rel-error=1e-7 calibration=%t.npz" | FileCheck %s --check-prefix=FORBIDDEN
// FORBIDDEN: budget: relative output error <= 1.000000e-07 on 2 calibration samples; shared value: mean
// FORBIDDEN-COUNT-6: "not tied {{[^"]*}}: error would be
// FORBIDDEN: tied 0 of 6 candidates: 0 parameters (0 B) saved; output error 0.000e+00
// FORBIDDEN-NOT: @tied.
// A loose one, through pith optimize: the error measured stays within it.
// RUN: pith-translate --export-onnx %t.different.mlir -o %t.different.onnx
// RUN: pith optimize %t.different.onnx -o %t.loose.onnx --pipeline "pith-tie-layers{groups=all max-rel-error=0.05 shared=member}" --calibration %t.npz --report-json %t.report.json | FileCheck %s --check-prefix=LOOSE
// RUN: %python -c "import json; r = json.load(open('%t.report.json'))['passes'][0]; print('ties', r['ties'], 'within budget' if 0 < r['error'] <= r['budget'] == 0.05 else 'OVER BUDGET')" | FileCheck %s --check-prefix=LOOSE-JSON
// LOOSE: pith-tie-layers:
// LOOSE-NEXT: 4 repeated blocks of 14 ops; groups (all): {0,1,2,3}
// LOOSE-NEXT: budget: relative output error <= 5.000000e-02 on 2 calibration samples; shared value: member
// LOOSE: tied {{[1-6]}} of 6 candidates
// LOOSE-JSON: ties {{[1-6]}} within budget

// Cases that must not tie.
// RUN: %python %S/Inputs/repeated_blocks.py --blocks 2 --variant shape | pith-opt --pith-tie-layers=unbudgeted=true | FileCheck %s --check-prefix=NONE
// RUN: %python %S/Inputs/repeated_blocks.py --blocks 2 --variant structure | pith-opt --pith-tie-layers=unbudgeted=true | FileCheck %s --check-prefix=NONE
// NONE: lines = ["no repeated blocks found: nothing tied"]
// NONE-NOT: @tied.
// RUN: %python %S/Inputs/repeated_blocks.py --blocks 2 --variant shared | pith-opt --pith-tie-layers=unbudgeted=true | FileCheck %s --check-prefix=SHARED
// SHARED: "not tied: 'block0.w1' in {0,1}: also used outside its block"
// SHARED: "tied 5 of 5 candidates
// SHARED-NOT: @tied.block0.w1

// Bad options.
// RUN: not pith-opt %t.different.mlir --pith-tie-layers="weights=mlp" 2>&1 | FileCheck %s --check-prefix=BAD-WEIGHTS
// BAD-WEIGHTS: error: pith-tie-layers: weights='mlp': expected attention, ffn or all
// RUN: not pith-opt %t.different.mlir --pith-tie-layers 2>&1 | FileCheck %s --check-prefix=NO-CALIBRATION
// NO-CALIBRATION: error: pith-tie-layers: an error budget needs calibration inputs
// RUN: not pith-opt %t.different.mlir --pith-tie-layers="calibration=%t.missing.npz" 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: pith-tie-layers: calibration {{.*}}missing.npz:
