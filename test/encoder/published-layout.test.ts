/**
 * The published LLM2Vec layout (published-models.md), built from a tiny random Llama: a base folder
 * with safetensors; a `-mntp` folder as McGill ships it (PEFT adapter, no weights, a hand-added
 * config.json whose _name_or_path is meta-llama/Meta-Llama-3-8B-Instruct, tokenizer files); a
 * `-supervised` adapter. The reference's call shape must mean what the project's explicit shape
 * means, with the reference's template, and the loading errors must say what to pass.
 */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec, type FromPretrainedOptions } from "../../src/encoder/llm2vec.js";
import { merge } from "../../src/train/merge.js";
import { encoderOptionsFromFlags } from "../../src/cli/encoder-flags.js";
import { writeLoraAdapter } from "../../src/formats/peft.js";
import type { LoadedTensor } from "../../src/formats/safetensors.js";
import { writeSafetensors, type TensorToWrite } from "../../src/formats/safetensors-write.js";
import { randomDecoder } from "../../src/models/build.js";
import { specFromConfig } from "../../src/models/registry.js";
import { resolveModel } from "../../src/models/resolve.js";
import { LINEAR_MODULES } from "../../src/models/spec.js";
import { storiesFolder } from "../helpers/stories.js";
import { randn } from "../helpers/rng.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-published-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Llama-3's special tokens, added after the 512 of the stories260K tokenizer.
const SPECIALS = ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|end_of_text|>"];
const CONFIG = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 512 + SPECIALS.length,
  max_position_embeddings: 256,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
  torch_dtype: "float32",
};
const LLAMA3_INSTRUCT = "meta-llama/Meta-Llama-3-8B-Instruct";
const INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query:";
const TEXTS: [string, string][] = [[INSTRUCTION, "summit define"], ["", "Lily saw a big dog."]];

function writeTokenizer(dir: string): void {
  for (const f of ["tokenizer_config.json", "special_tokens_map.json"]) if (fs.existsSync(path.join(storiesFolder(), f))) fs.copyFileSync(path.join(storiesFolder(), f), path.join(dir, f));
  const tj = JSON.parse(fs.readFileSync(path.join(storiesFolder(), "tokenizer.json"), "utf8"));
  SPECIALS.forEach((content, i) => tj.added_tokens.push({ id: 512 + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  fs.writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tj));
}

function writeBase(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(CONFIG));
  const model = randomDecoder(specFromConfig(CONFIG, "config.json"), 7, "f32", 0.2);
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, t] of model.namedWeights()) tensors[name] = { dtype: t.dtype, shape: [...t.shape], data: t.data };
  writeSafetensors(path.join(dir, "model.safetensors"), tensors, { format: "pt" });
  writeTokenizer(dir);
}

/** A rank-4 LoRA on every projection, named as LLM2Vec's adapters on the bare decoder are. */
function writeAdapter(dir: string, seed: number, base: string | null): void {
  const shapes: Record<string, [number, number]> = { q_proj: [32, 32], k_proj: [16, 32], v_proj: [16, 32], o_proj: [32, 32], gate_proj: [64, 32], up_proj: [64, 32], down_proj: [32, 64] };
  const layers: Record<string, { a: LoadedTensor; b: LoadedTensor }> = {};
  for (let l = 0; l < CONFIG.num_hidden_layers; l++)
    for (const m of LINEAR_MODULES) {
      const [out, inp] = shapes[m]!;
      const group = ["gate_proj", "up_proj", "down_proj"].includes(m) ? "mlp" : "self_attn";
      layers[`layers.${l}.${group}.${m}`] = { a: { dtype: "f32", shape: [4, inp], data: randn(4 * inp, seed++, 0.3) }, b: { dtype: "f32", shape: [out, 4], data: randn(out * 4, seed++, 0.3) } };
    }
  writeLoraAdapter(dir, { r: 4, loraAlpha: 8, targetModules: [...LINEAR_MODULES], baseModelNameOrPath: base, layers });
}

