/** RMSNorm over the last dim: Llama's x·rstd·w, or Gemma's x·rstd·(1 + w). */
import { rmsnorm } from "../../tensor/ops/index.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { WeightBuilder } from "../weight-builder.js";

export interface NormOptions {
  eps: number;
  /** Gemma's (1 + w). */
  addOne: boolean;
}

export class RmsNorm {
  readonly weight: Tensor;

  /** The norm whose weight [dim] is `<prefix>.weight`. */
  constructor(vb: WeightBuilder, dim: number, readonly o: NormOptions) {
    this.weight = vb.get([dim], "weight", { kind: "norm", center: o.addOne ? 0 : 1 });
  }

  forward(x: Tensor): Tensor {
    return rmsnorm(x, this.weight, this.o.eps, this.o.addOne);
  }
}
