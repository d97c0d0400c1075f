// Flash-style attention on GEMM tiles, included inside an ISA namespace after simd.h. The forward
// of short key rows takes the panel path instead (attention_panel.h) where the ISA has vectors.
// Forward: per (b, head, query block), stream key blocks: S = scale·Q·Kᵀ (GEMM), mask, online
// softmax per query row (running max / sum, rescaling the output accumulator), O += P·V (GEMM).
// Only lse is saved. Backward (FlashAttention-2 order): probabilities are recomputed from lse;
// one pass owns dK/dV per (b, kv head, key block), another owns dQ per (b, head, query block),
// so no two tasks ever write the same memory and no atomics are needed.
// A causal sliding window (s.window > 0) masks keys more than `window` positions back in mask_tile;
// whole tiles before it come out masked and are skipped like any fully masked tile.
// Logit soft-capping (Gemma 2, s.softcap > 0) turns each scaled score x into c·tanh(x / c) before
// the mask; the backward recomputes it and multiplies dS by its derivative 1 − tanh²(x / c).
#pragma once
#include <cmath>
#include <cstdlib>
#include <cstring>

constexpr long ATT_KB = 64;  // keys per block
constexpr long ATT_QB = 64;  // query rows per block

struct AttnCtx {
  const llm::AttnShape* s;
  uint32_t seedMix;
  float keepScale;
  uint32_t thr;  // dropout threshold on fmix32(...) >> 8
  long rep;      // H / KVH
  // One past the last key query row i may see (causal), clamped to [0, S].
  long keyEnd(long i) const {
    if (!s->causal) return s->S;
    long e = i + (s->S - s->T) + 1;
    return e < 0 ? 0 : (e > s->S ? s->S : e);
  }
  // First key query row i may see: the sliding window's start (causal with a window), else 0.
  long keyStart(long i) const {
    if (!s->causal || s->window <= 0) return 0;
    long b = i + (s->S - s->T) - s->window + 1;
    return b < 0 ? 0 : b;
  }
  // First query row that sees key j under the causal rule.
  long firstQuery(long j) const {
    if (!s->causal) return 0;
    long i = j - (s->S - s->T);
    return i < 0 ? 0 : i;
  }
};

static AttnCtx make_ctx(const llm::AttnShape& s) {
  AttnCtx c;
  c.s = &s;
  c.seedMix = llm::fmix32(s.seed);
  c.keepScale = s.dropoutP > 0 ? static_cast<float>(1.0 / (1.0 - s.dropoutP)) : 1.f;
  c.thr = llm::dropout_threshold(s.dropoutP);
  c.rep = s.H / s.KVH;
  return c;
}

// Soft-caps an nq×nk tile of scores in place; with G, also writes each score's derivative
// 1 − tanh² (the factor the backward's dS takes) at the same place in G.
static void softcap_tile(float cap, long nq, long nk, float* S, long lds, float* G) {
  const float inv = 1.f / cap;
  for (long r = 0; r < nq; r++) {
    float* row = S + r * lds;
    float* g = G ? G + r * lds : nullptr;
    for (long c = 0; c < nk; c++) {
      const float t = std::tanh(row[c] * inv);
      row[c] = cap * t;
      if (g) g[c] = 1.f - t * t;
    }
  }
}

// Sets masked scores of an nq×nk tile (rows i0.., keys j0..) to −inf; returns true if any survive.
static void mask_tile(const AttnCtx& cx, long b, long i0, long nq, long j0, long nk, float* S, long lds) {
  const llm::AttnShape& s = *cx.s;
  const uint8_t* km = s.keyMask ? s.keyMask + b * s.kvStride + j0 : nullptr;
  for (long r = 0; r < nq; r++) {
    float* row = S + r * lds;
    long vis = cx.keyEnd(i0 + r) - j0;  // keys [0, vis) of the tile pass the causal rule
    if (vis < 0) vis = 0;
    for (long c = vis; c < nk; c++) row[c] = -INFINITY;
    for (long c = 0, lo = cx.keyStart(i0 + r) - j0; c < lo && c < nk; c++) row[c] = -INFINITY;  // before the window
    if (km)
      for (long c = 0; c < nk && c < vis; c++)
        if (!km[c]) row[c] = -INFINITY;
  }
}

