/**
 * AdamW with PyTorch's semantics (torch.optim.AdamW, the HF Trainer's default): decoupled weight
 * decay p ← p·(1 − lr·wd), then Adam with bias correction:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
 * (ε is added after the √v correction, exactly as PyTorch orders it). State is float32, like
 * PyTorch's for float32 parameters, and can be saved and restored bit for bit (resume).
 */
import type { Tensor } from "../../tensor/tensor.js";

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

export interface AdamWState {
  step: number;
  /** Per parameter name: first and second moments. */
  expAvg: Map<string, Float32Array>;
  expAvgSq: Map<string, Float32Array>;
}

export class AdamW {
  readonly options: AdamWOptions;
  private state: AdamWState;

  constructor(
    /** Trainable tensors by a stable name (their PEFT names), the keys of saved state. */
    readonly params: ReadonlyMap<string, Tensor>,
    options: Partial<AdamWOptions> = {},
  ) {
    this.options = { ...ADAMW_DEFAULTS, ...options };
    const o = this.options;
    if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1)) throw new Error(`AdamW: betas must be in [0, 1), got ${o.beta1}, ${o.beta2}`);
    if (!(o.eps > 0)) throw new Error(`AdamW: eps must be positive, got ${o.eps}`);
    if (!(o.weightDecay >= 0)) throw new Error(`AdamW: weight decay must be ≥ 0, got ${o.weightDecay}`);
    const zeros = () => new Map([...params].map(([n, p]) => [n, new Float32Array(p.size)]));
    this.state = { step: 0, expAvg: zeros(), expAvgSq: zeros() };
  }

  get stepCount(): number {
    return this.state.step;
  }

  /** One update with learning rate `lr` from each parameter's `.grad` (a missing grad counts as zero, as PyTorch skips it). */
  step(lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.options;
    const t = ++this.state.step;
    const bc1 = 1 - beta1 ** t;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    const stepSize = lr / bc1;
    for (const [name, p] of this.params) {
      if (!p.grad) continue;
      const w = p.f32;
      const g = p.grad.f32;
      const m = this.state.expAvg.get(name)!;
      const v = this.state.expAvgSq.get(name)!;
      const decay = 1 - lr * weightDecay;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]!;
        // Math.fround after each PyTorch op: the same float32 roundings as its kernels.
        const mi = (m[i] = Math.fround(Math.fround(beta1 * m[i]!) + Math.fround((1 - beta1) * gi)));
        const vi = (v[i] = Math.fround(Math.fround(beta2 * v[i]!) + Math.fround((1 - beta2) * gi * gi)));
        const denom = Math.fround(Math.fround(Math.sqrt(vi) / bc2Sqrt) + eps);
        w[i] = Math.fround(Math.fround(w[i]! * decay) - Math.fround(stepSize * Math.fround(mi / denom)));
      }
    }
  }

  exportState(): AdamWState {
    return this.state;
  }

  /** Restores saved state; every parameter must be present with its size. */
  importState(s: AdamWState, source = "optimizer state"): void {
    for (const [name, p] of this.params) {
      const m = s.expAvg.get(name);
      const v = s.expAvgSq.get(name);
      if (!m || !v) throw new Error(`${source}: no moments for parameter "${name}"`);
      if (m.length !== p.size || v.length !== p.size) throw new Error(`${source}: moments of "${name}" have ${m.length} elements, the parameter ${p.size}`);
    }
    for (const name of s.expAvg.keys()) if (!this.params.has(name)) throw new Error(`${source}: moments for "${name}", which is not a trainable parameter of this run`);
    this.state = { step: s.step, expAvg: new Map(s.expAvg), expAvgSq: new Map(s.expAvgSq) };
  }
}
