/**
 * A prefix-scoped weight builder (candle's VarBuilder): a block asks for each of its tensors once,
 * by its name under the block's prefix and with its shape, and that one declaration drives
 * everything that names weights: loading with strict checks (a checkpoint source), seeded random
 * weights (tests, benchmarks), the shapes of a spec without allocating, the model's named weights
 * (saving, fingerprints) and its projection modules (LoRA targeting, PEFT names, merging, the
 * optimizer's names).
 *
 *   const attn = vb.pp("model").pp("layers").pp(3).pp("self_attn");
 *   attn.linear("q_proj", C, H * D, bias);   // model.layers.3.self_attn.q_proj.weight [H·D, C] (+ .bias)
 *   attn.get([D], "q_norm.weight", normInit); // model.layers.3.self_attn.q_norm.weight [D]
 */
import { Tensor } from "../tensor/tensor.js";
import type { LinearLayer } from "./linear.js";

/** How a random source fills a tensor: N(0, std²) (projections, embeddings, biases) or a norm's weight around `center`. */
export type Init = { kind: "normal" } | { kind: "norm"; center: number };
export const NORMAL_INIT: Init = { kind: "normal" };

export interface WeightSource {
  /** The tensor at the full path, of exactly `shape` (a checkpoint source checks both and names them). */
  tensor(path: string, shape: readonly number[], init: Init): Tensor;
}

/** One declared tensor: its full path and shape, and its live value (merging LoRA replaces a projection's weight). */
export interface DeclaredTensor {
  path: string;
  shape: readonly number[];
  current(): Tensor;
}

/** A declared projection: its module path (`model.layers.0.self_attn.q_proj`) and the layer object the blocks run. */
export interface DeclaredLinear {
  path: string;
  linear: LinearLayer;
}

/** Everything a model declared, in declaration order (the order of its named weights). */
export class Declarations {
  readonly tensors: DeclaredTensor[] = [];
  readonly linears: DeclaredLinear[] = [];

  /** The shapes by path. */
  shapes(): Map<string, number[]> {
    return new Map(this.tensors.map((t) => [t.path, [...t.shape]]));
  }
}

export class WeightBuilder {
  constructor(
    private readonly source: WeightSource,
    readonly declared = new Declarations(),
    readonly prefix = "",
  ) {}

  /** The builder of a sub-module: `pp("self_attn")`, `pp(3)`. */
  pp(name: string | number): WeightBuilder {
    return new WeightBuilder(this.source, this.declared, this.path(String(name)));
  }

  /** The full path of `name` under this prefix. */
  path(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  /** A tensor that never changes after loading (norm weights, embeddings). */
  get(shape: readonly number[], name: string, init: Init = NORMAL_INIT): Tensor {
    const path = this.path(name);
    const t = this.source.tensor(path, shape, init);
    this.declared.tensors.push({ path, shape, current: () => t });
    return t;
  }

  /**
   * nn.Linear(inDim, outDim, bias) at `name`: weight [outDim, inDim] as stored, bias [outDim] in
   * float32 (as the kernels add it). The returned layer is the one LoRA wraps and merging updates.
   */
  linear(name: string, inDim: number, outDim: number, bias: boolean): LinearLayer {
    const vb = this.pp(name);
    const wPath = vb.path("weight"), bPath = vb.path("bias");
    const weight = this.source.tensor(wPath, [outDim, inDim], NORMAL_INIT);
    const lin: LinearLayer = { weight, bias: bias ? this.source.tensor(bPath, [outDim], NORMAL_INIT).toF32() : null, lora: null };
    this.declared.tensors.push({ path: wPath, shape: [outDim, inDim], current: () => lin.weight });
    if (lin.bias) this.declared.tensors.push({ path: bPath, shape: [outDim], current: () => lin.bias! });
    this.declared.linears.push({ path: vb.prefix, linear: lin });
    return lin;
  }
}

/** A source that allocates nothing: for the shapes a spec implies (weightShapes, parameter counts). */
export const SHAPES_ONLY: WeightSource = {
  tensor: () => new Tensor(new Float32Array(0), [0]),
};
