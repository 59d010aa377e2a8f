// The trainable part of a ViT: timm's `pre_logits` (Linear + Tanh, when the model has one) and
// `head` (Linear), on the backbone's features. Forward, cross-entropy and backward in float64 over
// float32 parameters, which are what PyTorch stores and what the state dict holds.

/** One Linear layer, weight [out, in] (torch.nn.Linear's layout) and bias [out]. */
export interface Linear {
  /** The module's state-dict name: `pre_logits.fc` or `head`. */
  readonly name: string;
  readonly in: number;
  readonly out: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/** The layers in order; every layer but the last is followed by tanh (timm's pre_logits). */
export type Head = readonly Linear[];

/** What the forward pass keeps for the backward pass: each layer's input, [n, in]. */
export interface Activations {
  readonly inputs: readonly Float64Array[];
  readonly logits: Float64Array;
}

/** y[n, out] = x[n, in] W^T + b, in float64. */
function linear(l: Linear, x: Float64Array, n: number): Float64Array {
  const y = new Float64Array(n * l.out);
  for (let i = 0; i < n; i++) {
    const xi = i * l.in;
    for (let o = 0; o < l.out; o++) {
      const wo = o * l.in;
      let s = l.bias[o]!;
      for (let k = 0; k < l.in; k++) s += x[xi + k]! * l.weight[wo + k]!;
      y[i * l.out + o] = s;
    }
  }
  return y;
}

/** The head on a batch of features [n, D]. */
export function headForward(head: Head, features: Float32Array | Float64Array, n: number): Activations {
  const inputs: Float64Array[] = [];
  let x: Float64Array = Float64Array.from(features);
  for (const [i, l] of head.entries()) {
    if (x.length !== n * l.in) throw new Error(`${l.name}: ${x.length} inputs for a batch of ${n} x ${l.in}`);
    inputs.push(x);
    x = linear(l, x, n);
    if (i < head.length - 1) for (let j = 0; j < x.length; j++) x[j] = Math.tanh(x[j]!);
  }
  return { inputs, logits: x };
}

export interface LossResult {
  /** torch.nn.CrossEntropyLoss() (mean over the batch). */
  readonly loss: number;
  /** d loss / d logits, [n, classes]. */
  readonly grad: Float64Array;
  /** How many rows have their label as the first maximum (torch.max(pred, dim=1)[1] == label). */
  readonly correct: number;
}

export function crossEntropy(logits: Float64Array, labels: ArrayLike<number>, n: number): LossResult {
  const c = logits.length / n;
  const grad = new Float64Array(logits.length);
  let loss = 0, correct = 0;
  for (let i = 0; i < n; i++) {
    const row = i * c;
    let max = -Infinity, arg = 0;
    for (let j = 0; j < c; j++) if (logits[row + j]! > max) { max = logits[row + j]!; arg = j; }
    let z = 0;
    for (let j = 0; j < c; j++) z += Math.exp(logits[row + j]! - max);
    const y = labels[i]!;
    loss += Math.log(z) + max - logits[row + y]!;
    for (let j = 0; j < c; j++) grad[row + j] = (Math.exp(logits[row + j]! - max) / z - (j === y ? 1 : 0)) / n;
    if (arg === y) correct++;
  }
  return { loss: loss / n, grad, correct };
}

/** Gradients of every layer's weight and bias, in the order of `params(head)`. */
export function headBackward(head: Head, acts: Activations, gradLogits: Float64Array, n: number): Float64Array[] {
  const grads: Float64Array[] = new Array(head.length * 2);
  let dy = gradLogits;
  for (let li = head.length - 1; li >= 0; li--) {
    const l = head[li]!;
    const x = acts.inputs[li]!;
    const dw = new Float64Array(l.out * l.in), db = new Float64Array(l.out);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < l.out; o++) {
        const g = dy[i * l.out + o]!;
        if (g === 0) continue;
        db[o] += g;
        const wo = o * l.in, xi = i * l.in;
        for (let k = 0; k < l.in; k++) dw[wo + k] += g * x[xi + k]!;
      }
    }
    grads[2 * li] = dw;
    grads[2 * li + 1] = db;
    if (li === 0) break;
    // Into the previous layer's output, through its tanh: d tanh(u) = 1 - tanh(u)^2, and x = tanh(u).
    const dx = new Float64Array(n * l.in);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < l.out; o++) {
        const g = dy[i * l.out + o]!;
        if (g === 0) continue;
        const wo = o * l.in, xi = i * l.in;
        for (let k = 0; k < l.in; k++) dx[xi + k] += g * l.weight[wo + k]!;
      }
    }
    for (let j = 0; j < dx.length; j++) dx[j] *= 1 - x[j]! * x[j]!;
    dy = dx;
  }
  return grads;
}

/** The parameters in state-dict order of the layers: [l0.weight, l0.bias, l1.weight, ...]. */
export function headParams(head: Head): { readonly name: string; readonly shape: readonly number[]; readonly data: Float32Array }[] {
  return head.flatMap((l) => [
    { name: `${l.name}.weight`, shape: [l.out, l.in], data: l.weight },
    { name: `${l.name}.bias`, shape: [l.out], data: l.bias },
  ]);
}