/** McGill's -mntp folder: the adapter, a hand-added config.json naming the base, the tokenizer. */
function writeMntp(dir: string, base: string | null, name = LLAMA3_INSTRUCT): void {
  writeAdapter(dir, 100, base);
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...CONFIG, _name_or_path: name, architectures: ["LlamaEncoderModel"], auto_map: { AutoModel: "x--modeling_llama_encoder.LlamaEncoderModel" } }));
  writeTokenizer(dir);
}

const base = path.join(tmp, "base");
const mntp = path.join(tmp, "LLM2Vec-Meta-Llama-3-8B-Instruct-mntp");
const supervised = path.join(tmp, "LLM2Vec-Meta-Llama-3-8B-Instruct-mntp-supervised");
writeBase(base);
writeMntp(mntp, base);
writeAdapter(supervised, 500, LLAMA3_INSTRUCT);

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((v, i) => v.forEach((x, j) => (m = Math.max(m, Math.abs(x - b[i]![j]!)))));
  return m;
}

async function load(dir: string, opts: FromPretrainedOptions = {}): Promise<{ enc: LLM2Vec; notes: string[] }> {
  const notes: string[] = [];
  const enc = await LLM2Vec.fromPretrained(dir, { packWeightsMB: 0, ...opts, onNote: (l) => notes.push(l) });
  return { enc, notes };
}

