import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import {
  readLoraConfig,
  parseLoraConfig,
  readLoraAdapter,
  writeLoraAdapter,
  loraScaling,
  isTargetModule,
  parseLoraTensorName,
} from "../../src/formats/peft.js";
import { writeSafetensors } from "../../src/formats/safetensors-write.js";
import { FIXTURES, tmpDir } from "./helpers.js";

const PEFT = path.join(FIXTURES, "formats", "peft");
const dir = tmpDir("peft-");
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("the three real adapter configs parse", () => {
  const l = readLoraConfig(path.join(PEFT, "adapter_config.llama2-7b-derivative.r64-qv.json"));
  assert.equal(l.r, 64);
  assert.equal(l.loraAlpha, 16);
  assert.deepEqual(l.targetModules, ["q_proj", "v_proj"]);
  assert.equal(l.useRslora, false);
  assert.deepEqual(l.rankPattern, {});
  assert.equal(l.baseModelNameOrPath, "genaitraining/llama-2-7b-domain-tuned");
  assert.equal(loraScaling(l, "model.layers.0.self_attn.q_proj").scaling, 0.25);

  const m = readLoraConfig(path.join(PEFT, "adapter_config.mistral-7b-v0.1.r16-all-linear+lm_head.json"));
  assert.equal(m.r, 16);
  assert.equal((m.targetModules as string[]).length, 8);
  assert.ok(isTargetModule(m, "lm_head"));
  assert.ok(isTargetModule(m, "model.layers.3.mlp.down_proj"));
  assert.ok(!isTargetModule(m, "model.layers.3.input_layernorm"));

  const t = readLoraConfig(path.join(PEFT, "adapter_config.tinyllama-chat.r16-peft0.19.1.json"));
  assert.equal(t.r, 16);
  assert.equal(t.loraAlpha, 32);
  assert.equal(t.loraDropout, 0.05);
  assert.equal(loraScaling(t, "model.layers.0.mlp.up_proj").scaling, 2);
  assert.equal(t.raw.peft_version, "0.19.1"); // unknown keys are kept, not interpreted
});

test("scaling: rsLoRA, rank_pattern and alpha_pattern; regex target_modules", () => {
  const c = parseLoraConfig({
    peft_type: "LORA",
    r: 16,
    lora_alpha: 32,
    target_modules: ".*\\.(q_proj|v_proj)",
    use_rslora: true,
    rank_pattern: { "layers.0.self_attn.q_proj": 4 },
    alpha_pattern: { v_proj: 8 },
  });
  assert.equal(loraScaling(c, "model.layers.1.self_attn.q_proj").scaling, 32 / 4);
  assert.deepEqual(loraScaling(c, "model.layers.0.self_attn.q_proj"), { r: 4, alpha: 32, scaling: 16 });
  assert.deepEqual(loraScaling(c, "model.layers.5.self_attn.v_proj"), { r: 16, alpha: 8, scaling: 2 });
  assert.ok(isTargetModule(c, "model.layers.1.self_attn.q_proj"));
  assert.ok(!isTargetModule(c, "model.layers.1.self_attn.k_proj"));
  // A layer 10 key must not pick up layer 0's rank_pattern entry.
  assert.equal(loraScaling(c, "model.layers.10.self_attn.q_proj").r, 16);
});

test("bad configs name the field", () => {
  const bad = (o: Record<string, unknown>, re: RegExp) => assert.throws(() => parseLoraConfig(o, "x/adapter_config.json"), re);
  bad({ peft_type: "IA3", r: 8, target_modules: ["q"] }, /x\/adapter_config\.json: field "peft_type" must be "LORA"/);
  bad({ peft_type: "LORA", r: 0, target_modules: ["q"] }, /field "r"/);
  bad({ peft_type: "LORA", r: 8, target_modules: 3 }, /field "target_modules"/);
  bad({ peft_type: "LORA", r: 8, lora_alpha: "big", target_modules: ["q"] }, /field "lora_alpha"/);
  bad({ peft_type: "LORA", r: 8, target_modules: ["q"], use_dora: true }, /field "use_dora"/);
  bad({ peft_type: "LORA", r: 8, target_modules: ["q"], rank_pattern: { q: -1 } }, /field "rank_pattern\.q"/);
  assert.throws(() => readLoraConfig(path.join(dir, "absent.json")), /absent\.json: cannot read adapter config/);
});

