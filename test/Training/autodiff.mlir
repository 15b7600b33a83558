// pith-autodiff on a two-layer MLP with a softmax-cross-entropy loss: the
// step's interface, the report, and that it is still a valid onnx module
// (the export to ONNX passes onnx.checker and onnxruntime runs it; the
// numbers are checked in test/python/test_training.py).
// RUN: rm -rf %t && mkdir -p %t
// RUN: pith-opt %s --pith-autodiff -o %t/step.mlir
// RUN: FileCheck %s --check-prefix=ADAMW < %t/step.mlir
// ADAMW: added_ops = {{[0-9]+}} : i64, lines = ["training step: 4 parameters (63 values), loss cross-entropy on output 'y', optimizer adamw;
// ADAMW: pith.training = {loss = "cross-entropy", optimizer = "adamw", output = "y", parameters = ["w1", "b1", "w2", "b2"]}
// ADAMW: func.func @graph(%{{.*}}: tensor<4x8xf32> {onnx.name = "x"}, %{{.*}}: tensor<4xi64> {onnx.name = "labels"}, %{{.*}}: tensor<8x5xf32> {onnx.name = "w1"}, %{{.*}}: tensor<5xf32> {onnx.name = "b1"}, %{{.*}}: tensor<5x3xf32> {onnx.name = "w2"}, %{{.*}}: tensor<3xf32> {onnx.name = "b2"}, %{{.*}}: tensor<f32> {onnx.name = "learning_rate"}, %{{.*}}: tensor<f32> {onnx.name = "step"}, %{{.*}}: tensor<8x5xf32> {onnx.name = "w1.adam_m"}, %{{.*}}: tensor<8x5xf32> {onnx.name = "w1.adam_v"},
// ADAMW-SAME: -> (tensor<f32> {onnx.name = "loss"}, tensor<8x5xf32> {onnx.name = "w1.next"}, tensor<8x5xf32> {onnx.name = "w1.adam_m.next"}, tensor<8x5xf32> {onnx.name = "w1.adam_v.next"},
// The weights are inputs now, no longer initializers.
// ADAMW-NOT: onnx.Initializer "w1"
// ADAMW: onnx.LogSoftmax
// RUN: pith-translate --export-onnx %t/step.mlir -o %t/step.onnx
// RUN: %python -c "import onnx; m = onnx.load('%t/step.onnx'); onnx.checker.check_model(m, full_check=True); print('inputs', len(m.graph.input), 'outputs', len(m.graph.output))" | FileCheck %s --check-prefix=CHECKER
// CHECKER: inputs 16 outputs 13

// SGD with momentum: one state input per parameter; without momentum none.
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd" | FileCheck %s --check-prefix=SGD
// SGD: %{{.*}}: tensor<f32> {onnx.name = "learning_rate"}, %{{.*}}: tensor<8x5xf32> {onnx.name = "w1.momentum"}
// SGD-SAME: {onnx.name = "w1.momentum.next"}
// RUN: pith-opt %s --pith-autodiff="optimizer=sgd momentum=0" | FileCheck %s --check-prefix=PLAIN-SGD
// PLAIN-SGD-NOT: momentum
// PLAIN-SGD: {onnx.name = "b2.next"}

// Gradients only, frozen first layer, mean squared error.
// RUN: pith-opt %s --pith-autodiff="optimizer=none loss=mse freeze=w1,b1" | FileCheck %s --check-prefix=GRADS
// GRADS: {onnx.name = "targets"}
// GRADS-SAME: -> (tensor<f32> {onnx.name = "loss"}, tensor<5x3xf32> {onnx.name = "w2.grad"}, tensor<3xf32> {onnx.name = "b2.grad"})
// GRADS: onnx.Initializer "w1"

// Errors.
// RUN: not pith-opt %s --pith-autodiff="loss=output" 2>&1 | FileCheck %s --check-prefix=NOT-SCALAR
// NOT-SCALAR: error: pith-autodiff: loss=output needs a scalar loss; output 'y' has shape 4x3
// RUN: not pith-opt %s --pith-autodiff="loss=hinge" 2>&1 | FileCheck %s --check-prefix=LOSS
// LOSS: error: pith-autodiff: loss: expected 'cross-entropy', 'mse' or 'output', got 'hinge'
// RUN: not pith-opt %s --pith-autodiff="optimizer=lion" 2>&1 | FileCheck %s --check-prefix=OPTIMIZER
// OPTIMIZER: error: pith-autodiff: optimizer: expected 'adamw', 'sgd' or 'none', got 'lion'
// RUN: not pith-opt %s --pith-autodiff="freeze=w9" 2>&1 | FileCheck %s --check-prefix=FREEZE
// FREEZE: error: pith-autodiff: freeze: the model has no initializer 'w9'
// RUN: not pith-opt %s --pith-autodiff="loss-output=z" 2>&1 | FileCheck %s --check-prefix=OUTPUT
// OUTPUT: error: pith-autodiff: loss-output: the model has no output 'z'
// RUN: not pith-opt %S/Inputs/not-differentiable.mlir --pith-autodiff 2>&1 | FileCheck %s --check-prefix=NO-RULE
// NO-RULE: pith-autodiff: node 'round' (Round) is on the path from parameter 'w1' to the loss and has no gradient rule
// RUN: not pith-opt %S/Inputs/dynamic-batch.mlir --pith-autodiff 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// DYNAMIC: error: pith-autodiff: input 'x' has shape ?x8; a training step is built for fixed shapes
// RUN: not pith-opt %S/Inputs/old-opset.mlir --pith-autodiff 2>&1 | FileCheck %s --check-prefix=OPSET
// OPSET: error: pith-autodiff: the model's opset is 13; training needs 16 or newer

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @graph(%x: tensor<4x8xf32> {onnx.name = "x"}) -> (tensor<4x3xf32> {onnx.name = "y"}) {
    %w1 = onnx.Initializer "w1" dense<0.1> : tensor<8x5xf32>
    %b1 = onnx.Initializer "b1" dense<0.0> : tensor<5xf32>
    %w2 = onnx.Initializer "w2" dense<0.2> : tensor<5x3xf32>
    %b2 = onnx.Initializer "b2" dense<0.0> : tensor<3xf32>
    %h = onnx.MatMul(%x, %w1) : (tensor<4x8xf32>, tensor<8x5xf32>) -> tensor<4x5xf32>
    %hb = onnx.Add(%h, %b1) : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
    %r = onnx.Relu(%hb) : (tensor<4x5xf32>) -> tensor<4x5xf32>
    %y = onnx.Gemm(%r, %w2, %b2) : (tensor<4x5xf32>, tensor<5x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
    return %y : tensor<4x3xf32>
  }
}