describe("the reference's call shape", () => {
  it("a -mntp folder loads its base, merges its adapter first, then --adapter; equal to the explicit shape with the template", async () => {
    const ref = await load(mntp, { adapter: supervised });
    const r = ref.enc.resolved!;
    assert.equal(r.weightsDir, base);
    assert.deepEqual(r.adapters.map((a) => [a.dir, a.reason]), [[mntp, "model-folder"], [supervised, "requested"]]);
    assert.equal(r.tokenizerDir, mntp, "the reference takes the tokenizer from the -mntp folder");
    assert.equal(ref.enc.options.chatTemplate, "llama3-instruct");
    const announced = ref.notes.filter((n) => /template/.test(n));
    assert.equal(announced.length, 1, ref.notes.join("\n"));
    assert.match(announced[0]!, /^applying the Llama-3 instruct template, as the reference does for meta-llama\/Meta-Llama-3-8B-Instruct \(_name_or_path in .*-mntp\/config\.json\)/);
    assert.ok(ref.notes.some((n) => n.includes("is a PEFT adapter without weights") && n.includes(base)), ref.notes.join("\n"));

    const explicit = await load(base, { adapter: [mntp, supervised], chatTemplate: "llama3-instruct" });
    const a = await ref.enc.encode(TEXTS);
    const b = await explicit.enc.encode(TEXTS);
    assert.ok(maxDiff(a, b) < 1e-6, `reference shape vs explicit shape: ${maxDiff(a, b)}`);
    // The project's shape picks the same template from the -mntp folder's name, by default.
    const projectShape = await load(base, { adapter: [mntp, supervised] });
    assert.equal(projectShape.enc.options.chatTemplate, "llama3-instruct");
    assert.ok(maxDiff(a, await projectShape.enc.encode(TEXTS)) < 1e-6);
    // The template matters: without it the embeddings differ.
    const none = await load(mntp, { adapter: supervised, chatTemplate: "none" });
    assert.equal(none.notes.filter((n) => /template/.test(n)).length, 0);
    assert.ok(maxDiff(a, await none.enc.encode(TEXTS)) > 1e-3);
  });

  it("the Llama-3-Instruct template is the reference's string, token for token", async () => {
    const { enc } = await load(mntp);
    const [row] = enc.prepare([[INSTRUCTION, "summit define"]]);
    // llm2vec.py prepare_for_tokenization, for exactly meta-llama/Meta-Llama-3-8B-Instruct.
    const referenceString = "<|start_header_id|>user<|end_header_id|>\n\n" + `${INSTRUCTION} summit define` + "<|eot_id|>";
    assert.deepEqual(Array.from(row!.ids), enc.tokenizer.encode(referenceString));
    for (const [i, s] of SPECIALS.slice(0, 3).entries()) assert.equal(Array.from(row!.ids).filter((id) => id === 512 + i).length, 1, `${s} is one token`);
    assert.equal(row!.textTokens, enc.tokenizer.encode("summit define<|eot_id|>", { addSpecialTokens: false }).length);
  });

  it("meta-llama/Meta-Llama-3-8B gets <|end_of_text|> for eos_token pooling, and no template", async () => {
    const dir = path.join(tmp, "llama3-base-mntp");
    writeMntp(dir, base, "meta-llama/Meta-Llama-3-8B");
    const { enc, notes } = await load(dir, { pooling: "eos_token" });
    assert.equal(enc.options.chatTemplate, "none");
    const [row] = enc.prepare(["a cat"]);
    assert.equal(row!.ids.at(-1), 512 + SPECIALS.indexOf("<|end_of_text|>"));
    assert.ok(notes.some((n) => n.includes('appends "<|end_of_text|>", as the reference does for meta-llama/Meta-Llama-3-8B')), notes.join("\n"));
  });

  it("an instruct name no rule covers gets no template, and a note says which rules there are", async () => {
    const dir = path.join(tmp, "llama31-mntp");
    writeMntp(dir, base, "meta-llama/Llama-3.1-8B-Instruct");
    const { enc, notes } = await load(dir);
    assert.equal(enc.options.chatTemplate, "none");
    assert.ok(notes.some((n) => n.includes("no input template for meta-llama/Llama-3.1-8B-Instruct") && n.includes("meta-llama/Meta-Llama-3-8B-Instruct, mistralai/Mistral-7B-Instruct-v0.2")), notes.join("\n"));
  });

  it("merge and save record the template that applied in llm2vec_config.json", async () => {
    const out = path.join(tmp, "merged");
    await merge({ model: mntp, adapter: [supervised], output: out });
    const cfg = JSON.parse(fs.readFileSync(path.join(out, "llm2vec_config.json"), "utf8"));
    assert.equal(cfg.chat_template, "llama3-instruct");
    const merged = await load(out);
    const ref = await load(mntp, { adapter: supervised });
    assert.ok(maxDiff(await merged.enc.encode(TEXTS), await ref.enc.encode(TEXTS)) < 1e-5);
  });

  it("an adapter beside weights is merged into them, and a note says so", async () => {
    const dir = path.join(tmp, "weights-and-adapter");
    fs.cpSync(base, dir, { recursive: true });
    for (const f of ["adapter_config.json", "adapter_model.safetensors"]) fs.copyFileSync(path.join(mntp, f), path.join(dir, f));
    const both = await load(dir);
    assert.deepEqual(both.enc.resolved!.adapters.map((a) => a.reason), ["beside-weights"]);
    assert.ok(both.notes.some((n) => n.includes("holds weights and a PEFT adapter") && n.includes("merged")), both.notes.join("\n"));
    const explicit = await load(base, { adapter: mntp, chatTemplate: "none" });
    assert.ok(maxDiff(await both.enc.encode(TEXTS), await explicit.enc.encode(TEXTS)) < 1e-6);
  });

  it("a custom template from options, flags or llm2vec_config.json is applied and saved", async () => {
    const parts = { prefix: "<|start_header_id|>user<|end_header_id|>\n\n", suffix: "<|eot_id|>" };
    const preset = (await load(base, { chatTemplate: "llama3-instruct" })).enc.prepare(TEXTS);
    const custom = await load(base, { chatTemplate: parts });
    assert.deepEqual(custom.enc.prepare(TEXTS), preset);
    const flags = encoderOptionsFromFlags({ model: base, chatTemplatePrefix: parts.prefix, chatTemplateSuffix: parts.suffix });
    assert.deepEqual(flags.chatTemplate, parts);
    assert.throws(() => encoderOptionsFromFlags({ model: base, chatTemplate: "none", chatTemplateSuffix: "x" }), /--chat-template and --chat-template-prefix\/--chat-template-suffix are exclusive/);
    const saved = path.join(tmp, "custom-saved");
    custom.enc.save(saved);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(saved, "llm2vec_config.json"), "utf8")).chat_template, parts);
    assert.deepEqual((await load(saved)).enc.prepare(TEXTS), preset);
    await assert.rejects(load(base, { chatTemplate: { prefix: 1 } as never }), /chatTemplate must be "auto", one of none, .*or \{"prefix": string, "suffix": string\}/);
  });
});

