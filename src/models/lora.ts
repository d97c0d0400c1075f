/**
 * PEFT LoRA adapters on a DecoderModel: attach (y = Wx + s·B·A·x at run time) or merge
 * (W ← W + s·B·A, kept in W's storage dtype, as the reference's merge_and_unload under bf16).
 * Adapter module paths are matched by the part from "layers." on, because an adapter trained on
 * the bare decoder (LLM2Vec's `model.model`) names `layers.0…` while one trained on a
 * *ForCausalLM names `model.layers.0…`.
 */
import { isTargetModule, type LoraAdapter, type LoraLayer } from "../formats/peft.js";
import type { LoadedTensor } from "../formats/safetensors.js";
import { noGrad } from "../tensor/autograd.js";
import { fromFloat32, toFloat32 } from "../tensor/dtype.js";
import { matmul } from "../tensor/ops/index.js";
import { Rng } from "../tensor/random.js";
import { shapeStr, Tensor } from "../tensor/tensor.js";
import type { AdapterSet, DecoderModel } from "./decoder.js";
import type { LinearLayer, LoraWeights } from "./linear.js";
import { layerKey, peftModulePath } from "./names.js";
import { FUSED_MODULES, PROJECTION_NAMES } from "./names.js";
import type { LinearModule } from "./spec.js";


/** Modules an encoder never runs (the LM head): an adapter may target them harmlessly. */
const UNUSED_BY_ENCODER = /(^|\.)lm_head$/;

/** One adapter module resolved against the model: the projection it wraps and its factors. */
interface ResolvedModule {
  layer: number;
  module: LinearModule;
  lin: LinearLayer;
  A: Tensor;
  B: Tensor;
  scaling: number;
}

/** Checks an adapter against the model and pairs each of its modules with the projection it wraps. */
function resolveAdapter(model: DecoderModel, adapter: LoraAdapter, source: string): ResolvedModule[] {
  if (adapter.config.fanInFanOut) throw new Error(`${source}: fan_in_fan_out adapters (GPT-2 Conv1D) do not apply to ${model.spec.family} models`);
  // The projections the model's family declared, by the part of their path adapters agree on.
  const byKey = new Map<string, { layer: number; module: LinearModule; lin: LinearLayer }>();
  for (const [path, lin] of model.linearModules()) {
    const m = /(?:^|\.)layers\.(\d+)\..*\.([^.]+)$/.exec(path);
    if (m) byKey.set(layerKey(path)!, { layer: Number(m[1]), module: m[2] as LinearModule, lin });
  }
  if (adapter.layers.size === 0) throw new Error(`${source}: the adapter holds no LoRA weights (an empty adapter would change nothing)`);
  const out: ResolvedModule[] = [];
  for (const [modulePath, l] of adapter.layers) {
    if (UNUSED_BY_ENCODER.test(modulePath)) continue;
    // PEFT only creates LoRA modules that target_modules and layers_to_transform select; weights
    // for any other module are not part of the adapter as PEFT would load it.
    if (!isTargetModule(adapter.config, modulePath) && !isTargetModule(adapter.config, `model.${modulePath}`))
      throw new Error(`${source}: adapter module "${modulePath}" is not selected by its target_modules ${JSON.stringify(adapter.config.targetModules)}`);
    const layerIdx = /(?:^|\.)layers\.(\d+)\./.exec(modulePath);
    if (adapter.config.layersToTransform && (!layerIdx || !adapter.config.layersToTransform.includes(Number(layerIdx[1]))))
      throw new Error(`${source}: adapter module "${modulePath}" is outside its layers_to_transform ${JSON.stringify(adapter.config.layersToTransform)}`);
    const key = layerKey(modulePath);
    const target = key ? byKey.get(key) : undefined;
    if (!target)
      throw new Error(
        `${source}: adapter module "${modulePath}" does not exist in this ${model.spec.family} model of ${model.layers.length} layers (its projections are ${projectionSummary(model)}): the adapter was made for another architecture or size`,
      );
    const [outDim, inp] = target.lin.weight.shape as [number, number];
    if (l.a.shape[1] !== inp || l.b.shape[0] !== outDim)
      throw new Error(`${source}: adapter module "${modulePath}" has A ${shapeStr(l.a.shape)} and B ${shapeStr(l.b.shape)}, but this ${model.spec.family} model's weight is ${shapeStr(target.lin.weight.shape)}: the adapter was made for another architecture or size`);
    const A = new Tensor(toFloat32(l.a.data, l.a.dtype), l.a.shape, { name: `${modulePath}.lora_A.weight` });
    const B = new Tensor(toFloat32(l.b.data, l.b.dtype), l.b.shape, { name: `${modulePath}.lora_B.weight` });
    out.push({ ...target, A, B, scaling: l.scaling });
  }
  return out;
}

