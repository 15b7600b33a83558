//===- Passes.td - Weight compression passes ---------------*- tablegen -*-===//
//
// Passes that make a model's weights smaller: lossless weight sharing, layer
// tying under an error budget, shared-basis factorization. They work on
// pith.parameter weights (lifting initializers first when needed) and
// record what they did in the module's `pith.report` attribute, which
// `pith optimize` prints.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_COMPRESSION_PASSES_TD
#define PITH_COMPRESSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def DedupWeightsPass : Pass<"pith-dedup-weights", "mlir::ModuleOp"> {
  let summary = "Store weights that are copies of each other once (lossless)";
  let description = [{
    Finds float weights, in the main graph and in subgraphs, that hold the
    same values: identical copies, and copies that differ only by a
    transpose (any permutation), a reshape, or a lossless cast (an f32
    weight whose values are exactly an f16 weight's). Each set becomes one
    `pith.parameter` (the narrowest type, sources listing every initializer
    it replaced); the other copies' users read it through onnx Transpose,
    Reshape or Cast ops. Outputs are bit-identical; the model stores, loads
    and keeps the data once.

    ```mlir
    pith.parameter @w : tensor<4x8xf32> = ... sources ["w"]
    pith.parameter @w_t : tensor<8x4xf32> = ... sources ["w_t"]   // = w^T
    // becomes
    pith.parameter @w : tensor<4x8xf32> = ... sources ["w", "w_t"]
    %w = pith.use @w : tensor<4x8xf32>
    %w_t = onnx.Transpose(%w) {perm = array<i64: 1, 0>}
    ```
  }];
  let dependentDialects = ["pith::dialect::PithDialect", "pith::ONNX::ONNXDialect"];
}