test("tensor names map to module paths", () => {
  assert.deepEqual(parseLoraTensorName("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"), {
    modulePath: "model.layers.0.self_attn.q_proj",
    which: "A",
  });
  assert.deepEqual(parseLoraTensorName("base_model.model.layers.3.mlp.up_proj.lora_B.weight"), { modulePath: "layers.3.mlp.up_proj", which: "B" });
  // Names that still carry the adapter name (in-memory state dicts) are accepted too.
  assert.deepEqual(parseLoraTensorName("base_model.model.lm_head.lora_A.default.weight"), { modulePath: "lm_head", which: "A" });
  assert.equal(parseLoraTensorName("base_model.model.model.norm.weight"), null);
});

function lora(r: number, inF: number, outF: number, seed: number) {
  const a = Float32Array.from({ length: r * inF }, (_, i) => Math.sin(i + seed));
  const b = Float32Array.from({ length: outF * r }, (_, i) => Math.cos(i * seed));
  return { a: { dtype: "f32" as const, shape: [r, inF], data: a }, b: { dtype: "f32" as const, shape: [outF, r], data: b } };
}

test("write then read an adapter folder (PEFT naming, atomic)", () => {
  const d = path.join(dir, "adapter");
  const layers = {
    "model.layers.0.self_attn.q_proj": lora(4, 8, 8, 1),
    "model.layers.0.self_attn.v_proj": lora(4, 8, 4, 2),
  };
  writeLoraAdapter(d, { r: 4, loraAlpha: 8, targetModules: ["q_proj", "v_proj"], baseModelNameOrPath: "stories260K", layers });
  assert.deepEqual(fs.readdirSync(d).sort(), ["adapter_config.json", "adapter_model.safetensors"]);
  const cfg = JSON.parse(fs.readFileSync(path.join(d, "adapter_config.json"), "utf8"));
  assert.equal(cfg.peft_type, "LORA");
  assert.equal(cfg.r, 4);
  assert.equal(cfg.lora_alpha, 8);
  assert.deepEqual(cfg.target_modules, ["q_proj", "v_proj"]);
  assert.equal(cfg.base_model_name_or_path, "stories260K");
  for (const k of ["bias", "fan_in_fan_out", "inference_mode", "modules_to_save", "task_type", "use_rslora", "rank_pattern", "alpha_pattern"]) {
    assert.ok(k in cfg, k);
  }
  const ad = readLoraAdapter(d);
  assert.deepEqual([...ad.layers.keys()].sort(), Object.keys(layers).sort());
  const q = ad.layers.get("model.layers.0.self_attn.q_proj")!;
  assert.equal(q.scaling, 2);
  assert.deepEqual(q.a.data, layers["model.layers.0.self_attn.q_proj"].a.data);
  assert.deepEqual(q.b.shape, [8, 4]);
  assert.throws(() => writeLoraAdapter(d, { r: 4, loraAlpha: 8, targetModules: ["q_proj"], layers }), /already exists/);
  assert.throws(
    () => writeLoraAdapter(path.join(dir, "mismatch"), { r: 4, loraAlpha: 8, targetModules: ["q_proj"], layers: { m: { a: lora(4, 8, 8, 1).a, b: lora(2, 8, 8, 1).b } } }),
    /module "m".*do not share a rank/,
  );
  assert.equal(fs.existsSync(path.join(dir, "mismatch")), false);
});