describe("what a folder is missing, said", () => {
  it("a folder with neither weights nor an adapter says what it lacks and what to pass", async () => {
    const dir = path.join(tmp, "config-only");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(CONFIG));
    await assert.rejects(load(dir), (e: Error) => {
      assert.match(e.message, /not a loadable model folder: it has config\.json but no weights \(model\.safetensors, .*pytorch_model\.bin.*\) and no PEFT adapter \(adapter_config\.json\)/);
      assert.match(e.message, /--model BASE --adapter /);
      return true;
    });
  });

  it("a -mntp folder whose base is not found names the base and the ways to supply it; --base supplies it", async () => {
    const dir = path.join(tmp, "mntp-hub-base");
    writeMntp(dir, LLAMA3_INSTRUCT);
    // Offline with an empty cache: the base is neither a local folder nor a cached Hub repository.
    const env = { HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE, HF_HUB_CACHE: process.env.HF_HUB_CACHE };
    process.env.HF_HUB_OFFLINE = "1";
    process.env.HF_HUB_CACHE = path.join(tmp, "empty-hub-cache");
    try {
      await assert.rejects(load(dir), (e: Error) => {
        assert.match(e.message, /the base model "meta-llama\/Meta-Llama-3-8B-Instruct" \(base_model_name_or_path in .*mntp-hub-base\/adapter_config\.json\) is not a local folder/);
        assert.match(e.message, /offline/i);
        assert.match(e.message, /--base DIR/);
        assert.match(e.message, /set base_model_name_or_path in .*adapter_config\.json to a local folder path/);
        assert.match(e.message, /Hugging Face Hub id/);
        return true;
      });
    } finally {
      for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    const viaBase = await load(dir, { base, adapter: supervised });
    const ref = await load(mntp, { adapter: supervised });
    assert.ok(maxDiff(await viaBase.enc.encode(TEXTS), await ref.enc.encode(TEXTS)) < 1e-6);
    await assert.rejects(load(base, { base }), /--base DIR \(option base\) is for a model folder that is a PEFT adapter without weights; .*base holds weights/);
  });

  it("an adapter for another architecture names the module", async () => {
    const dir = path.join(tmp, "gpt2-adapter");
    writeLoraAdapter(dir, { r: 4, loraAlpha: 8, targetModules: ["c_attn"], layers: { "transformer.h.0.attn.c_attn": { a: { dtype: "f32", shape: [4, 32], data: randn(128, 1, 0.1) }, b: { dtype: "f32", shape: [96, 4], data: randn(384, 2, 0.1) } } } });
    await assert.rejects(load(base, { adapter: dir }), /adapter module "transformer\.h\.0\.attn\.c_attn" does not exist in this llama model .*made for another architecture/);
  });

  it("resolving reads no weights and describes the load as plain data", async () => {
    const r = await resolveModel({ model: mntp, adapters: [supervised] });
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
    assert.deepEqual(r.nameChain.map((n) => [n.name, n.field]), [[LLAMA3_INSTRUCT, "_name_or_path"], [base, "base_model_name_or_path"], [LLAMA3_INSTRUCT, "base_model_name_or_path"]]);
    await assert.rejects(resolveModel({ model: path.join(tmp, "nope") }), /--model .*nope: model folder does not exist/);
  });
});