/** `layers.N.self_attn.{q_proj, …}` and `layers.N.mlp.{…}`: the projection names of layer 0, for errors. */
function projectionSummary(model: DecoderModel): string {
  const groups = new Map<string, string[]>();
  for (const [path] of model.linearModules()) {
    const m = /(?:^|\.)layers\.0\.(.*)\.([^.]+)$/.exec(path);
    if (m) groups.set(m[1]!, [...(groups.get(m[1]!) ?? []), m[2]!]);
  }
  return [...groups].map(([g, names]) => `layers.N.${g}.{${names.join(", ")}}`).join(" and ");
}

export function applyLoraAdapter(model: DecoderModel, adapter: LoraAdapter, opts: { merge: boolean; source?: string }): { applied: number } {
  const mods = resolveAdapter(model, adapter, opts.source ?? "adapter");
  for (const { lin, A, B, scaling } of mods) {
    if (opts.merge) mergeInto(lin, A, B, scaling);
    else attach(lin, { A, B, scaling, dropoutP: 0 });
  }
  return { applied: mods.length };
}

/**
 * Adapters held apart from the model (nothing attached, nothing merged), stacked in order, to be
 * chosen per forward (ForwardOptions.adapters): several sets can share one copy of the base.
 */
export function buildAdapterSet(model: DecoderModel, adapters: readonly { adapter: LoraAdapter; source: string }[]): AdapterSet {
  const layers = model.layers.map(() => Object.fromEntries(PROJECTION_NAMES.map((m) => [m, [] as LoraWeights[]])) as Record<LinearModule, LoraWeights[]>);
  for (const { adapter, source } of adapters)
    for (const { layer, module, A, B, scaling } of resolveAdapter(model, adapter, source)) layers[layer]![module].push({ A, B, scaling, dropoutP: 0 });
  return { layers };
}

/** W ← W + s·B·A in float32, stored back in W's dtype. */
export function mergeInto(lin: LinearLayer, A: Tensor, B: Tensor, scaling: number): void {
  if (lin.weight.quant) throw new Error(`merge: ${lin.weight.name ?? "a projection"} is quantized (${lin.weight.quant.kind}); adapters merge into unquantized weights only: load the f32/bf16 checkpoint (without quantize), or attach the adapter unmerged`);
  const delta = noGrad(() => matmul(B, A)).f32;
  const w = toFloat32(lin.weight.data, lin.weight.dtype);
  const merged = w === lin.weight.data ? new Float32Array(w) : w;
  for (let i = 0; i < merged.length; i++) merged[i] += scaling * delta[i]!;
  lin.weight = new Tensor(fromFloat32(merged, lin.weight.dtype), lin.weight.shape, { dtype: lin.weight.dtype, name: lin.weight.name });
}

/** Attaches a LoRA on top; one already attached moves down the stack (both keep applying). */
function attach(lin: LinearLayer, w: LoraWeights): void {
  if (lin.lora) lin.loraStack = [...(lin.loraStack ?? []), lin.lora];
  lin.lora = w;
}

/** Merges every attached adapter into its base weight and detaches it. */
export function mergeAttachedLora(model: DecoderModel): void {
  for (const [, lin] of model.linearModules()) {
    for (const l of lin.loraStack ?? []) mergeInto(lin, l.A, l.B, l.scaling);
    if (lin.lora) mergeInto(lin, lin.lora.A, lin.lora.B, lin.lora.scaling);
    lin.lora = null;
    lin.loraStack = [];
  }
}

export interface LoraInjectOptions {
  r: number;
  alpha: number;
  dropout: number;
  /** Module names (q_proj, …, down_proj, or a fused qkv_proj / gate_up_proj) to wrap; LLM2Vec wraps all seven (resolveLoraTargets). */
  targets: readonly string[];
  seed?: number;
}

/**
 * The target names as this model's projections: a fused projection (Phi-3's qkv_proj,
 * gate_up_proj) is targeted when named, or when all of its parts are (so LLM2Vec's seven
 * targets cover all four of Phi-3's projections); naming only some of its parts is refused, as
 * LoRA on the fused weight would adapt the others too. Names the model does not declare drop out.
 */
