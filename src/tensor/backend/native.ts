/**
 * The native backend: a thin binding over the C++ addon (native/src). Every call is validated
 * here (buffer lengths against shapes, index ranges; helpers in native-args.ts, the GEMM binding
 * in native-gemm.ts) so that a bad call throws an Error naming the kernel and the shapes instead
 * of reading or writing out of bounds in C++.
 */
import type { Storage } from "../dtype.js";
import { counts, DTYPE_CODE, f32, fmt, i32, KernelArgError, storage } from "./native-args.js";
import { attnCheck, attnParams, kvStride, packedCheck } from "./native-attention-args.js";
import { gemmBinding, gemmQBinding, packBBinding, quantizeWeightBinding, type AddonGemm, type AddonGemmQ, type AddonPackB, type AddonQuantizeWeight } from "./native-gemm.js";
import { referenceGemmQ } from "./quant-reference.js";
import type { Backend, GatedActivation, PackedAttentionShape } from "./types.js";
import { loadNativeAddon, NATIVE_REMEDY, type NativeSource } from "./native-resolve.js";

/** The raw addon surface (see native/src/addon.cc). Scalar parameters travel in Float64Arrays. */
interface Addon {
  info(): NativeInfo;
  /** Optional: an addon built before it existed lacks it. */
  setComputeNice?(nice: number): number;
  setMmapThreshold?(bytes: number): number;
  /** Optional: an addon built before it existed lacks it (then weights files are read). */
  mapFile?(fd: number, length: number): ArrayBuffer | string;
  /** Optional: an addon built before it existed lacks it (then mapped pages stay resident). */
  releasePages?(buffer: ArrayBuffer, byteOffset: number, byteLength: number): number;
  gemm: AddonGemm;
  /** Optional: an addon built before it existed lacks it (then nothing is packed ahead). */
  packB?: AddonPackB;
  /** Optional: an addon built before it existed lacks it (then the TypeScript kernel runs). */
  gemmQ?: AddonGemmQ;
  /** Optional: an addon built before it existed lacks it (then quantizeWeight in tensor/quant.ts runs). */
  quantizeWeight?: AddonQuantizeWeight;
  attentionForward(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, lse: Float32Array, keyMask: Uint8Array | null, params: Float64Array): void;
  /** Optional: an addon built before it existed lacks it (then attentionPacked calls attentionForward per row). */
  attentionForwardPacked?(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, lse: Float32Array, starts: Int32Array, params: Float64Array): void;
  attentionBackward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    lse: Float32Array,
    dOut: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    keyMask: Uint8Array | null,
    params: Float64Array,
  ): void;
  rmsnormForward(x: Float32Array, w: Storage, out: Float32Array, rstd: Float32Array, params: Float64Array): void;
  rmsnormBackward(x: Float32Array, w: Storage, rstd: Float32Array, dOut: Float32Array, dx: Float32Array, dw: Float32Array | null, params: Float64Array): void;
  rope(x: Float32Array, positions: Int32Array, cos: Float32Array, sin: Float32Array, out: Float32Array, params: Float64Array): void;
  gatedActForward(kind: number, gate: Float32Array, up: Float32Array, out: Float32Array): void;
  gatedActBackward(kind: number, gate: Float32Array, up: Float32Array, dOut: Float32Array, dGate: Float32Array, dUp: Float32Array): void;
  crossEntropyForward(logits: Float32Array, targets: Int32Array, loss: Float32Array, lse: Float32Array, params: Float64Array): void;
  crossEntropyBackward(logits: Float32Array, targets: Int32Array, lse: Float32Array, rowScale: Float32Array, dLogits: Float32Array, params: Float64Array): void;
  embeddingForward(table: Storage, dtype: number, ids: Int32Array, C: number, out: Float32Array): void;
  add(a: Float32Array, b: Float32Array, out: Float32Array): void;
  mul(a: Float32Array, b: Float32Array, out: Float32Array): void;
  axpy(alpha: number, x: Float32Array, y: Float32Array): void;
  scale(x: Float32Array, alpha: number, out: Float32Array): void;
  dropout(x: Float32Array, out: Float32Array, p: number, seed: number, indexOffset: number): void;
}

