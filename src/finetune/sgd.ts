// torch.optim.SGD (momentum, weight decay; dampening 0, no Nesterov) and the tutorial's cosine
// LambdaLR, with PyTorch's semantics: weight decay is added to the gradient, the momentum buffer starts
// as the first step's (decayed) gradient, and the schedule steps once per epoch.

export interface SgdOptions {
  readonly momentum: number;
  readonly weightDecay: number;
}

/**
 * One parameter group. Parameters and momentum buffers are float32, as torch keeps them; each update
 * is computed in float64 and rounded once when stored.
 */
export class Sgd {
  /** The momentum buffers (torch's `momentum_buffer`), undefined before the first step. */
  buffers: Float32Array[] | undefined;

  constructor(readonly params: readonly Float32Array[], readonly options: SgdOptions, buffers?: Float32Array[]) {
    this.buffers = buffers;
  }

  /** p -= lr * buf, where buf = momentum * buf + (grad + weight_decay * p) (buf = grad + wd * p at the first step). */
  step(grads: readonly Float64Array[], lr: number): void {
    const { momentum, weightDecay } = this.options;
    const first = this.buffers === undefined;
    if (first) this.buffers = this.params.map((p) => new Float32Array(p.length));
    this.params.forEach((p, i) => {
      const g = grads[i]!, buf = this.buffers![i]!;
      if (g.length !== p.length) throw new Error(`gradient ${i} has ${g.length} values for ${p.length} parameters`);
      for (let j = 0; j < p.length; j++) {
        const d = g[j]! + weightDecay * p[j]!;
        const b = momentum === 0 ? d : first ? d : momentum * buf[j]! + d;
        buf[j] = b;
        p[j] = p[j]! - lr * buf[j]!;
      }
    });
  }
}

/** The tutorial's cosine factor: ((1 + cos(epoch * pi / epochs)) / 2) * (1 - lrf) + lrf. */
export function cosineFactor(epoch: number, epochs: number, lrf: number): number {
  return ((1 + Math.cos((epoch * Math.PI) / epochs)) / 2) * (1 - lrf) + lrf;
}

/** LambdaLR's learning rate during `epoch` (0-based): base_lr * lambda(epoch), the scheduler stepped once per epoch. */
export function learningRate(baseLr: number, epoch: number, epochs: number, lrf: number): number {
  return baseLr * cosineFactor(epoch, epochs, lrf);
}