// Multiplies probabilities P (nq×nk tile) by the dropout keep factor (0 or 1/(1−p)).
static void dropout_tile(const AttnCtx& cx, long b, long h, long i0, long nq, long j0, long nk, float* P, long ldp) {
  const llm::AttnShape& s = *cx.s;
  for (long r = 0; r < nq; r++) {
    uint64_t base = static_cast<uint64_t>((((b + s.dropoutBatchOffset) * s.H + h) * s.T + i0 + r) * s.S + j0);
    dropout_scale_row(cx.seedMix, base, cx.thr, cx.keepScale, P + r * ldp, nk);
  }
}

#include "attention_panel.h"

static void attn_fwd(const llm::AttnShape& s, const float* q, const float* k, const float* v, float* out, float* lse) {
  const AttnCtx cx = make_ctx(s);
#ifdef LLM_VEC
  if (panel_fits(s)) return attn_fwd_panel(cx, q, k, v, out, lse);
#endif
  const long T = s.T, H = s.H, KVH = s.KVH, D = s.D;
  const long ldq = H * D, ldk = KVH * D, KS = s.kvStride;  // KS: keys per batch row of k/v
  const long qBlocks = (T + ATT_QB - 1) / ATT_QB;
  const long ntasks = s.B * H * qBlocks;
  auto body = [&](int task, int tid) {
    long qb = task % qBlocks, bh = task / qBlocks, h = bh % H, b = bh / H;
    long kvh = h / cx.rep;
    long i0 = qb * ATT_QB, nq = T - i0 < ATT_QB ? T - i0 : ATT_QB;
    float* buf = llm::thread_scratch(tid, 2, static_cast<size_t>(ATT_QB * ATT_KB + ATT_QB * D + 2 * ATT_QB));
    float* P = buf;                   // nq × KB scores, then probabilities
    float* O = P + ATT_QB * ATT_KB;   // nq × D unnormalised output
    float* m = O + ATT_QB * D;        // running max
    float* l = m + ATT_QB;            // running sum
    for (long r = 0; r < nq; r++) m[r] = -INFINITY, l[r] = 0.f;
    std::memset(O, 0, sizeof(float) * nq * D);
    const float* qb0 = q + (b * T + i0) * ldq + h * D;
    long end = cx.keyEnd(i0 + nq - 1);
    for (long j0 = 0; j0 < end; j0 += ATT_KB) {
      long nk = end - j0 < ATT_KB ? end - j0 : ATT_KB;
      const float* kb0 = k + (b * KS + j0) * ldk + kvh * D;
      const float* vb0 = v + (b * KS + j0) * ldk + kvh * D;
      llm::sgemm(false, true, nq, nk, D, s.scale, qb0, ldq, kb0, ldk, 0.f, P, ATT_KB);
      if (s.softcap > 0) softcap_tile(s.softcap, nq, nk, P, ATT_KB, nullptr);
      mask_tile(cx, b, i0, nq, j0, nk, P, ATT_KB);
      bool any = false;
      for (long r = 0; r < nq; r++) {
        float* row = P + r * ATT_KB;
        float bm = maxf(row, nk);
        if (bm == -INFINITY) {  // nothing visible in this tile for this row
          for (long c = 0; c < nk; c++) row[c] = 0.f;
          continue;
        }
        any = true;
        float nm = bm > m[r] || bm != bm ? bm : m[r];  // a NaN score makes the row's max (and so its output) NaN
        if (m[r] != -INFINITY && nm != m[r]) {
          float corr = std::exp(m[r] - nm);
          l[r] *= corr;
          float* o = O + r * D;
          for (long d = 0; d < D; d++) o[d] *= corr;
        }
        m[r] = nm;
        l[r] += exp_sub_sum(row, nm, row, nk);
      }
      if (!any) continue;
      if (s.dropoutP > 0) dropout_tile(cx, b, h, i0, nq, j0, nk, P, ATT_KB);
      llm::sgemm(false, false, nq, D, nk, 1.f, P, ATT_KB, vb0, ldk, 1.f, O, D);
    }
    for (long r = 0; r < nq; r++) {
      float* o = out + (b * T + i0 + r) * ldq + h * D;
      float* li = lse + (b * H + h) * T + i0 + r;
      if (m[r] == -INFINITY) {
        *li = -INFINITY;
        for (long d = 0; d < D; d++) o[d] = 0.f;
      } else {
        *li = m[r] + std::log(l[r]);
        float inv = 1.f / l[r];
        const float* src = O + r * D;
        for (long d = 0; d < D; d++) o[d] = src[d] * inv;
      }
    }
  };
  if (s.B * H * T * s.S * D < (1L << 18)) {
    for (long t = 0; t < ntasks; t++) body(static_cast<int>(t), 0);
  } else {
    llm::parallel_for(static_cast<int>(ntasks), body);
  }
}