const ACT_CODE: Record<GatedActivation, number> = { silu: 0, gelu_tanh: 1 };

function actCode(kernel: string, kind: GatedActivation): number {
  const c = ACT_CODE[kind];
  if (c === undefined) throw new KernelArgError(kernel, `unknown activation ${String(kind)}`);
  return c;
}

function makeBackend(addon: Addon): Backend {
  // Reused parameter blocks (kernels are synchronous, so no call can observe another's block).
  const ap = new Float64Array(14);
  const pp = new Float64Array(8);
  const np = new Float64Array(5);
  const rp = new Float64Array(4);
  const cp = new Float64Array(3);

  return {
    name: "native",

    gemm: gemmBinding(addon),
    ...(addon.packB ? { packB: packBBinding({ packB: addon.packB }) } : {}),
    gemmQ: addon.gemmQ ? gemmQBinding({ gemmQ: addon.gemmQ }) : referenceGemmQ,
    ...(addon.quantizeWeight ? { quantizeWeight: quantizeWeightBinding({ quantizeWeight: addon.quantizeWeight }) } : {}),

    attentionForward(s, q, k, v, out, lse) {
      const K = "attentionForward";
      const shape = attnCheck(K, s);
      const nq = s.B * s.T * s.H * s.D,
        nk = s.B === 0 ? 0 : ((s.B - 1) * kvStride(s) + s.S) * s.KVH * s.D;
      addon.attentionForward(
        f32(K, "q", q, nq, shape),
        f32(K, "k", k, nk, shape),
        f32(K, "v", v, nk, shape),
        f32(K, "out", out, nq, shape),
        f32(K, "lse", lse, s.B * s.H * s.T, shape),
        s.keyMask,
        attnParams(ap, s),
      );
    },

    ...(addon.attentionForwardPacked
      ? {
          attentionForwardPacked(s: PackedAttentionShape, q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, lse: Float32Array) {
            const K = "attentionForwardPacked";
            const { shape, N } = packedCheck(K, s);
            const nq = N * s.H * s.D,
              nk = N * s.KVH * s.D;
            pp[0] = s.starts.length - 1;
            pp[1] = s.H;
            pp[2] = s.KVH;
            pp[3] = s.D;
            pp[4] = s.causal ? 1 : 0;
            pp[5] = s.scale;
            pp[6] = s.softcap ?? 0;
            pp[7] = s.window ?? 0;
            addon.attentionForwardPacked!(f32(K, "q", q, nq, shape), f32(K, "k", k, nk, shape), f32(K, "v", v, nk, shape), f32(K, "out", out, nq, shape), f32(K, "lse", lse, N * s.H, shape), s.starts, pp);
          },
        }
      : {}),

    attentionBackward(s, q, k, v, out, lse, dOut, dq, dk, dv) {
      const K = "attentionBackward";
      const shape = attnCheck(K, s);
      const nq = s.B * s.T * s.H * s.D,
        nk = s.B * s.S * s.KVH * s.D;
      addon.attentionBackward(
        f32(K, "q", q, nq, shape),
        f32(K, "k", k, nk, shape),
        f32(K, "v", v, nk, shape),
        f32(K, "out", out, nq, shape),
        f32(K, "lse", lse, s.B * s.H * s.T, shape),
        f32(K, "dOut", dOut, nq, shape),
        f32(K, "dq", dq, nq, shape),
        f32(K, "dk", dk, nk, shape),
        f32(K, "dv", dv, nk, shape),
        s.keyMask,
        attnParams(ap, s),
      );
    },

    rmsnormForward(x, w, wDtype, addOne, eps, N, C, out, rstd) {
      const K = "rmsnormForward";
      const shape = { N, C };
      counts(K, shape);
      np[0] = DTYPE_CODE[wDtype];
      np[1] = addOne ? 1 : 0;
      np[2] = eps;
      np[3] = N;
      np[4] = C;
      addon.rmsnormForward(f32(K, "x", x, N * C, shape), storage(K, "w", w, wDtype, C, shape), f32(K, "out", out, N * C, shape), f32(K, "rstd", rstd, N, shape), np);
    },

    rmsnormBackward(x, w, wDtype, addOne, rstd, dOut, N, C, dx, dw) {
      const K = "rmsnormBackward";
      const shape = { N, C };
      counts(K, shape);
      np[0] = DTYPE_CODE[wDtype];
      np[1] = addOne ? 1 : 0;
      np[2] = N;
      np[3] = C;
      addon.rmsnormBackward(
        f32(K, "x", x, N * C, shape),
        storage(K, "w", w, wDtype, C, shape),
        f32(K, "rstd", rstd, N, shape),
        f32(K, "dOut", dOut, N * C, shape),
        f32(K, "dx", dx, N * C, shape),
        dw === null ? null : f32(K, "dw", dw, C, shape),
        np,
      );
    },

    rope(x, positions, cos, sin, N, H, D, inverse, out) {
      const K = "rope";
      const shape = { N, H, D };
      counts(K, shape);
      if (D % 2 !== 0) throw new KernelArgError(K, `D must be even (${fmt(shape)})`);
      const half = D / 2;
      const P = half > 0 ? Math.floor(Math.min(cos.length, sin.length) / half) : 0;
      const pos = i32(K, "positions", positions, N, shape);
      f32(K, "cos", cos, 0, shape);
      f32(K, "sin", sin, 0, shape);
      if (half > 0 && H > 0)
        for (let n = 0; n < N; n++) {
          const p = pos[n]!;
          if (p < 0 || p >= P) throw new KernelArgError(K, `positions[${n}] = ${p} outside the ${P}-row cos/sin tables (${fmt(shape)})`);
        }
      rp[0] = N;
      rp[1] = H;
      rp[2] = D;
      rp[3] = inverse ? 1 : 0;
      addon.rope(f32(K, "x", x, N * H * D, shape), pos, cos, sin, f32(K, "out", out, N * H * D, shape), rp);
    },

    gatedActForward(kind, gate, up, out) {
      const K = "gatedActForward";
      const code = actCode(K, kind);
      const n = f32(K, "gate", gate, 0, {}).length;
      addon.gatedActForward(code, gate, f32(K, "up", up, n, { n }), f32(K, "out", out, n, { n }));
    },

    gatedActBackward(kind, gate, up, dOut, dGate, dUp) {
      const K = "gatedActBackward";
      const code = actCode(K, kind);
      const n = f32(K, "gate", gate, 0, {}).length;
      const shape = { n };
      addon.gatedActBackward(code, gate, f32(K, "up", up, n, shape), f32(K, "dOut", dOut, n, shape), f32(K, "dGate", dGate, n, shape), f32(K, "dUp", dUp, n, shape));
    },

    crossEntropyForward(logits, targets, ignoreIndex, N, V, loss, lse) {
      const K = "crossEntropyForward";
      const shape = { N, V };
      counts(K, shape);
      const t = i32(K, "targets", targets, N, shape);
      checkTargets(K, t, ignoreIndex, N, V);
      cp[0] = ignoreIndex;
      cp[1] = N;
      cp[2] = V;
      addon.crossEntropyForward(f32(K, "logits", logits, N * V, shape), t, f32(K, "loss", loss, N, shape), f32(K, "lse", lse, N, shape), cp);
    },

    crossEntropyBackward(logits, targets, ignoreIndex, lse, rowScale, N, V, dLogits) {
      const K = "crossEntropyBackward";
      const shape = { N, V };
      counts(K, shape);
      const t = i32(K, "targets", targets, N, shape);
      checkTargets(K, t, ignoreIndex, N, V);
      cp[0] = ignoreIndex;
      cp[1] = N;
      cp[2] = V;
      addon.crossEntropyBackward(
        f32(K, "logits", logits, N * V, shape),
        t,
        f32(K, "lse", lse, N, shape),
        f32(K, "rowScale", rowScale, N, shape),
        f32(K, "dLogits", dLogits, N * V, shape),
        cp,
      );
    },

    embeddingForward(table, dtype, ids, C, out) {
      const K = "embeddingForward";
      counts(K, { C });
      const shape = { C, n: ids?.length ?? 0 };
      const tab = storage(K, "table", table, dtype, 0, shape);
      const rows = C > 0 ? Math.floor(tab.length / C) : 0;
      const idv = i32(K, "ids", ids, 0, shape);
      if (C > 0)
        for (let i = 0; i < idv.length; i++) {
          const id = idv[i]!;
          if (id < 0 || id >= rows) throw new KernelArgError(K, `ids[${i}] = ${id} outside the ${rows}-row table (${fmt(shape)})`);
        }
      addon.embeddingForward(tab, DTYPE_CODE[dtype], idv, C, f32(K, "out", out, idv.length * C, shape));
    },

    add(a, b, out) {
      const n = f32("add", "out", out, 0, {}).length;
      addon.add(f32("add", "a", a, n, { n }), f32("add", "b", b, n, { n }), out);
    },
    mul(a, b, out) {
      const n = f32("mul", "out", out, 0, {}).length;
      addon.mul(f32("mul", "a", a, n, { n }), f32("mul", "b", b, n, { n }), out);
    },
    axpy(alpha, x, y) {
      const n = f32("axpy", "y", y, 0, {}).length;
      addon.axpy(alpha, f32("axpy", "x", x, n, { n }), y);
    },
    scale(x, alpha, out) {
      const n = f32("scale", "out", out, 0, {}).length;
      addon.scale(f32("scale", "x", x, n, { n }), alpha, out);
    },
    dropout(x, out, p, seed, indexOffset = 0) {
      const n = f32("dropout", "out", out, 0, {}).length;
      if (!(p >= 0 && p < 1)) throw new KernelArgError("dropout", `probability ${p} outside [0, 1)`);
      if (!(Number.isInteger(indexOffset) && indexOffset >= 0)) throw new KernelArgError("dropout", `indexOffset must be a non-negative integer, got ${indexOffset}`);
      addon.dropout(f32("dropout", "x", x, n, { n }), out, p, seed >>> 0, indexOffset);
    },
  };
}