export function resolveLoraTargets(model: DecoderModel, targets: readonly string[]): string[] {
  const declared = new Set([...model.linearModules()].map(([p]) => p.slice(p.lastIndexOf(".") + 1)));
  const out = new Set(targets);
  for (const [fused, parts] of Object.entries(FUSED_MODULES)) {
    if (!declared.has(fused) || out.has(fused)) continue;
    const named = parts.filter((p) => out.has(p));
    if (named.length === parts.length) out.add(fused);
    else if (named.length > 0)
      throw new Error(`LoRA targets: ${named.join(", ")} ${named.length > 1 ? "are" : "is"} fused with ${parts.filter((p) => !out.has(p)).join(", ")} into ${fused} in this ${model.spec.family} model; target ${fused} (or all of ${parts.join(", ")})`);
  }
  return [...out].filter((t) => declared.has(t));
}

/**
 * Fresh trainable LoRA on the target projections, initialised as PEFT does (A kaiming-uniform
 * with a = √5, i.e. U(±1/√in); B = 0, so the model is unchanged until B trains). Base weights
 * are frozen. Returns the trainable tensors by their PEFT names.
 */
export function injectLora(model: DecoderModel, o: LoraInjectOptions): Map<string, Tensor> {
  const rng = new Rng(o.seed ?? 0);
  const params = new Map<string, Tensor>();
  const targets = resolveLoraTargets(model, o.targets);
  for (const [p, lin] of model.linearModules()) {
    lin.weight.requiresGrad = false;
    if (lin.bias) lin.bias.requiresGrad = false;
    if (!targets.some((t) => p.endsWith(`.${t}`))) continue;
    const [out, inp] = lin.weight.shape as [number, number];
    const bound = 1 / Math.sqrt(inp);
    const a = new Float32Array(o.r * inp);
    for (let i = 0; i < a.length; i++) a[i] = (2 * rng.next() - 1) * bound;
    const A = new Tensor(a, [o.r, inp], { requiresGrad: true, name: `${p}.lora_A.weight` });
    const B = new Tensor(new Float32Array(out * o.r), [out, o.r], { requiresGrad: true, name: `${p}.lora_B.weight` });
    attach(lin, { A, B, scaling: o.alpha / o.r, dropoutP: o.dropout });
    params.set(A.name!, A);
    params.set(B.name!, B);
  }
  return params;
}

/** The attached LoRA factors as PEFT would save them: module path (LLM2Vec's inner-model naming) → A, B. */
export function attachedLoraTensors(model: DecoderModel): Map<string, { a: LoadedTensor; b: LoadedTensor }> {
  const out = new Map<string, { a: LoadedTensor; b: LoadedTensor }>();
  for (const [p, lin] of model.linearModules()) {
    if (!lin.lora) continue;
    const { A, B } = lin.lora;
    out.set(peftModulePath(p), {
      a: { dtype: "f32", shape: [...A.shape], data: A.f32 },
      b: { dtype: "f32", shape: [...B.shape], data: B.f32 },
    });
  }
  return out;
}

/**
 * Copies a saved adapter's factors into the attached (trainable) LoRA tensors, in place, so an
 * optimizer holding those tensors continues from them (resume). Every attached module must be
 * in the adapter with the same shapes and scaling, and nothing else.
 */
export function loadAttachedLora(model: DecoderModel, adapter: LoraAdapter, source: string): void {
  const byKey = new Map<string, LoraLayer>();
  for (const [p, l] of adapter.layers) byKey.set(layerKey(p) ?? p, l);
  let used = 0;
  for (const [p, lin] of model.linearModules()) {
    if (!lin.lora) continue;
    const l = byKey.get(layerKey(p)!);
    if (!l) throw new Error(`${source}: no LoRA weights for module "${p}"`);
    for (const [which, saved, live] of [["lora_A", l.a, lin.lora.A], ["lora_B", l.b, lin.lora.B]] as const) {
      if (saved.shape.length !== live.rank || saved.shape.some((d, i) => d !== live.shape[i]))
        throw new Error(`${source}: tensor "${p}.${which}.weight" has shape ${shapeStr(saved.shape)}, this run's LoRA has ${shapeStr(live.shape)}`);
      live.f32.set(toFloat32(saved.data, saved.dtype));
    }
    if (Math.abs(l.scaling - lin.lora.scaling) > 1e-12) throw new Error(`${source}: module "${p}" has LoRA scaling ${l.scaling}, this run uses ${lin.lora.scaling}`);
    used++;
  }
  if (used !== adapter.layers.size) throw new Error(`${source}: the adapter has ${adapter.layers.size} modules, this run trains ${used}`);
}
