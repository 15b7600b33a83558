//===- Passes.td - Pith's transformation passes -------------*- tablegen -*-===//

#ifndef PITH_TRANSFORMS_PASSES_TD
#define PITH_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def PlanBuffersPass : Pass<"pith-plan-buffers", "mlir::func::FuncOp"> {
  let summary = "Place intermediate buffers in one arena by liveness";
  let description = [{
    After bufferization, every statically shaped `memref.alloc` at the top
    level of the function becomes a `memref.view` into one byte arena, a new
    trailing function argument marked `pith.arena`. Buffers whose live
    ranges (from the allocation to the last use of it or of any view of it)
    do not overlap share memory; placement is greedy, largest first, at the
    lowest offset that fits. The arena's size, the peak memory of the
    intermediates, is recorded as `pith.arena_bytes` on the function, so the
    runtime allocates it once and reports it.

    ```mlir
    %a = memref.alloc() : memref<4x4xf32>
    // becomes
    %c0 = arith.constant 0 : index
    %a = memref.view %arena[%c0][] : memref<1024xi8> to memref<4x4xf32>
    ```
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "Byte alignment of every buffer in the arena">
  ];
  let dependentDialects = ["mlir::memref::MemRefDialect", "mlir::arith::ArithDialect"];
}

def FuseElementwisePass : Pass<"pith-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg ops, keeping contractions whole";
  let description = [{
    Upstream elementwise fusion, except that a producer with reduction
    loops (matmul, convolution, pooling, reductions) is never merged into
    its elementwise consumer: that would turn a named op the kernels run
    into a generic loop nest. Chains of elementwise ops still fuse into one
    loop nest.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::affine::AffineDialect",
                           "mlir::tensor::TensorDialect"];
}

def RefineShapesPass : Pass<"pith-refine-shapes", "mlir::ModuleOp"> {
  let summary = "Give onnx values the static types their inputs imply";
  let description = [{
    ONNX shape inference (at import) leaves some values untyped or with
    dynamic dimensions that are in fact known: shapes computed by
    Shape/Gather/Concat/... chains on static tensors, Reshape to such a
    shape, the results of elementwise ops on typed inputs. This pass
    propagates what is known forward through the graph, tracking the
    values of small integer tensors (shapes) as it goes, and sets the
    refined result types. Code generation runs it first.
  }];
}