def TieLayersPass : Pass<"pith-tie-layers", "mlir::ModuleOp"> {
  let summary = "Tie corresponding weights of repeated blocks under an output-error budget";
  let description = [{
    Finds the repeated blocks of the main graph by structure (a run of N
    copies of the same op graph with the same weight shapes, such as a
    transformer's layers) and makes corresponding weights of a group of
    blocks one shared `pith.parameter`. A candidate is one weight (a matrix
    with its bias, or a normalization's parameters) in one group; candidates
    are tied greedily, most similar first. Each tie is measured: the model,
    with the ties kept so far, is compiled and run on the calibration
    inputs, and a tie that would make the relative output error (max over
    outputs of ||y' - y|| / ||y||, over all calibration inputs) exceed
    `max-rel-error` is undone; the budget is never exceeded. With
    `unbudgeted=true` every candidate is tied by its mean without measuring,
    for models fine-tuned afterwards. Weights used anywhere outside their
    block are never tied.
  }];
  let options = [
    Option<"weights", "weights", "std::string", /*default=*/"\"all\"",
           "Which weights: attention (Q, K, V, output projections and their biases), "
           "ffn (the other matrices and their biases) or all (also normalization parameters)">,
    Option<"groups", "groups", "std::string", /*default=*/"\"adjacent\"",
           "How blocks group: adjacent (runs of group-size blocks), cycle (every "
           "N/group-size-th block) or all (every block one group)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"2",
           "Blocks per group for groups=adjacent and groups=cycle">,
    Option<"shared", "shared", "std::string", /*default=*/"\"mean\"",
           "The shared value: mean (of the group) or member (the member whose value "
           "gives the least output error on the calibration inputs)">,
    Option<"maxRelError", "max-rel-error", "double", /*default=*/"0.01",
           "Relative output error on the calibration inputs never to exceed">,
    Option<"unbudgeted", "unbudgeted", "bool", /*default=*/"false",
           "Tie every candidate by its mean without measuring (fine-tune afterwards)">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration inputs (.npz, arrays named after the model's inputs); default: "
           "the module's pith.calibration attribute (pith optimize --calibration)">,
  ];
  let dependentDialects = ["pith::dialect::PithDialect", "pith::ONNX::ONNXDialect"];
}

def ShareBasisPass : Pass<"pith-share-basis", "mlir::ModuleOp"> {
  let summary = "Factor corresponding linear weights of repeated blocks over one shared basis";
  let description = [{
    For each linear-layer weight W_i (K x N) of corresponding layers in a
    group of repeated blocks (found as pith-tie-layers finds them), computes
    one basis shared by the group and small per-layer coefficients: along
    the larger dimension, W_i ~ B . C_i (B: K x r, the top-r left singular
    vectors of [W_1 ... W_n]) or W_i ~ C_i . B (B: r x N). The layer becomes
    `pith.factored_linear`; B is one `pith.parameter` used by the whole
    group. Training-free. With `activation-aware`, the factors minimize the
    layers' output error on the calibration inputs instead of the weights'
    error (whitening by the inputs' second moment, as SVD-LLM and basis
    sharing do). With `group-size=1` each layer is its own group: per-layer
    truncated SVD (activation-aware or not), the baseline at equal
    parameters.
  }];
  let options = [
    Option<"weights", "weights", "std::string", /*default=*/"\"all\"",
           "Which linear weights: attention, ffn or all">,
    Option<"groups", "groups", "std::string", /*default=*/"\"all\"",
           "How blocks group: adjacent, cycle or all (as pith-tie-layers)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"2",
           "Blocks per group for groups=adjacent and groups=cycle">,
    Option<"paramFraction", "param-fraction", "double", /*default=*/"0.5",
           "Fraction of a group's weight parameters kept (sets the rank)">,
    Option<"rank", "rank", "int64_t", /*default=*/"0",
           "The rank, instead of param-fraction (0: from param-fraction)">,
    Option<"activationAware", "activation-aware", "bool", /*default=*/"false",
           "Fit the factors to the layers' calibration inputs (whitening), not to the weights">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration inputs: to measure the output error with, and for activation-aware">,
  ];
  let dependentDialects = ["pith::dialect::PithDialect", "pith::ONNX::ONNXDialect"];
}

def LowRankPass : Pass<"pith-low-rank", "mlir::ModuleOp"> {
  let summary = "Factor linear layers' weights by truncated SVD";
  let description = [{
    Replaces the K x N weight W of each MatMul/Gemm in the main graph by a
    product U . V (K x r, r x N) as `pith.factored_linear`, from a truncated
    SVD (Eigen; randomized for a fixed small rank of a large matrix; layers
    in parallel). The rank is chosen by exactly one of:

    - `energy`: the smallest rank keeping that fraction of the spectral
      energy (sum of squared singular values);
    - `max-rel-error`: the smallest rank whose relative error stays within
      the bound, per layer: ||W - W_r|| / ||W||, or with
      `activation-aware` the layer's output error on the calibration
      inputs ||X (W - W_r)|| / ||X W||;
    - `rank`: that rank for every layer;
    - `target-params`: keep that fraction of the factorable layers'
      parameters in total, allocated across layers greedily by the error
      each singular direction costs, weighted by each layer's measured
      sensitivity (the model's output error on the calibration inputs when
      that layer alone is factored).

    With `conv`, a 2-D convolution (one group) with weight [F, C, kh, kw]
    is the (C kh kw) x F matrix it applies to each patch: it becomes a
    convolution with r filters and a 1x1 convolution (plain SVD).

    `activation-aware` whitens by the layer inputs' second moment before
    the SVD (SVD-LLM): with S = X^T X = L L^T, W ~ L^-T trunc(L^T W), so
    the directions the data uses are kept. A layer is left alone, with the
    reason in the report, where the rank would not save parameters or MACs
    (r >= K N / (K + N)), where its weight is not a stored f32 matrix, or
    where it is smaller than `min-size`.
  }];
  let options = [
    Option<"energy", "energy", "double", /*default=*/"0",
           "Fraction of each layer's spectral energy kept (0: not this criterion)">,
    Option<"rank", "rank", "int64_t", /*default=*/"0", "The rank of every layer (0: not this criterion)">,
    Option<"maxRelError", "max-rel-error", "double", /*default=*/"0",
           "Per-layer relative error bound (0: not this criterion)">,
    Option<"targetParams", "target-params", "double", /*default=*/"0",
           "Fraction of the factorable layers' parameters kept in total (0: not this criterion)">,
    Option<"activationAware", "activation-aware", "bool", /*default=*/"false",
           "Whiten by the calibration activations before the SVD">,
    Option<"minSize", "min-size", "int64_t", /*default=*/"4096",
           "Skip layers whose weight has fewer elements">,
    Option<"conv", "conv", "bool", /*default=*/"false",
           "Also factor 2-D convolutions with one group, as (C kh kw) x F matrices: a "
           "convolution with r filters, then a 1x1 convolution (plain SVD)">,
    ListOption<"layers", "layers", "std::string",
               "Only these weights (initializer names); one that cannot be factored is an error">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration inputs (.npz); default: the module's pith.calibration attribute">,
  ];
  let dependentDialects = ["pith::dialect::PithDialect", "pith::ONNX::ONNXDialect"];
}

def SparsifyPass : Pass<"pith-sparsify", "mlir::ModuleOp"> {
  let summary = "Prune weights to N:M, block or unstructured sparsity";
  let description = [{
    Zeroes weights of MatMul, Gemm and Conv layers in the main graph to a
    `pattern`, and marks each pruned `pith.parameter` with
    `#pith.sparsity` (which its verifier checks against the data):

    - `N:M` (e.g. `2:4`): in every group of M consecutive weights along the
      reduction dimension (K of a MatMul, C of a convolution), the N with the
      best scores stay;
    - `blockRxC` (e.g. `block4x4`): the weight as a matrix (its first
      dimension by the rest: [K, N] for a MatMul, [F, C kh kw] for a
      convolution) is tiled by R x C blocks; the `sparsity` fraction of
      blocks with the smallest summed squared score are zeroed;
    - `unstructured`: the `sparsity` fraction of weights with the smallest
      scores are zeroed, over the whole layer (magnitude) or among the
      weights of each output (activation, as Wanda compares).

    Scores (`criterion`): `magnitude` |w|, or `activation` |w| . ||x_k||,
    the norm over the calibration inputs of the input feature the weight
    multiplies (Wanda; MatMul and Gemm only). With `global`, `sparsity` is
    a fraction of all prunable weights, shared out by each layer's measured
    sensitivity (the model's output error when it alone is pruned to
    `sparsity`; s_l proportional to its size over that error, at most
    0.98). Layers that cannot be pruned to the pattern (a reduction
    dimension that M does not divide, a matrix that blocks do not tile,
    weights computed at run time or shared, non-f32, smaller than
    `min-size`) stay dense, with the reason in the report.
  }];
  let options = [
    Option<"pattern", "pattern", "std::string", /*default=*/"\"unstructured\"",
           "'N:M', 'blockRxC' or 'unstructured'">,
    Option<"sparsity", "sparsity", "double", /*default=*/"-1",
           "Fraction of zeros (block and unstructured; N:M implies 1 - N/M)">,
    Option<"criterion", "criterion", "std::string", /*default=*/"\"magnitude\"",
           "'magnitude' (|w|) or 'activation' (|w| times the input feature's norm; needs "
           "calibration)">,
    Option<"global", "global", "bool", /*default=*/"false",
           "sparsity is a fraction of all prunable weights, allocated by measured "
           "sensitivity (needs calibration)">,
    Option<"minSize", "min-size", "int64_t", /*default=*/"4096",
           "Leave layers whose weight has fewer elements dense">,
    ListOption<"layers", "layers", "std::string",
               "Only these weights (initializer names); one that cannot be pruned is an error">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration inputs (.npz); default: the module's pith.calibration attribute">,
  ];
  let dependentDialects = ["pith::dialect::PithDialect", "pith::ONNX::ONNXDialect"];
}

def MixedPrecisionPass : Pass<"pith-mixed-precision", "mlir::ModuleOp"> {
  let summary = "Compute in fp16 or bf16 where numerics allow, with the fewest casts";
  let description = [{
    Converts the main graph's float32 computation to `precision` (fp16 or
    bf16) by op class:

    - low precision: MatMul, Gemm, Conv, ConvTranspose, marked
      `#pith.precision<compute = f16|bf16, accumulate = f32>` (code
      generation accumulates their products in f32), and Gather from a
      weight (an embedding table, stored in low precision);
    - follow their neighbours: elementwise arithmetic and activations, data
      movement (Reshape, Transpose, Concat, Slice, Gather, ...), pooling;
    - float32: normalizations (LayerNormalization, BatchNormalization, ...),
      Softmax, reductions, Exp/Log/Pow, losses, and every op not named above
      (so shape computations, Range, ConstantOfShape and Resize's scales are
      never converted);
    - `keep-fp32` and `low` override the class per op type or node name.

    A float tensor computed from integers (a Cast from an integer type, and
    float math on such values only) stays float32, so that it stays exact.
    On calibration inputs (`calibration`, or `pith optimize --calibration`)
    every candidate activation is checked, and every weight always: one
    whose magnitude reaches half the format's largest value (65504 for
    fp16), or whose rounding to the format loses more than its unit
    roundoff in relative L2 norm (underflow), stays float32 together with
    the ops that produce and read it.

    Which of the ops that follow their neighbours run in low precision is
    chosen by a minimum cut: a value whose producer and reader differ in
    precision needs one Cast (one per value and direction, shared by all its
    readers), and the cut places the fewest; ties go to low precision.
    Weights read only in low precision are stored in it (half the bytes).
    With `keep-io-types` the model's float32 inputs and outputs stay
    float32; without it they change type too. Ops inside If/Loop/Scan
    bodies stay float32. A model with no float32 weights, or none at all,
    is left unchanged with a note in the report.
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"\"",
           "'fp16' or 'bf16'">,
    ListOption<"keepFp32", "keep-fp32", "std::string",
               "Op types or node names that stay float32">,
    ListOption<"low", "low", "std::string",
               "Op types or node names that compute in low precision even where the "
               "default policy keeps them float32 (the range check still applies)">,
    Option<"keepIoTypes", "keep-io-types", "bool", /*default=*/"false",
           "Keep the model's float32 inputs and outputs float32">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration inputs (.npz) for the range check; default: the module's "
           "pith.calibration attribute">,
  ];
  let dependentDialects = ["pith::dialect::PithDialect", "pith::ONNX::ONNXDialect"];
}

#endif // PITH_COMPRESSION_PASSES_TD
