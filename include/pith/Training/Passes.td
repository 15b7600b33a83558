//===- Passes.td - Training passes -------------------------*- tablegen -*-===//
//
// Passes that turn an inference model into a training step: the forward
// graph, a loss, its gradient with respect to every trained weight, and an
// optimizer update, all in standard ONNX ops.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_TRAINING_PASSES_TD
#define PITH_TRAINING_PASSES_TD

include "mlir/Pass/PassBase.td"

def AutodiffPass : Pass<"pith-autodiff", "mlir::ModuleOp"> {
  let summary = "Build a training step: loss, reverse-mode gradients, optimizer update";
  let description = [{
    Turns the main graph of a model with fixed input shapes into one
    training step. Float initializers of rank 1 or more that the loss
    depends on become inputs (under their names) and are trained; `freeze`
    keeps some as they are. The loss reads one model output:

    - `cross-entropy`: the output holds class scores along its last axis,
      and a new int64 input `labels` (the output's shape without that axis)
      the classes; the loss is the mean over rows of -log softmax at the
      label (torch.nn.CrossEntropyLoss);
    - `mse`: a new input `targets` of the output's type; the mean of the
      squared differences;
    - `output`: the output is the loss (one float32 element).

    Gradients come from reverse-mode differentiation over the ops between
    the parameters and the loss; an op there without a gradient rule is an
    error naming the node and a parameter it lies after. The update is
    torch's: `adamw` (inputs `learning_rate`, `step` counting from 1, and
    per parameter `NAME.adam_m`, `NAME.adam_v`) or `sgd` (`learning_rate`,
    and `NAME.momentum` when momentum is not 0). Outputs: `loss`, then
    `NAME.next` for every parameter and state input, which a runtime feeds
    back as `NAME` on the next step. With `optimizer=none` the outputs are
    `loss` and `NAME.grad`.

    ```mlir
    // before: y = Gemm(x, w, b) with initializers w, b
    // after:  (x, labels, learning_rate, step, w, b, w.adam_m, w.adam_v, ...)
    //           -> (loss, w.next, w.adam_m.next, w.adam_v.next, b.next, ...)
    ```
  }];
  let options = [
    Option<"loss", "loss", "std::string", /*default=*/"\"cross-entropy\"",
           "'cross-entropy', 'mse' or 'output'">,
    Option<"lossOutput", "loss-output", "std::string", /*default=*/"\"\"",
           "The model output the loss reads (default: the first)">,
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"adamw\"",
           "'adamw', 'sgd' or 'none' (outputs the gradients)">,
    Option<"momentum", "momentum", "double", /*default=*/"0.9", "SGD momentum">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"-1",
           "Weight decay (default: 0.01 for adamw, 0 for sgd)">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9", "AdamW's first-moment decay">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999", "AdamW's second-moment decay">,
    Option<"epsilon", "epsilon", "double", /*default=*/"1e-8", "AdamW's denominator term">,
    Option<"clipNorm", "clip-norm", "double", /*default=*/"0",
           "Scale the gradients down to this global L2 norm when it is larger, as "
           "torch.nn.utils.clip_grad_norm_ (0: no clipping)">,
    ListOption<"freeze", "freeze", "std::string",
               "Initializers to keep as they are (not trained)">,
  ];
  let dependentDialects = ["pith::ONNX::ONNXDialect"];
}

def RematPass : Pass<"pith-remat", "mlir::ModuleOp"> {
  let summary = "Recompute activations in the backward pass to fit a memory budget";
  let description = [{
    Acts on a training step from pith-autodiff. An activation (a forward
    value a backward op reads) is either kept from the forward pass to its
    last backward reader, or dropped and recomputed: its producer is cloned
    right before the first backward op that reads it (recursively for the
    dropped values that producer reads), and later backward readers reuse
    the clone. Clones carry `pith.recompute = "NODE"`.

    The budget bounds the activation memory: what the backward pass holds,
    kept activations plus recomputed copies of activations, counted per
    backward op (what is alive as it begins plus every copy recomputed for
    it), over the step's schedule (each value freed after its last reader,
    as the buffer planner does). Values no backward op reads are working
    memory, of the forward pass and of recomputation alike, and count in
    "all intermediates". `budget` is bytes (`12MB`) or a fraction of the
    keep-everything activation memory (`0.5`); cost is the recomputed
    FLOPs. Solvers:
    - `greedy` drops, while over the budget, the activation that lowers the
      memory most per recomputed FLOP, then searches locally (swaps);
    - `ilp` solves the drop decisions as a mixed-integer program with
      COIN-OR CBC (exact for this cost model, on any graph), begun from
      greedy's choice, within `time-limit` seconds; it keeps greedy's choice
      if it finds nothing better, and proves a budget infeasible with the
      smallest reachable memory;
    - `chain`: Chen et al.'s and Revolve's dynamic program over checkpoints,
      optimal when the forward pass is a chain (an error otherwise);
    - `exact` tries every subset of up to 16 ops whose activations may go;
    - `sqrt` keeps every k-th producing op's activations (k = ceil(sqrt(n)),
      Chen et al.) regardless of budget; `none` keeps everything.
    A budget a solver cannot reach is an error stating the smallest it
    reaches ("any choice" when proven, by `ilp` or `exact`). `keep` and
    `recompute` force nodes (by ONNX node name) either way.

    ```mlir
    %h = onnx.Relu(%x)                                // forward
    ...
    %h2 = onnx.Relu(%x) {pith.recompute = "relu1"}    // just before its use
    %g = onnx.Mul(%dy, %mask_of_h2) {pith.backward}
    ```
  }];
  let options = [
    Option<"budget", "budget", "std::string", /*default=*/"\"\"",
           "Activation memory: bytes (12MB) or a fraction of keeping everything (0.5)">,
    Option<"solver", "solver", "std::string", /*default=*/"\"greedy\"",
           "'greedy', 'ilp', 'chain', 'exact', 'sqrt' or 'none'">,
    Option<"timeLimit", "time-limit", "double", /*default=*/"60",
           "Seconds the integer program (solver=ilp) may search">,
    ListOption<"keep", "keep", "std::string", "Nodes whose activations are always kept">,
    ListOption<"recompute", "recompute", "std::string",
               "Nodes whose activations are always recomputed">,
  ];
  let dependentDialects = ["pith::ONNX::ONNXDialect"];
}

#endif // PITH_TRAINING_PASSES_TD
