/** The gated MLP of Llama-style decoders: down(act(gate(x)) · up(x)). */
import { gatedActivation } from "../../tensor/ops/index.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { LinearLayer } from "../linear.js";
import type { WeightBuilder } from "../weight-builder.js";
import type { LayerCall } from "./call.js";

export interface MlpOptions {
  hiddenSize: number;
  intermediateSize: number;
  activation: "silu" | "gelu_tanh";
  bias: boolean;
}

export class GatedMlp {
  readonly gate_proj: LinearLayer;
  readonly up_proj: LinearLayer;
  readonly down_proj: LinearLayer;

  constructor(vb: WeightBuilder, readonly o: MlpOptions) {
    this.gate_proj = vb.linear("gate_proj", o.hiddenSize, o.intermediateSize, o.bias);
    this.up_proj = vb.linear("up_proj", o.hiddenSize, o.intermediateSize, o.bias);
    this.down_proj = vb.linear("down_proj", o.intermediateSize, o.hiddenSize, o.bias);
  }

  forward(x: Tensor, c: LayerCall): Tensor {
    const act = gatedActivation(this.o.activation, c.linear("gate_proj", this.gate_proj, x), c.linear("up_proj", this.up_proj, x));
    return c.linear("down_proj", this.down_proj, act);
  }
}