test("broken adapters: missing partner, wrong rank, foreign tensor, missing file, LFS pointer", () => {
  const mk = (name: string, tensors: Record<string, { dtype: "f32"; shape: number[]; data: Float32Array }>) => {
    const d = path.join(dir, name);
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r: 4, lora_alpha: 8, target_modules: ["q_proj"] }));
    if (Object.keys(tensors).length) writeSafetensors(path.join(d, "adapter_model.safetensors"), tensors);
    return d;
  };
  const l = lora(4, 8, 8, 1);
  const P = "base_model.model.model.layers.0.self_attn.q_proj";
  assert.throws(() => readLoraAdapter(mk("half", { [`${P}.lora_A.weight`]: l.a })), /module "model\.layers\.0\.self_attn\.q_proj" has lora_A but no lora_B/);
  const wrong = lora(2, 8, 8, 1);
  assert.throws(() => readLoraAdapter(mk("rank", { [`${P}.lora_A.weight`]: wrong.a, [`${P}.lora_B.weight`]: wrong.b })), /tensor ".*lora_A\.weight" has shape \[2,8\], expected \[4, in\]/);
  assert.throws(
    () => readLoraAdapter(mk("foreign", { [`${P}.lora_A.weight`]: l.a, [`${P}.lora_B.weight`]: l.b, "base_model.model.score.weight": l.a })),
    /tensor "base_model\.model\.score\.weight" is not a LoRA A\/B weight/,
  );
  assert.throws(() => readLoraAdapter(mk("nofile", {})), /adapter_model\.safetensors: adapter weights missing/);
  const lfs = mk("lfs", {});
  fs.writeFileSync(path.join(lfs, "adapter_model.safetensors"), "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 5\n");
  assert.throws(() => readLoraAdapter(lfs), /^Error: weights not downloaded \(Git LFS pointer\): .*adapter_model\.safetensors$/);
});

test("target_modules and pattern regexes match in linear time: a catastrophic-backtracking pattern answers at once", () => {
  // `(.*.*)*z` takes exponential time in a backtracking engine (RegExp never finishes on a
  // 31-character module path), so the check runs in a child process that is killed if it hangs.
  const peft = JSON.stringify(path.resolve("dist/src/formats/peft.js"));
  const script = `import { parseLoraConfig, isTargetModule, loraScaling } from ${peft};
    const c = parseLoraConfig({ peft_type: "LORA", r: 8, target_modules: "(.*.*)*z", rank_pattern: { "(.*.*)*z": 4 } });
    const p = "model.layers.0.self_attn.q_proj.base_layer";
    process.stdout.write(JSON.stringify([isTargetModule(c, p), loraScaling(c, p).r]));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.signal, null, "matching hung (killed after 30 s)");
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [false, 8]);
  // Full-match semantics are kept.
  const c = parseLoraConfig({ peft_type: "LORA", r: 8, target_modules: "model\\.layers\\.\\d+\\.self_attn\\.(q|v)_proj" });
  assert.ok(isTargetModule(c, "model.layers.12.self_attn.v_proj"));
  assert.ok(!isTargetModule(c, "model.layers.12.self_attn.v_proj.x"));
  assert.ok(!isTargetModule(c, "base.model.layers.12.self_attn.v_proj"));
});

test("a pattern the linear-time matcher cannot run (lookaround, backreference) is refused naming the file and field", () => {
  const bad = (cfg: object, re: RegExp) => assert.throws(() => parseLoraConfig(cfg, "x/adapter_config.json"), re);
  bad({ peft_type: "LORA", r: 8, target_modules: "(?=.*q_proj).*" }, /x\/adapter_config\.json: field "target_modules" is not a regular expression this loader accepts: .*lookaround/);
  bad({ peft_type: "LORA", r: 8, target_modules: "(q)\\1" }, /field "target_modules"/);
  bad({ peft_type: "LORA", r: 8, target_modules: ["q_proj"], alpha_pattern: { "(?<=a)q": 2 } }, /x\/adapter_config\.json: field "alpha_pattern": key "\(\?<=a\)q" is not a regular expression/);
});
