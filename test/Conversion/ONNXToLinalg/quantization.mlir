// RUN: pith-opt %s --pith-convert-onnx-to-linalg | FileCheck %s

// Indexing maps print at the top of the module.
// CHECK-DAG: #[[$ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$AXIS1:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$BLOCK:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 2)>
// CHECK-DAG: #[[$SCALAR1:.*]] = affine_map<(d0) -> ()>
// CHECK-DAG: #[[$MK:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$KN:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[$ONE:.*]] = affine_map<(d0, d1, d2) -> (0)>
// CHECK-DAG: #[[$N:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-DAG: #[[$MN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$CH:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-DAG: #[[$BATCH0:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$WIN:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 + d4, d2, d3)>

module attributes {onnx.opset_import = {ai.onnx = 21 : i64}} {

// Per-axis scales and zero points are read along the axis; rounding is half
// to even, then the zero point is added and the sum saturated.
// CHECK-LABEL: func.func @quantize_per_axis
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$AXIS1]], #[[$AXIS1]], #[[$ID2]]]
// CHECK: ^bb0(%[[X:.*]]: f32, %[[S:.*]]: f32, %[[Z:.*]]: i8, %{{.*}}: i8):
// CHECK: %[[DIV:.*]] = arith.divf %[[X]], %[[S]] : f32
// CHECK: %[[ROUND:.*]] = math.roundeven %[[DIV]] : f32
// CHECK: %[[ZF:.*]] = arith.sitofp %[[Z]] : i8 to f32
// CHECK: %[[SUM:.*]] = arith.addf %[[ROUND]], %[[ZF]] : f32
// CHECK: %[[LO:.*]] = arith.constant -1.280000e+02 : f32
// CHECK: %[[LOW:.*]] = arith.maximumf %[[SUM]], %[[LO]] : f32
// CHECK: %[[HI:.*]] = arith.constant 1.270000e+02 : f32
// CHECK: %[[SAT:.*]] = arith.minimumf %[[LOW]], %[[HI]] : f32
// CHECK: %[[Q:.*]] = arith.fptosi %[[SAT]] : f32 to i8
// CHECK: linalg.yield %[[Q]] : i8
func.func @quantize_per_axis(%x: tensor<2x3xf32>, %s: tensor<3xf32>, %z: tensor<3xi8>) -> tensor<2x3xi8> {
  %0 = onnx.QuantizeLinear(%x, %s, %z) {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3xi8>
  return %0 : tensor<2x3xi8>
}

// Unsigned results saturate to [0, 255] and convert with fptoui.
// CHECK-LABEL: func.func @quantize_uint8
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// CHECK: arith.constant 0.000000e+00 : f32
// CHECK: arith.constant 2.550000e+02 : f32
// CHECK: arith.fptoui %{{.*}} : f32 to i8
func.func @quantize_uint8(%x: tensor<6xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<6xui8> {
  %0 = onnx.QuantizeLinear(%x, %s, %z) : (tensor<6xf32>, tensor<f32>, tensor<ui8>) -> tensor<6xui8>
  return %0 : tensor<6xui8>
}

// Blocked quantization reads one scale per block along the axis.
// CHECK-LABEL: func.func @quantize_blocked
// CHECK: linalg.generic {indexing_maps = [#[[$ID2]], #[[$BLOCK]], #[[$BLOCK]], #[[$ID2]]]
func.func @quantize_blocked(%x: tensor<3x4xf32>, %s: tensor<3x2xf32>, %z: tensor<3x2xi16>) -> tensor<3x4xi16> {
  %0 = onnx.QuantizeLinear(%x, %s, %z) {axis = 1 : i64, block_size = 2 : i64} : (tensor<3x4xf32>, tensor<3x2xf32>, tensor<3x2xi16>) -> tensor<3x4xi16>
  return %0 : tensor<3x4xi16>
}

// (x - zero_point) is exact in i64 before the product with the scale.
// CHECK-LABEL: func.func @dequantize_uint8
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$SCALAR1]], #[[$SCALAR1]], #{{.*}}]
// CHECK: ^bb0(%[[X:.*]]: i8, %[[S:.*]]: f32, %[[Z:.*]]: i8, %{{.*}}: f32):
// CHECK: %[[XW:.*]] = arith.extui %[[X]] : i8 to i64
// CHECK: %[[ZW:.*]] = arith.extui %[[Z]] : i8 to i64
// CHECK: %[[D:.*]] = arith.subi %[[XW]], %[[ZW]] : i64
// CHECK: %[[DF:.*]] = arith.sitofp %[[D]] : i64 to f32
// CHECK: %[[Y:.*]] = arith.mulf %[[DF]], %[[S]] : f32
// CHECK: linalg.yield %[[Y]] : f32
func.func @dequantize_uint8(%x: tensor<4xui8>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<4xf32> {
  %0 = onnx.DequantizeLinear(%x, %s, %z) : (tensor<4xui8>, tensor<f32>, tensor<ui8>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// One reduction finds both extremes (starting from 0); scale and zero
// point are scalars, the quantization elementwise.
// CHECK-LABEL: func.func @dynamic_quantize
// CHECK: %[[EXT:.*]]:2 = linalg.generic {{.*}} iterator_types = ["reduction"]
// CHECK: arith.minimumf
// CHECK: arith.maximumf
// CHECK: %[[LO:.*]] = tensor.extract %[[EXT]]#0[]
// CHECK: %[[HI:.*]] = tensor.extract %[[EXT]]#1[]
// CHECK: %[[RANGE:.*]] = arith.subf %[[HI]], %[[LO]]
// CHECK: %[[SCALE:.*]] = arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: %[[ZP:.*]] = arith.fptoui %{{.*}} : f32 to i8
// CHECK: %[[Y:.*]] = linalg.generic
// CHECK: arith.divf %{{.*}}, %[[SCALE]]
// CHECK: %[[S:.*]] = tensor.from_elements %[[SCALE]] : tensor<f32>
// CHECK: %[[Z:.*]] = tensor.from_elements %[[ZP]] : tensor<i8>
// CHECK: return %[[Y]], %[[S]], %[[Z]]
func.func @dynamic_quantize(%x: tensor<6xf32>) -> (tensor<6xui8>, tensor<f32>, tensor<ui8>) {
  %y, %s, %z = onnx.DynamicQuantizeLinear(%x) : (tensor<6xf32>) -> (tensor<6xui8>, tensor<f32>, tensor<ui8>)
  return %y, %s, %z : tensor<6xui8>, tensor<f32>, tensor<ui8>
}

// A contraction of zero-point-shifted operands accumulated in i32; b's
// zero point is per column.
// CHECK-LABEL: func.func @matmul_integer
// CHECK: %[[INIT:.*]] = linalg.fill ins(%{{.*}} : i32) outs(%{{.*}} : tensor<4x2xi32>)
// CHECK: linalg.generic {indexing_maps = [#[[$MK]], #[[$KN]], #[[$ONE]], #[[$N]], #[[$MN]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%[[INIT]] : tensor<4x2xi32>)
// CHECK: ^bb0(%[[A:.*]]: i8, %[[B:.*]]: i8, %[[AZ:.*]]: i8, %[[BZ:.*]]: i8, %[[ACC:.*]]: i32):
// CHECK: %[[A32:.*]] = arith.extui %[[A]] : i8 to i32
// CHECK: %[[AZ32:.*]] = arith.extui %[[AZ]] : i8 to i32
// CHECK: %[[AS:.*]] = arith.subi %[[A32]], %[[AZ32]] : i32
// CHECK: %[[B32:.*]] = arith.extsi %[[B]] : i8 to i32
// CHECK: %[[BZ32:.*]] = arith.extsi %[[BZ]] : i8 to i32
// CHECK: %[[BS:.*]] = arith.subi %[[B32]], %[[BZ32]] : i32
// CHECK: %[[P:.*]] = arith.muli %[[AS]], %[[BS]] : i32
// CHECK: %[[SUM:.*]] = arith.addi %[[ACC]], %[[P]] : i32
// CHECK: linalg.yield %[[SUM]] : i32
func.func @matmul_integer(%a: tensor<4x3xui8>, %b: tensor<3x2xi8>, %az: tensor<1xui8>, %bz: tensor<2xi8>) -> tensor<4x2xi32> {
  %0 = onnx.MatMulInteger(%a, %b, %az, %bz) : (tensor<4x3xui8>, tensor<3x2xi8>, tensor<1xui8>, tensor<2xi8>) -> tensor<4x2xi32>
  return %0 : tensor<4x2xi32>
}

// The i32 product is requantized in f64 with a_scale * b_scale / y_scale.
// CHECK-LABEL: func.func @qlinear_matmul
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK: linalg.generic {{.*}} ins(%[[ACC]], %{{.*}} : tensor<2x2x3xi32>,
// CHECK: ^bb0(%[[C:.*]]: i32, %[[AS:.*]]: f32, %[[BS:.*]]: f32, %[[YS:.*]]: f32, %[[YZ:.*]]: i8, %{{.*}}: i8):
// CHECK: %[[M1:.*]] = arith.mulf %[[AS]], %[[BS]] : f32
// CHECK: %[[M:.*]] = arith.divf %[[M1]], %[[YS]] : f32
// CHECK: %[[CF:.*]] = arith.sitofp %[[C]] : i32 to f64
// CHECK: %[[MF:.*]] = arith.extf %[[M]] : f32 to f64
// CHECK: %[[V:.*]] = arith.mulf %[[CF]], %[[MF]] : f64
// CHECK: math.roundeven %[[V]] : f64
// CHECK: arith.fptoui %{{.*}} : f64 to i8
func.func @qlinear_matmul(%a: tensor<2x2x4xui8>, %as: tensor<1xf32>, %az: tensor<1xui8>, %b: tensor<2x4x3xui8>, %bs: tensor<1xf32>, %bz: tensor<1xui8>, %ys: tensor<1xf32>, %yz: tensor<1xui8>) -> tensor<2x2x3xui8> {
  %0 = onnx.QLinearMatMul(%a, %as, %az, %b, %bs, %bz, %ys, %yz) : (tensor<2x2x4xui8>, tensor<1xf32>, tensor<1xui8>, tensor<2x4x3xui8>, tensor<1xf32>, tensor<1xui8>, tensor<1xf32>, tensor<1xui8>) -> tensor<2x2x3xui8>
  return %0 : tensor<2x2x3xui8>
}

// The input is padded with its zero point; w's scale is per output channel
// (dimension 1 of the result).
// CHECK-LABEL: func.func @qlinear_conv
// CHECK: %[[XZ:.*]] = tensor.extract %{{.*}}[] : tensor<i8>
// CHECK: %[[PAD:.*]] = tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[XZ]] : i8
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[PAD]], %{{.*}}, %{{.*}} : tensor<1x2x7x7xi8>, tensor<4x2x3x3xi8>, tensor<4xi8>) outs(%{{.*}} : tensor<1x4x5x5xi32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[$CH]], #{{.*}}, #{{.*}}, #[[$CH]], #{{.*}}]{{.*}} ins(%[[ACC]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x5x5xi32>, tensor<f32>, tensor<4xf32>, tensor<f32>, tensor<i8>, tensor<4xi32>)
// CHECK: ^bb0(%[[C:.*]]: i32, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: i8, %[[BIAS:.*]]: i32, %{{.*}}: i8):
// CHECK: arith.addi %[[C]], %[[BIAS]] : i32
func.func @qlinear_conv(%x: tensor<1x2x5x5xui8>, %xs: tensor<f32>, %xz: tensor<ui8>, %w: tensor<4x2x3x3xui8>, %ws: tensor<4xf32>, %wz: tensor<4xui8>, %ys: tensor<f32>, %yz: tensor<ui8>, %bias: tensor<4xi32>) -> tensor<1x4x5x5xui8> {
  %0 = onnx.QLinearConv(%x, %xs, %xz, %w, %ws, %wz, %ys, %yz, %bias) {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x5x5xui8>, tensor<f32>, tensor<ui8>, tensor<4x2x3x3xui8>, tensor<4xf32>, tensor<4xui8>, tensor<f32>, tensor<ui8>, tensor<4xi32>) -> tensor<1x4x5x5xui8>
  return %0 : tensor<1x4x5x5xui8>
}

// Updates are applied in order by a loop nest carrying the data tensor;
// negative indices count from the end of the axis.
// CHECK-LABEL: func.func @scatter_elements_add
// CHECK-SAME: (%[[DATA:.*]]: tensor<3x5xf32>, %[[IND:.*]]: tensor<3x2xi64>, %[[UPD:.*]]: tensor<3x2xf32>)
// CHECK: %[[OUT:.*]] = scf.for %[[I:[^ ]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[T0:.*]] = %[[DATA]]) -> (tensor<3x5xf32>)
// CHECK: scf.for %[[J:[^ ]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[T:.*]] = %[[T0]]) -> (tensor<3x5xf32>)
// CHECK: %[[IDX:.*]] = tensor.extract %[[IND]][%[[I]], %[[J]]]
// CHECK: %[[K:.*]] = arith.index_cast %[[IDX]] : i64 to index
// CHECK: arith.cmpi slt, %[[K]]
// CHECK: %[[AT:.*]] = arith.select
// CHECK: %[[U:.*]] = tensor.extract %[[UPD]][%[[I]], %[[J]]]
// CHECK: %[[OLD:.*]] = tensor.extract %[[T]][%[[I]], %[[AT]]]
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[U]] : f32
// CHECK: %[[INS:.*]] = tensor.insert %[[NEW]] into %[[T]][%[[I]], %[[AT]]]
// CHECK: scf.yield %[[INS]]
// CHECK: return %[[OUT]]
func.func @scatter_elements_add(%data: tensor<3x5xf32>, %ind: tensor<3x2xi64>, %upd: tensor<3x2xf32>) -> tensor<3x5xf32> {
  %0 = onnx.ScatterElements(%data, %ind, %upd) {axis = 1 : i64, reduction = "add"} : (tensor<3x5xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// Without a reduction the update replaces the element.
// CHECK-LABEL: func.func @scatter_replaces
// CHECK: scf.for
// CHECK: %[[U:.*]] = tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<2x3xf32>
// CHECK-NEXT: tensor.insert %[[U]] into
func.func @scatter_replaces(%data: tensor<3x3xf32>, %ind: tensor<2x3xi32>, %upd: tensor<2x3xf32>) -> tensor<3x3xf32> {
  %0 = onnx.Scatter(%data, %ind, %upd) : (tensor<3x3xf32>, tensor<2x3xi32>, tensor<2x3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// Each update slice starts at the coordinates read from indices[i, :].
// CHECK-LABEL: func.func @scatter_nd_mul
// CHECK-SAME: (%[[DATA:.*]]: tensor<4x4x4xf32>, %[[IND:.*]]: tensor<2x1xi64>, %[[UPD:.*]]: tensor<2x4x4xf32>)
// CHECK: scf.for %[[I:[^ ]+]] = {{.*}} iter_args(%{{.*}} = %[[DATA]])
// CHECK: scf.for %[[J:[^ ]+]] =
// CHECK: scf.for %[[K:[^ ]+]] = {{.*}} iter_args(%[[T:.*]] = %{{.*}})
// CHECK: tensor.extract %[[IND]][%[[I]], %{{.*}}] : tensor<2x1xi64>
// CHECK: %[[AT:.*]] = arith.select
// CHECK: %[[U:.*]] = tensor.extract %[[UPD]][%[[I]], %[[J]], %[[K]]]
// CHECK: %[[OLD:.*]] = tensor.extract %[[T]][%[[AT]], %[[J]], %[[K]]]
// CHECK: %[[NEW:.*]] = arith.mulf %[[OLD]], %[[U]]
// CHECK: tensor.insert %[[NEW]] into %[[T]][%[[AT]], %[[J]], %[[K]]]
func.func @scatter_nd_mul(%data: tensor<4x4x4xf32>, %ind: tensor<2x1xi64>, %upd: tensor<2x4x4xf32>) -> tensor<4x4x4xf32> {
  %0 = onnx.ScatterND(%data, %ind, %upd) {reduction = "mul"} : (tensor<4x4x4xf32>, tensor<2x1xi64>, tensor<2x4x4xf32>) -> tensor<4x4x4xf32>
  return %0 : tensor<4x4x4xf32>
}

// A gather: time index t < len[b] reads len[b] - 1 - t.
// CHECK-LABEL: func.func @reverse_sequence
// CHECK-SAME: (%[[X:.*]]: tensor<4x5xf32>, %[[LEN:.*]]: tensor<4xi64>)
// CHECK: linalg.generic {indexing_maps = [#[[$BATCH0]], #{{.*}}]{{.*}} ins(%[[LEN]] : tensor<4xi64>)
// CHECK: %[[B:.*]] = linalg.index 0 : index
// CHECK: %[[T:.*]] = linalg.index 1 : index
// CHECK: %[[L:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[T]], %[[L]] : index
// CHECK: %[[REV:.*]] = arith.subi %{{.*}}, %[[T]] : index
// CHECK: %[[SRC:.*]] = arith.select %[[IN]], %[[REV]], %[[T]] : index
// CHECK: tensor.extract %[[X]][%[[B]], %[[SRC]]] : tensor<4x5xf32>
func.func @reverse_sequence(%x: tensor<4x5xf32>, %len: tensor<4xi64>) -> tensor<4x5xf32> {
  %0 = onnx.ReverseSequence(%x, %len) {batch_axis = 0 : i64, time_axis = 1 : i64} : (tensor<4x5xf32>, tensor<4xi64>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// Squares padded along the channels (1 before, 2 after for size 4) are
// summed over the window, then x / (bias + alpha / size * sum)^beta.
// CHECK-LABEL: func.func @lrn
// CHECK: %[[SQ:.*]] = linalg.generic
// CHECK: arith.mulf
// CHECK: %[[PAD:.*]] = tensor.pad %[[SQ]] low[0, 1, 0, 0] high[0, 2, 0, 0]
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$WIN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[PAD]], %{{.*}} : tensor<1x8x3x3xf32>, tensor<4xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[SUM]] :
// CHECK: math.powf
// CHECK: arith.divf
func.func @lrn(%x: tensor<1x5x3x3xf32>) -> tensor<1x5x3x3xf32> {
  %0 = onnx.LRN(%x) {size = 4 : i64} : (tensor<1x5x3x3xf32>) -> tensor<1x5x3x3xf32>
  return %0 : tensor<1x5x3x3xf32>
}

// One elimination per matrix: the batch loop gathers the matrix, the
// column loop searches the pivot, swaps rows and eliminates below it.
// CHECK-LABEL: func.func @det_batched
// CHECK: %[[OUT:.*]] = scf.for %[[I:[^ ]+]] = {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<3xf32>)
// CHECK: %[[M:.*]] = linalg.generic
// CHECK: tensor.extract %{{.*}}[%[[I]], %{{.*}}, %{{.*}}] : tensor<3x2x2xf32>
// CHECK: %[[COL:.*]]:2 = scf.for %{{.*}} iter_args(%{{.*}} = %[[M]], %{{.*}} = %{{.*}}) -> (tensor<2x2xf32>, f32)
// CHECK: math.absf
// CHECK: arith.negf
// CHECK: arith.divf
// CHECK: tensor.insert %[[COL]]#1 into %[[ACC]][%[[I]]] : tensor<3xf32>
// CHECK: return %[[OUT]]
func.func @det_batched(%x: tensor<3x2x2xf32>) -> tensor<3xf32> {
  %0 = onnx.Det(%x) : (tensor<3x2x2xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

}