function checkTargets(kernel: string, t: Int32Array, ignoreIndex: number, N: number, V: number): void {
  for (let r = 0; r < N; r++) {
    const x = t[r]!;
    if (x !== ignoreIndex && (x < 0 || x >= V)) throw new KernelArgError(kernel, `targets[${r}] = ${x} is neither in [0, ${V}) nor the ignore index ${ignoreIndex}`);
  }
}

let cachedAddon: Addon | null = null;

/**
 * What the addon picked and what the CPU offers: `gemm` ("generic" | "avx2" | "avx512") runs f32
 * products; `gemmBf16` runs bf16-compute products ("avx512bf16" with vdpbf16ps, or e.g.
 * "avx512-rounded": the f32 kernel on operands rounded to bf16, which CPUs without bf16 units
 * run, and which also wins where vdpbf16ps is slower than f32 FMA); `kernels` the rest.
 */
export interface NativeInfo {
  isa: string;
  gemm: string;
  gemmBf16: string;
  /** Why: "timed: …" (both paths timed once, the faster kept), "forced by …", "no bf16 units", … */
  gemmBf16Why: string;
  kernels: string;
  /** Dot kernels of quantized-weight products (absent in an addon built before them). */
  quant?: string;
  threads: number;
  cpu: { avx2: boolean; avx512f: boolean; avx512bf16: boolean };
}