// P = exp(scale·Q·Kᵀ − lse) for an nq×nk tile (masked → 0; rows with lse = −inf → 0); soft-capped
// scores leave their derivative in G (unused without a cap).
static void recompute_p(const AttnCtx& cx, long b, long h, long kvh, long i0, long nq, long j0, long nk, const float* q,
                        const float* k, const float* lse, float* P, float* G) {
  const llm::AttnShape& s = *cx.s;
  const long D = s.D, ldq = s.H * D, ldk = s.KVH * D;
  llm::sgemm(false, true, nq, nk, D, s.scale, q + (b * s.T + i0) * ldq + h * D, ldq, k + (b * s.S + j0) * ldk + kvh * D, ldk, 0.f,
             P, ATT_KB);
  if (s.softcap > 0) softcap_tile(s.softcap, nq, nk, P, ATT_KB, G);
  mask_tile(cx, b, i0, nq, j0, nk, P, ATT_KB);
  for (long r = 0; r < nq; r++) {
    float* row = P + r * ATT_KB;
    float l = lse[(b * s.H + h) * s.T + i0 + r];
    if (l == -INFINITY) {
      for (long c = 0; c < nk; c++) row[c] = 0.f;
    } else if (l != l) {  // a NaN row: its visible pairs are NaN, its masked ones still 0 (not exp(−inf − NaN))
      for (long c = 0; c < nk; c++) row[c] = row[c] == -INFINITY ? 0.f : NAN;
    } else {
      exp_sub_sum(row, l, row, nk);
    }
  }
}

// Given P (probabilities) and dP = dO·Vᵀ for a tile, writes Pd = P·keep into `Pd` (may be null)
// and dS = P·(keep·dP − Di)·scale into dP, times the soft-cap's derivative G when capped.
static void ds_tile(const AttnCtx& cx, long b, long h, long i0, long nq, long j0, long nk, const float* P, float* dP, float* Pd,
                    const float* Di, const float* G) {
  const llm::AttnShape& s = *cx.s;
  const bool drop = s.dropoutP > 0;
  float kp[ATT_KB];
  for (long r = 0; r < nq; r++) {
    const float* p = P + r * ATT_KB;
    float* dp = dP + r * ATT_KB;
    float di = Di[(b * s.H + h) * s.T + i0 + r];
    const float sc = s.scale;
    const float* g = s.softcap > 0 ? G + r * ATT_KB : nullptr;
    if (!drop) {
      if (Pd) std::memcpy(Pd + r * ATT_KB, p, sizeof(float) * nk);
      // A masked pair (p = 0) has no gradient, even when its row's Di or dP is NaN.
      for (long c = 0; c < nk; c++) dp[c] = p[c] == 0.f ? 0.f : p[c] * (dp[c] - di) * sc;
      if (g)
        for (long c = 0; c < nk; c++) dp[c] *= g[c];
      continue;
    }
    for (long c = 0; c < nk; c++) kp[c] = 1.f;
    dropout_scale_row(cx.seedMix, static_cast<uint64_t>((((b + s.dropoutBatchOffset) * s.H + h) * s.T + i0 + r) * s.S + j0), cx.thr, cx.keepScale, kp, nk);
    if (Pd) {
      float* pd = Pd + r * ATT_KB;
      for (long c = 0; c < nk; c++) pd[c] = p[c] * kp[c];
    }
    for (long c = 0; c < nk; c++) dp[c] = p[c] == 0.f ? 0.f : p[c] * (kp[c] * dp[c] - di) * sc;
    if (g)
      for (long c = 0; c < nk; c++) dp[c] *= g[c];
  }
}

