// RUN: pith-opt %s -split-input-file --pith-convert-onnx-to-linalg -mlir-print-local-scope | FileCheck %s

// Reduce*: one linalg.generic whose reduced loops are reduction iterators;
// keepdims maps them to 0 in the output, otherwise drops them.

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  // CHECK-LABEL: func.func @reduce_sum_constant_axes
  // CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>)
  // CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
  // CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<3x1xf32>)
  // CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, 0)>], iterator_types = ["parallel", "reduction"]}
  // CHECK-SAME: ins(%[[X]] : tensor<3x4xf32>) outs(%[[INIT]] : tensor<3x1xf32>)
  // CHECK: arith.addf
  // CHECK: return %[[SUM]] : tensor<3x1xf32>
  func.func @reduce_sum_constant_axes(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
    %axes = onnx.Constant() {value = dense<[1]> : tensor<1xi64>} : () -> tensor<1xi64>
    %0 = onnx.ReduceSum(%x, %axes) {keepdims = 1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> tensor<3x1xf32>
    return %0 : tensor<3x1xf32>
  }

  // Axes known only at run time: the shapes say dimension 1 is reduced.
  // CHECK-LABEL: func.func @reduce_sum_runtime_axes
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
  // CHECK-SAME: outs(%{{.*}} : tensor<3xf32>)
  func.func @reduce_sum_runtime_axes(%x: tensor<3x4xf32>, %axes: tensor<1xi64>) -> tensor<3xf32> {
    %0 = onnx.ReduceSum(%x, %axes) {keepdims = 0 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> tensor<3xf32>
    return %0 : tensor<3xf32>
  }

  // Run-time axes and shapes that fit dimension 1 or 2: both reductions,
  // then a select on what the axes name.
  // CHECK-LABEL: func.func @reduce_sum_runtime_axes_ambiguous
  // CHECK-SAME: (%[[X:.*]]: tensor<3x2x2xf32>, %[[AXES:.*]]: tensor<1xi64>)
  // CHECK: %[[BY1:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>]
  // CHECK: %[[BY2:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
  // CHECK: %[[AXIS:.*]] = tensor.extract %[[AXES]]
  // CHECK: %[[IS1:.*]] = arith.cmpi eq, %[[AXIS]], %{{.*}} : i64
  // CHECK: linalg.generic {{.*}} ins(%[[BY1]], %[[BY2]] : tensor<3x2xf32>, tensor<3x2xf32>)
  // CHECK: arith.select
  func.func @reduce_sum_runtime_axes_ambiguous(%x: tensor<3x2x2xf32>, %axes: tensor<1xi64>) -> tensor<3x2xf32> {
    %0 = onnx.ReduceSum(%x, %axes) {keepdims = 0 : i64} : (tensor<3x2x2xf32>, tensor<1xi64>) -> tensor<3x2xf32>
    return %0 : tensor<3x2xf32>
  }

  // Empty axes with noop_with_empty_axes: the input itself.
  // CHECK-LABEL: func.func @reduce_sum_noop
  // CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>, %{{.*}}: tensor<0xi64>)
  // CHECK-NOT: linalg.generic
  // CHECK: return %[[X]]
  func.func @reduce_sum_noop(%x: tensor<3x4xf32>, %axes: tensor<0xi64>) -> tensor<3x4xf32> {
    %0 = onnx.ReduceSum(%x, %axes) {noop_with_empty_axes = 1 : i64} : (tensor<3x4xf32>, tensor<0xi64>) -> tensor<3x4xf32>
    return %0 : tensor<3x4xf32>
  }

  // Axes as an attribute (before opset 18); integers start at the lowest value.
  // CHECK-LABEL: func.func @reduce_max_attr_axes
  // CHECK: %[[LOWEST:.*]] = arith.constant -2147483648 : i32
  // CHECK: linalg.fill ins(%[[LOWEST]] : i32)
  // CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]
  // CHECK: arith.maxsi
  // CHECK: return %{{.*}} : tensor<4xi32>
  func.func @reduce_max_attr_axes(%x: tensor<3x4xi32>) -> tensor<4xi32> {
    %0 = onnx.ReduceMaxV1(%x) {axes = array<i64: 0>, keepdims = 0 : i64} : (tensor<3x4xi32>) -> tensor<4xi32>
    return %0 : tensor<4xi32>
  }

  // No axes: every dimension; the mean divides by the element count.
  // CHECK-LABEL: func.func @reduce_mean_all
  // CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
  // CHECK: %[[COUNT:.*]] = arith.constant 1.200000e+01 : f32
  // CHECK: linalg.generic {{.*}} ins(%[[SUM]] : tensor<1x1xf32>)
  // CHECK: arith.divf %{{.*}}, %[[COUNT]] : f32
  func.func @reduce_mean_all(%x: tensor<3x4xf32>) -> tensor<1x1xf32> {
    %0 = onnx.ReduceMeanV1(%x) : (tensor<3x4xf32>) -> tensor<1x1xf32>
    return %0 : tensor<1x1xf32>
  }

  // CHECK-LABEL: func.func @reduce_l2
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
  // CHECK: %[[SQ:.*]] = arith.mulf %[[IN:.*]], %[[IN]] : f32
  // CHECK: arith.addf %[[SQ]]
  // CHECK: linalg.generic
  // CHECK: math.sqrt
  func.func @reduce_l2(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
    %0 = onnx.ReduceL2V1(%x) {axes = array<i64: -1>} : (tensor<3x4xf32>) -> tensor<3x1xf32>
    return %0 : tensor<3x1xf32>
  }

  // log(sum(exp(x - max))) + max.
  // CHECK-LABEL: func.func @reduce_log_sum_exp
  // CHECK: %[[MAX:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x1xf32>)
  // CHECK: arith.maximumf
  // CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[MAX]] : tensor<3x4xf32>, tensor<3x1xf32>)
  // CHECK: arith.subf
  // CHECK: math.exp
  // CHECK: linalg.generic {{.*}} ins(%[[SUM]], %[[MAX]] : tensor<3x1xf32>, tensor<3x1xf32>)
  // CHECK: math.log
  // CHECK: outs(%{{.*}} : tensor<3xf32>)
  func.func @reduce_log_sum_exp(%x: tensor<3x4xf32>) -> tensor<3xf32> {
    %0 = onnx.ReduceLogSumExpV1(%x) {axes = array<i64: 1>, keepdims = 0 : i64} : (tensor<3x4xf32>) -> tensor<3xf32>
    return %0 : tensor<3xf32>
  }

  // ArgMax: (value, index) pairs; select_last_index takes ties (>=).
  // CHECK-LABEL: func.func @argmax_select_last
  // CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
  // CHECK: %[[I:.*]] = linalg.index 1 : index
  // CHECK: %[[BETTER:.*]] = arith.cmpf oge
  // CHECK: arith.select %[[BETTER]]
  // CHECK: return %[[R]]#1 : tensor<3x1xi64>
  func.func @argmax_select_last(%x: tensor<3x4xf32>) -> tensor<3x1xi64> {
    %0 = onnx.ArgMax(%x) {axis = 1 : i64, select_last_index = 1 : i64} : (tensor<3x4xf32>) -> tensor<3x1xi64>
    return %0 : tensor<3x1xi64>
  }

  // ArgMin: the first strictly smaller value wins, starting from +inf.
  // CHECK-LABEL: func.func @argmin
  // CHECK: arith.constant 0x7F800000 : f32
  // CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]
  // CHECK: arith.cmpf ogt, %[[ACC:.*]], %[[IN:.*]] : f32
  func.func @argmin(%x: tensor<3x4xf32>) -> tensor<4xi64> {
    %0 = onnx.ArgMin(%x) {keepdims = 0 : i64} : (tensor<3x4xf32>) -> tensor<4xi64>
    return %0 : tensor<4xi64>
  }

  // Softmax (opset 13+): over `axis` alone, the max subtracted first.
  // CHECK-LABEL: func.func @softmax_per_axis
  // CHECK: %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]
  // CHECK: arith.maximumf
  // CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]
  // CHECK: math.exp
  // CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[MAX]], %[[SUM]] : tensor<2x3x4xf32>, tensor<2x1x4xf32>, tensor<2x1x4xf32>)
  // CHECK: arith.subf
  // CHECK: math.exp
  // CHECK: arith.divf
  func.func @softmax_per_axis(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
    %0 = onnx.Softmax(%x) {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    return %0 : tensor<2x3x4xf32>
  }

  // CHECK-LABEL: func.func @log_softmax
  // CHECK: %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
  // CHECK: %[[SUM:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
  // CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[MAX]], %[[SUM]] :
  // CHECK: %[[SHIFTED:.*]] = arith.subf
  // CHECK: %[[LOG:.*]] = math.log
  // CHECK: arith.subf %[[SHIFTED]], %[[LOG]]
  func.func @log_softmax(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
    %0 = onnx.LogSoftmax(%x) : (tensor<2x4xf32>) -> tensor<2x4xf32>
    return %0 : tensor<2x4xf32>
  }

  // Hardmax: the max, then the first index holding it, then a one-hot.
  // CHECK-LABEL: func.func @hardmax
  // CHECK: %[[MAX:.*]] = linalg.generic
  // CHECK: arith.maximumf
  // CHECK: %[[FIRST:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[MAX]] :
  // CHECK: arith.cmpf oeq
  // CHECK: arith.minsi
  // CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[FIRST]] :
  // CHECK: arith.cmpi eq
  func.func @hardmax(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
    %0 = onnx.Hardmax(%x) : (tensor<2x4xf32>) -> tensor<2x4xf32>
    return %0 : tensor<2x4xf32>
  }

  // TopK: each element's rank along the axis, then slot r takes rank r.
  // CHECK-LABEL: func.func @top_k
  // CHECK: %[[RANKS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
  // CHECK-SAME: outs(%{{.*}} : tensor<3x4xi64>)
  // CHECK: %[[OUT:.*]]:2 = linalg.generic {{.*}} ins(%{{.*}}, %[[RANKS]] : tensor<3x4xf32>, tensor<3x4xi64>)
  // CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<3x2xf32>, tensor<3x2xi64>)
  // CHECK: return %[[OUT]]#0, %[[OUT]]#1
  func.func @top_k(%x: tensor<3x4xf32>, %k: tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>) {
    %v, %i = onnx.TopK(%x, %k) {axis = 1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
    return %v, %i : tensor<3x2xf32>, tensor<3x2xi64>
  }

  // LayerNormalization: mean and variance over the dimensions from `axis`,
  // scale and bias broadcast from the right; Mean is the second result.
  // CHECK-LABEL: func.func @layer_norm
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
  // CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x3x1xf32>)
  // CHECK: arith.divf
  // CHECK: %[[SQUARES:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[MEAN]] : tensor<2x3x4xf32>, tensor<2x3x1xf32>)
  // CHECK: %[[VAR:.*]] = linalg.generic {{.*}} ins(%[[SQUARES]] :
  // CHECK: %[[INV:.*]] = linalg.generic {{.*}} ins(%[[VAR]] :
  // CHECK: %[[EPS:.*]] = arith.constant 1.000000e-03 : f32
  // CHECK: arith.addf %{{.*}}, %[[EPS]]
  // CHECK: math.sqrt
  // CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[MEAN]], %[[INV]], %{{.*}}, %{{.*}} : tensor<2x3x4xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>, tensor<4xf32>, tensor<4xf32>)
  // CHECK: return %[[Y]], %[[MEAN]]
  func.func @layer_norm(%x: tensor<2x3x4xf32>, %s: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x1xf32>) {
    %y, %m, %inv = onnx.LayerNormalization(%x, %s, %b) {epsilon = 1.0e-03 : f32} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x1xf32>, none)
    return %y, %m : tensor<2x3x4xf32>, tensor<2x3x1xf32>
  }

  // InstanceNormalization: statistics over the spatial dimensions; scale and
  // bias indexed by the channel.
  // CHECK-LABEL: func.func @instance_norm
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, 0)>, affine_map<(d0, d1, d2) -> (d0, d1, 0)>, affine_map<(d0, d1, d2) -> (d1)>, affine_map<(d0, d1, d2) -> (d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>]
  func.func @instance_norm(%x: tensor<1x2x3xf32>, %s: tensor<2xf32>, %b: tensor<2xf32>) -> tensor<1x2x3xf32> {
    %0 = onnx.InstanceNormalization(%x, %s, %b) : (tensor<1x2x3xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3xf32>
    return %0 : tensor<1x2x3xf32>
  }

  // NegativeLogLikelihoodLoss: the target class is matched by a reduction
  // over C (never used as an address); mean divides by the weights used.
  // CHECK-LABEL: func.func @nll_loss_mean
  // CHECK: %[[PER:.*]]:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
  // CHECK: %[[C:.*]] = linalg.index 1 : index
  // CHECK: arith.cmpi eq
  // CHECK: %[[IGNORE:.*]] = arith.constant 1 : i64
  // CHECK: arith.cmpi ne, %{{.*}}, %[[IGNORE]] : i64
  // CHECK: arith.negf
  // CHECK: %[[LOSS:.*]] = linalg.generic {{.*}} ins(%[[PER]]#0 : tensor<3xf32>)
  // CHECK: %[[WEIGHT:.*]] = linalg.generic {{.*}} ins(%[[PER]]#1 : tensor<3xf32>)
  // CHECK: linalg.generic {{.*}} ins(%[[LOSS]], %[[WEIGHT]] : tensor<f32>, tensor<f32>)
  // CHECK: arith.divf
  func.func @nll_loss_mean(%x: tensor<3x5xf32>, %t: tensor<3xi64>, %w: tensor<5xf32>) -> tensor<f32> {
    %0 = onnx.NegativeLogLikelihoodLoss(%x, %t, %w) {ignore_index = 1 : i64} : (tensor<3x5xf32>, tensor<3xi64>, tensor<5xf32>) -> tensor<f32>
    return %0 : tensor<f32>
  }

  // SoftmaxCrossEntropyLoss: LogSoftmax over C, then the NLL loss; the
  // log-probabilities are the second result.
  // CHECK-LABEL: func.func @sce_loss_none
  // CHECK: %[[LOGP:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x5xf32>)
  // CHECK: math.log
  // CHECK: %[[PER:.*]]:2 = linalg.generic {{.*}} ins(%[[LOGP]], %{{.*}} : tensor<3x5xf32>, tensor<3xi64>)
  // CHECK: return %[[PER]]#0, %[[LOGP]]
  func.func @sce_loss_none(%x: tensor<3x5xf32>, %t: tensor<3xi64>) -> (tensor<3xf32>, tensor<3x5xf32>) {
    %none = onnx.None
    %0, %1 = onnx.SoftmaxCrossEntropyLoss(%x, %t, %none) {reduction = "none"} : (tensor<3x5xf32>, tensor<3xi64>, none) -> (tensor<3xf32>, tensor<3x5xf32>)
    return %0, %1 : tensor<3xf32>, tensor<3x5xf32>
  }
}

// -----

// Before opset 13, Softmax coerces the input to 2-D at `axis` (default 1):
// it normalizes over every dimension from `axis` on.
module attributes {onnx.opset_import = {ai.onnx = 11 : i64}} {
  // CHECK-LABEL: func.func @softmax_coerced_2d
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction"]
  // CHECK: arith.maximumf
  func.func @softmax_coerced_2d(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
    %0 = onnx.Softmax(%x) : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    return %0 : tensor<2x3x4xf32>
  }
}