export function nativeInfo(): NativeInfo | null {
  return loadNativeBackend().backend && cachedAddon ? cachedAddon.info() : null;
}

/**
 * Gives the compute threads (the native pool's workers and the calling thread, which takes a share
 * of every parallel kernel) the nice value `nice` (Linux; 0..19 lowers their priority). A server
 * calls it from its model worker so that its HTTP thread, which sleeps most of the time, gets a core
 * as soon as it wakes instead of queueing behind the kernels. Returns the number of threads
 * changed; throws when the addon is missing, stale, or the OS refuses.
 */
export function setComputeNice(nice: number): number {
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw new Error(`setComputeNice: nice must be an integer in [-20, 19], got ${nice}`);
  const { backend, error } = loadNativeBackend();
  if (!backend || !cachedAddon) throw new Error(`setComputeNice: the native addon is not loaded (${error ?? "unknown reason"})`);
  if (typeof cachedAddon.setComputeNice !== "function") throw new Error(`setComputeNice: the native addon is stale (${NATIVE_REMEDY})`);
  const r = cachedAddon.setComputeNice(nice);
  if (r < 0) throw new Error(`setComputeNice(${nice}): the OS refused (errno ${-r})`);
  return r;
}

/**
 * Makes every C allocation of at least `bytes` a mapping of its own, given back to the OS when
 * freed (glibc's M_MMAP_THRESHOLD, which also stops glibc raising the threshold by itself). With
 * glibc's default, each freed large block raises the threshold, so later large blocks (ArrayBuffer
 * backing stores of varying size: a server's batches) come from the arenas, fragment there and
 * are kept: the server's RSS crept up by ~6 MB per 1,000 requests on h512 and never came down.
 * Process-wide, so a server sets it, not the library. Returns whether it was set (glibc only).
 */