static void attn_bwd(const llm::AttnShape& s, const float* q, const float* k, const float* v, const float* out, const float* lse,
                     const float* dOut, float* dq, float* dk, float* dv) {
  const AttnCtx cx = make_ctx(s);
  const long B = s.B, T = s.T, S = s.S, H = s.H, KVH = s.KVH, D = s.D;
  const long ldq = H * D, ldk = KVH * D;
  const bool tiny = B * H * T * S * D < (1L << 18);
  auto run = [&](long ntasks, auto&& body) {
    if (tiny) {
      for (long t = 0; t < ntasks; t++) body(static_cast<int>(t), 0);
    } else {
      llm::parallel_for(static_cast<int>(ntasks), body);
    }
  };
  // Di = dO_i · O_i  (= Σ_j P_ij·keep_ij·(dO_i·v_j)), laid out [B, H, T] like lse.
  float* Di = static_cast<float*>(std::malloc(sizeof(float) * (B * H * T > 0 ? B * H * T : 1)));
  for (long b = 0; b < B; b++)
    for (long i = 0; i < T; i++)
      for (long h = 0; h < H; h++) {
        long o = (b * T + i) * ldq + h * D;
        Di[(b * H + h) * T + i] = dotf(dOut + o, out + o, D);
      }
  const size_t tileFloats = static_cast<size_t>(4 * ATT_QB * ATT_KB);  // P, dP, Pd, G

  const long kBlocks = (S + ATT_KB - 1) / ATT_KB;
  if (B * KVH >= 4L * llm::num_threads()) {
    // Enough (b, kv head) pairs to share out: one pass per pair, computing each tile's P and dS
    // once for dV, dK and dQ (the two-pass form below recomputes them for dQ: 7 tile GEMMs → 5).
    // A task owns the dK/dV rows of its kv head and the dQ rows of the query heads sharing it.
    run(B * KVH, [&](int task, int tid) {
      long g = task % KVH, b = task / KVH;
      for (long j = 0; j < S; j++) {
        std::memset(dk + (b * S + j) * ldk + g * D, 0, sizeof(float) * D);
        std::memset(dv + (b * S + j) * ldk + g * D, 0, sizeof(float) * D);
      }
      for (long h = g * cx.rep; h < (g + 1) * cx.rep; h++)
        for (long i = 0; i < T; i++) std::memset(dq + (b * T + i) * ldq + h * D, 0, sizeof(float) * D);
      float* P = llm::thread_scratch(tid, 2, tileFloats);
      float* dP = P + ATT_QB * ATT_KB;
      float* Pd = dP + ATT_QB * ATT_KB;
      float* G = Pd + ATT_QB * ATT_KB;
      for (long kb = 0; kb < kBlocks; kb++) {
        long j0 = kb * ATT_KB, nk = S - j0 < ATT_KB ? S - j0 : ATT_KB;
        float* dkb = dk + (b * S + j0) * ldk + g * D;
        float* dvb = dv + (b * S + j0) * ldk + g * D;
        const float* kb0 = k + (b * S + j0) * ldk + g * D;
        const float* vb0 = v + (b * S + j0) * ldk + g * D;
        long iFirst = cx.firstQuery(j0);
        for (long h = g * cx.rep; h < (g + 1) * cx.rep; h++) {
          for (long i0 = (iFirst / ATT_QB) * ATT_QB; i0 < T; i0 += ATT_QB) {
            long nq = T - i0 < ATT_QB ? T - i0 : ATT_QB;
            const float* qb0 = q + (b * T + i0) * ldq + h * D;
            const float* dob0 = dOut + (b * T + i0) * ldq + h * D;
            float* dqb = dq + (b * T + i0) * ldq + h * D;
            recompute_p(cx, b, h, g, i0, nq, j0, nk, q, k, lse, P, G);
            llm::sgemm(false, true, nq, nk, D, 1.f, dob0, ldq, vb0, ldk, 0.f, dP, ATT_KB);  // dP = dO·Vᵀ
            ds_tile(cx, b, h, i0, nq, j0, nk, P, dP, Pd, Di, G);
            llm::sgemm(true, false, nk, D, nq, 1.f, Pd, ATT_KB, dob0, ldq, 1.f, dvb, ldk);  // dV += Pdᵀ·dO
            llm::sgemm(true, false, nk, D, nq, 1.f, dP, ATT_KB, qb0, ldq, 1.f, dkb, ldk);   // dK += dSᵀ·Q
            llm::sgemm(false, false, nq, D, nk, 1.f, dP, ATT_KB, kb0, ldk, 1.f, dqb, ldq);  // dQ += dS·K
          }
        }
      }
    });
    std::free(Di);
    return;
  }

  // Pass 1: dK, dV per (b, kv head, key block).
  run(B * KVH * kBlocks, [&](int task, int tid) {
    long kb = task % kBlocks, bg = task / kBlocks, g = bg % KVH, b = bg / KVH;
    long j0 = kb * ATT_KB, nk = S - j0 < ATT_KB ? S - j0 : ATT_KB;
    float* dkb = dk + (b * S + j0) * ldk + g * D;
    float* dvb = dv + (b * S + j0) * ldk + g * D;
    for (long j = 0; j < nk; j++) {
      std::memset(dkb + j * ldk, 0, sizeof(float) * D);
      std::memset(dvb + j * ldk, 0, sizeof(float) * D);
    }
    float* P = llm::thread_scratch(tid, 2, tileFloats);
    float* dP = P + ATT_QB * ATT_KB;
    float* Pd = dP + ATT_QB * ATT_KB;
    float* G = Pd + ATT_QB * ATT_KB;
    const float* vb0 = v + (b * S + j0) * ldk + g * D;
    long iFirst = cx.firstQuery(j0);
    for (long h = g * cx.rep; h < (g + 1) * cx.rep; h++) {
      for (long i0 = (iFirst / ATT_QB) * ATT_QB; i0 < T; i0 += ATT_QB) {
        long nq = T - i0 < ATT_QB ? T - i0 : ATT_QB;
        const float* qb0 = q + (b * T + i0) * ldq + h * D;
        const float* dob0 = dOut + (b * T + i0) * ldq + h * D;
        recompute_p(cx, b, h, g, i0, nq, j0, nk, q, k, lse, P, G);
        llm::sgemm(false, true, nq, nk, D, 1.f, dob0, ldq, vb0, ldk, 0.f, dP, ATT_KB);  // dP = dO·Vᵀ
        ds_tile(cx, b, h, i0, nq, j0, nk, P, dP, Pd, Di, G);
        llm::sgemm(true, false, nk, D, nq, 1.f, Pd, ATT_KB, dob0, ldq, 1.f, dvb, ldk);  // dV += Pdᵀ·dO
        llm::sgemm(true, false, nk, D, nq, 1.f, dP, ATT_KB, qb0, ldq, 1.f, dkb, ldk);   // dK += dSᵀ·Q
      }
    }
  });

  // Pass 2: dQ per (b, head, query block).
  const long qBlocks = (T + ATT_QB - 1) / ATT_QB;
  run(B * H * qBlocks, [&](int task, int tid) {
    long qb = task % qBlocks, bh = task / qBlocks, h = bh % H, b = bh / H;
    long g = h / cx.rep;
    long i0 = qb * ATT_QB, nq = T - i0 < ATT_QB ? T - i0 : ATT_QB;
    float* dqb = dq + (b * T + i0) * ldq + h * D;
    for (long r = 0; r < nq; r++) std::memset(dqb + r * ldq, 0, sizeof(float) * D);
    float* P = llm::thread_scratch(tid, 2, tileFloats);
    float* dP = P + ATT_QB * ATT_KB;
    float* G = dP + 2 * ATT_QB * ATT_KB;
    const float* dob0 = dOut + (b * T + i0) * ldq + h * D;
    long end = cx.keyEnd(i0 + nq - 1);
    for (long j0 = 0; j0 < end; j0 += ATT_KB) {
      long nk = end - j0 < ATT_KB ? end - j0 : ATT_KB;
      const float* kb0 = k + (b * S + j0) * ldk + g * D;
      const float* vb0 = v + (b * S + j0) * ldk + g * D;
      recompute_p(cx, b, h, g, i0, nq, j0, nk, q, k, lse, P, G);
      llm::sgemm(false, true, nq, nk, D, 1.f, dob0, ldq, vb0, ldk, 0.f, dP, ATT_KB);
      ds_tile(cx, b, h, i0, nq, j0, nk, P, dP, nullptr, Di, G);
      llm::sgemm(false, false, nq, D, nk, 1.f, dP, ATT_KB, kb0, ldk, 1.f, dqb, ldq);  // dQ += dS·K
    }
  });
  std::free(Di);
}