def ApproximateMathPass : Pass<"pith-approximate-math"> {
  let summary = "Replace libm calls by inline polynomial approximations";
  let description = [{
    exp, erf, tanh, log, sin, ... become MLIR's polynomial approximations
    (accurate to a few ULP in f32): no call per element, and loops the LLVM
    vectorizer can turn into AVX code. Runs before math-to-LLVM/libm.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

def ConvolutionsToNHWCPass : Pass<"pith-convolutions-to-nhwc", "mlir::func::FuncOp"> {
  let summary = "Run 2-D convolutions, pooling and the elementwise work between them channels-last";
  let description = [{
    oneDNN's fast f32 convolutions want NHWC images. Rewrites each static f32
    2-D convolution (one group, or depthwise) as a generic over an NHWC image
    and the original FCHW weights, tagged `pith.kernel` for
    pith-linalg-to-kernel-calls; NCHW max/sum pooling as NHWC pooling; and
    moves zero padding and all-parallel elementwise ops whose 4-D operand is
    already NHWC into NHWC too, so that consecutive layers never convert.
    Other users read an NCHW transpose; unused ones are erased.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect"];
}

def StaticResultsToOutParamsPass : Pass<"pith-static-results-to-out-params", "mlir::ModuleOp"> {
  let summary = "Caller-allocated outputs for graphs whose output shapes are static";
  let description = [{
    Upstream's buffer-results-to-out-params, applied to the functions whose
    results all have static shapes (the caller allocates them; statically
    sized results are written in place). A graph with a symbolic output
    dimension keeps returning its outputs: only the run knows their sizes,
    and the runtime takes ownership of the returned buffers.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def StridedCopiesToLinalgPass : Pass<"pith-strided-copies-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Turn memref.copy with a strided side into linalg.copy";
  let description = [{
    Bufferization writes a padded or sliced tensor with memref.copy into a
    strided view. Lowered as is, such a copy calls MLIR's generic runtime
    memrefCopy, which walks the elements one by one through their strides;
    as linalg.copy it becomes a loop nest that is parallelized and
    vectorized like any other. Copies between contiguous buffers stay
    memref.copy (a memcpy), unless `all-copies` is set: on the GPU every
    copy must become a kernel.
  }];
  let options = [
    Option<"allCopies", "all-copies", "bool", "false",
           "Also turn copies between contiguous buffers into linalg.copy">
  ];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def ExpandToONNXPass : Pass<"pith-expand-to-onnx", "mlir::ModuleOp"> {
  let summary = "Rewrite pith ops as standard onnx ops";
  let description = [{
    What each pith op means in standard ONNX, for the CPU pipeline and for
    export: parameters become one onnx.Initializer per graph function
    (shared weights stay one initializer with several consumers), a factored
    linear map two MatMuls (and an Add for its bias), checkpoints the
    identity; precision marks are dropped.
  }];
  let dependentDialects = ["pith::ONNX::ONNXDialect"];
}

def WidenConvolutionsPass : Pass<"pith-widen-convolutions", "mlir::ModuleOp"> {
  let summary = "Compute fp16/bf16 convolutions in f32 between casts";
  let description = [{
    A Conv or ConvTranspose of 16-bit floats (what pith-mixed-precision
    makes) becomes Cast to f32, the same op in f32, and Cast back: products
    of 16-bit values are exact in f32 and their sum accumulates there, as
    `#pith.precision<compute = f16|bf16, accumulate = f32>` says, and the
    convolution runs in the tuned f32 kernel. Code generation only; export
    keeps the low-precision op.
  }];
  let dependentDialects = ["pith::ONNX::ONNXDialect"];
}

def PrintCostPass : Pass<"pith-print-cost", "mlir::ModuleOp"> {
  let summary = "Print the cost model's report of the module";
  let description = [{
    Parameters (shared ones once), weight bytes by type, MACs, FLOPs and
    activation memory per layer and in total (pith/Analysis/CostModel.h),
    for the module as it is at this point of a pipeline: to test the cost
    model on any IR, or to watch a pipeline's effect.
  }];
  let options = [
    Option<"json", "json", "bool", /*default=*/"false", "Print JSON instead of a table">,
  ];
}

def LiftParametersPass : Pass<"pith-lift-parameters", "mlir::ModuleOp"> {
  let summary = "Make float weight initializers pith parameters";
  let description = [{
    Each float onnx.Initializer (main graph and subgraphs) becomes a
    module-level pith.parameter named after it (sources = [its name]) read
    through pith.use: the form the weight transforms work on. Export and the
    CPU pipeline turn parameters back into initializers
    (pith-expand-to-onnx), so lifting alone changes nothing in the model.
  }];
  let dependentDialects = ["pith::dialect::PithDialect"];
}

def ParallelizeLoopsPass : Pass<"pith-parallelize-loops", "mlir::func::FuncOp"> {
  let summary = "Choose which scf.parallel loops run on several threads";
  let description = [{
    Keeps, of each outermost scf.parallel nest, the fewest leading dimensions
    that give every thread several chunks of work, and turns the remaining
    dimensions, nested parallel loops and nests too small to pay for a
    fork/join into scf.for. What stays parallel becomes OpenMP
    work-sharing loops (convert-scf-to-openmp); what became scf.for keeps
    its innermost, contiguous dimension as a plain loop LLVM vectorizes.
  }];
  let options = [
    Option<"minIterations", "min-iterations", "int64_t", /*default=*/"16384",
           "Nests with fewer iterations in all (parallel and inner loops "
           "together) run on one thread">,
    Option<"minChunks", "min-chunks", "int64_t", /*default=*/"64",
           "Parallel iterations to keep at least, so threads balance">,
  ];
  let dependentDialects = ["mlir::scf::SCFDialect"];
}

#endif // PITH_TRANSFORMS_PASSES_TD
