/**
 * The gated MLP of Llama-style decoders: down(act(gate(x)) · up(x)); with Phi-3's fused
 * gate_up_proj, one product whose first half of outputs is the gate and second the up branch.
 */
import { gatedActivation, narrow } from "../../tensor/ops/index.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { LinearLayer } from "../linear.js";
import type { LinearModuleName } from "../names.js";
import type { WeightBuilder } from "../weight-builder.js";
import type { LayerCall } from "./call.js";

export interface MlpOptions {
  hiddenSize: number;
  intermediateSize: number;
  activation: "silu" | "gelu_tanh";
  bias: boolean;
  /** One stored `gate_up_proj` weight [2·I, C] (Phi-3). */
  fusedGateUp: boolean;
}

export class GatedMlp {
  /** The projections by module name: the live objects LoRA wraps. */
  readonly linears: Partial<Record<LinearModuleName, LinearLayer>>;
  readonly down_proj: LinearLayer;
  /** x → gate, up [.., I]. */
  private readonly project: (x: Tensor, c: LayerCall) => [Tensor, Tensor];

  constructor(vb: WeightBuilder, readonly o: MlpOptions) {
    const { hiddenSize: C, intermediateSize: I } = o;
    if (o.fusedGateUp) {
      const gate_up_proj = vb.linear("gate_up_proj", C, 2 * I, o.bias);
      this.linears = { gate_up_proj };
      this.project = (x, c) => {
        const gu = c.linear("gate_up_proj", gate_up_proj, x);
        return [narrow(gu, -1, 0, I), narrow(gu, -1, I, I)];
      };
    } else {
      const gate_proj = vb.linear("gate_proj", C, I, o.bias);
      const up_proj = vb.linear("up_proj", C, I, o.bias);
      this.linears = { gate_proj, up_proj };
      this.project = (x, c) => [c.linear("gate_proj", gate_proj, x), c.linear("up_proj", up_proj, x)];
    }
    this.down_proj = vb.linear("down_proj", I, C, o.bias);
    this.linears = { ...this.linears, down_proj: this.down_proj };
  }

  forward(x: Tensor, c: LayerCall): Tensor {
    const [gate, up] = this.project(x, c);
    return c.linear("down_proj", this.down_proj, gatedActivation(this.o.activation, gate, up));
  }
}