export function setMmapThreshold(bytes: number): boolean {
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > 2 ** 31 - 1) throw new RangeError(`setMmapThreshold: bytes must be an integer in [0, 2^31), got ${bytes}`);
  if (!loadNativeBackend().backend || typeof cachedAddon?.setMmapThreshold !== "function") return false;
  return cachedAddon.setMmapThreshold(bytes) === 1;
}

/**
 * Maps an open file copy-on-write into one ArrayBuffer (native/src/addon_map.cc), or says why it
 * cannot (no addon, a stale one, the OS or the runtime refused): the formats layer's FileMapper.
 */
export function mapFile(fd: number, length: number): ArrayBuffer | string {
  const { backend, error } = loadNativeBackend();
  if (!backend || !cachedAddon) return `the native addon is not loaded (${error ?? "unknown reason"})`;
  if (typeof cachedAddon.mapFile !== "function") return "the native addon is stale (no mapFile)";
  return cachedAddon.mapFile(fd, length);
}

/** Drops the whole pages of a range of a mapped file from this process (addon_map.cc); bytes dropped. */
export function releasePages(buffer: ArrayBuffer, byteOffset: number, byteLength: number): number {
  return typeof cachedAddon?.releasePages === "function" ? cachedAddon.releasePages(buffer, byteOffset, byteLength) : 0;
}

/** The loaded addon's binary and where it came from (native-resolve.ts), or why none loaded. */
export type NativeLoad = { backend: Backend; source: NativeSource; file: string; error?: undefined } | { backend: null; error: string };

let cached: NativeLoad | null = null;

const REQUIRED = ["info", "gemm", "attentionForward", "attentionBackward", "rmsnormForward", "rmsnormBackward", "rope", "embeddingForward"] as const;

export function loadNativeBackend(): NativeLoad {
  if (cached) return cached;
  const r = loadNativeAddon<Addon>((addon, file) => {
    const lacking = REQUIRED.find((fn) => typeof addon[fn] !== "function");
    return lacking ? `${file} is stale: it lacks ${lacking}()` : null;
  });
  if ("error" in r) return (cached = { backend: null, error: r.error });
  try {
    cachedAddon = r.addon;
    return (cached = { backend: makeBackend(r.addon), source: r.source, file: r.file });
  } catch (e) {
    cachedAddon = null;
    return (cached = { backend: null, error: e instanceof Error ? e.message : String(e) });
  }
}

/** Which addon binary loaded and where it came from (`llm2vec doctor`), or why none did. */
export type NativeBinary = { source: NativeSource; file: string } | { source: "none"; error: string };

export function nativeBinary(): NativeBinary {
  const r = loadNativeBackend();
  return r.backend ? { source: r.source, file: r.file } : { source: "none", error: r.error };
}
