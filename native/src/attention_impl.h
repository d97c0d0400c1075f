// Flash-style attention, included inside an ISA namespace after simd.h.
// Forward: per query row, online softmax over key blocks (no T×S matrix), saving lse.
// Backward: probabilities recomputed from lse; one pass owns dK/dV per (b, kv head, key block),
// another owns dQ per (b, head, query block), so no two tasks write the same memory.
#pragma once
#include <cmath>
#include <cstdlib>
#include <cstring>

constexpr long ATT_KB = 64;  // keys per online-softmax block
constexpr long ATT_QB = 16;  // query rows per task

struct AttnCtx {
  const llm::AttnShape* s;
  uint32_t seedMix;
  float keepScale;
  long rep;  // H / KVH
  // Last visible key index + 1 for query row i (causal), or S.
  long keyEnd(long i) const {
    if (!s->causal) return s->S;
    long e = i + (s->S - s->T) + 1;
    return e < 0 ? 0 : (e > s->S ? s->S : e);
  }
  bool visible(long b, long j) const { return !s->keyMask || s->keyMask[b * s->S + j]; }
  float keep(long b, long h, long i, long j) const {
    if (s->dropoutP <= 0) return 1.f;
    uint64_t idx = static_cast<uint64_t>(((b * s->H + h) * s->T + i) * s->S + j);
    return llm::dropout_keep(seedMix, idx, s->dropoutP) ? keepScale : 0.f;
  }
};

static AttnCtx make_ctx(const llm::AttnShape& s) {
  AttnCtx c;
  c.s = &s;
  c.seedMix = llm::fmix32(s.seed);
  c.keepScale = s.dropoutP > 0 ? static_cast<float>(1.0 / (1.0 - s.dropoutP)) : 1.f;
  c.rep = s.H / s.KVH;
  return c;
}

static void attn_fwd(const llm::AttnShape& s, const float* q, const float* k, const float* v, float* out, float* lse) {
  const AttnCtx cx = make_ctx(s);
  const long T = s.T, S = s.S, H = s.H, KVH = s.KVH, D = s.D;
  const long qBlocks = (T + ATT_QB - 1) / ATT_QB;
  const long ntasks = s.B * H * qBlocks;
  const bool tiny = s.B * H * T * S * D < (1L << 18);
  auto body = [&](int task, int tid) {
    long qb = task % qBlocks, bh = task / qBlocks, h = bh % H, b = bh / H;
    long kvh = h / cx.rep;
    float* sc = llm::thread_scratch(tid, 2, static_cast<size_t>(ATT_KB + D));
    float* acc = sc + ATT_KB;
    for (long i = qb * ATT_QB; i < T && i < (qb + 1) * ATT_QB; i++) {
      const float* qi = q + ((b * T + i) * H + h) * D;
      float* oi = out + ((b * T + i) * H + h) * D;
      long end = cx.keyEnd(i);
      float m = -INFINITY, l = 0.f;
      for (long d = 0; d < D; d++) acc[d] = 0.f;
      for (long j0 = 0; j0 < end; j0 += ATT_KB) {
        long n = end - j0 < ATT_KB ? end - j0 : ATT_KB;
        for (long jj = 0; jj < n; jj++) {
          long j = j0 + jj;
          sc[jj] = cx.visible(b, j) ? dotf(qi, k + ((b * S + j) * KVH + kvh) * D, D) * s.scale : -INFINITY;
        }
        float bm = maxf(sc, n);
        if (bm == -INFINITY) continue;
        float nm = bm > m ? bm : m;
        if (m != -INFINITY && nm != m) {
          float corr = std::exp(m - nm);
          l *= corr;
          for (long d = 0; d < D; d++) acc[d] *= corr;
        }
        m = nm;
        l += exp_sub_sum(sc, m, sc, n);
        for (long jj = 0; jj < n; jj++) {
          float p = sc[jj];
          if (p == 0.f) continue;
          long j = j0 + jj;
          if (s.dropoutP > 0) p *= cx.keep(b, h, i, j);
          if (p != 0.f) axpyf(p, v + ((b * S + j) * KVH + kvh) * D, acc, D);
        }
      }
      float* li = lse + (b * H + h) * T + i;
      if (m == -INFINITY) {
        *li = -INFINITY;
        for (long d = 0; d < D; d++) oi[d] = 0.f;
      } else {
        *li = m + std::log(l);
        float inv = 1.f / l;
        for (long d = 0; d < D; d++) oi[d] = acc[d] * inv;
      }
    }
  };
  if (tiny) {
    for (long t = 0; t < ntasks; t++) body(static_cast<int>(t), 0);
  } else {
    llm::parallel_for(static_cast<int>(ntasks), body);
  }
}

static void attn_bwd(const llm::AttnShape& s, const float* q, const float* k, const float* v, const float* out, const float* lse,
                     const float* dOut, float* dq, float* dk, float* dv) {
  const AttnCtx cx = make_ctx(s);
  const long B = s.B, T = s.T, S = s.S, H = s.H, KVH = s.KVH, D = s.D;
  const bool tiny = B * H * T * S * D < (1L << 18);
  auto run = [&](long ntasks, auto&& body) {
    if (tiny) {
      for (long t = 0; t < ntasks; t++) body(static_cast<int>(t), 0);
    } else {
      llm::parallel_for(static_cast<int>(ntasks), body);
    }
  };
  // Di = dO_i · O_i  (= Σ_j P_ij·keep_ij·(dO_i·v_j)).
  float* Di = static_cast<float*>(std::malloc(sizeof(float) * (B * H * T > 0 ? B * H * T : 1)));
  for (long b = 0; b < B; b++)
    for (long i = 0; i < T; i++)
      for (long h = 0; h < H; h++) {
        long o = ((b * T + i) * H + h) * D;
        Di[(b * H + h) * T + i] = dotf(dOut + o, out + o, D);
      }

  // Pass 1: dK, dV per (b, kv head, key block).
  const long kBlocks = (S + ATT_KB - 1) / ATT_KB;
  run(B * KVH * kBlocks, [&](int task, int) {
    long kb = task % kBlocks, bg = task / kBlocks, g = bg % KVH, b = bg / KVH;
    long j0 = kb * ATT_KB, j1 = j0 + ATT_KB < S ? j0 + ATT_KB : S;
    for (long j = j0; j < j1; j++) {
      long o = ((b * S + j) * KVH + g) * D;
      std::memset(dk + o, 0, sizeof(float) * D);
      std::memset(dv + o, 0, sizeof(float) * D);
    }
    long iStart = 0;
    if (s.causal) {
      iStart = j0 - (S - T);
      if (iStart < 0) iStart = 0;
    }
    for (long h = g * cx.rep; h < (g + 1) * cx.rep; h++) {
      for (long i = iStart; i < T; i++) {
        float l = lse[(b * H + h) * T + i];
        if (l == -INFINITY) continue;
        long end = cx.keyEnd(i);
        const float* qi = q + ((b * T + i) * H + h) * D;
        const float* doi = dOut + ((b * T + i) * H + h) * D;
        float di = Di[(b * H + h) * T + i];
        for (long j = j0; j < j1 && j < end; j++) {
          if (!cx.visible(b, j)) continue;
          long o = ((b * S + j) * KVH + g) * D;
          float p = std::exp(dotf(qi, k + o, D) * s.scale - l);
          if (p == 0.f) continue;
          float kp = cx.keep(b, h, i, j);
          if (kp != 0.f) axpyf(p * kp, doi, dv + o, D);
          float dp = dotf(doi, v + o, D);
          float dS = p * (kp * dp - di) * s.scale;
          axpyf(dS, qi, dk + o, D);
        }
      }
    }
  });

  // Pass 2: dQ per (b, head, query block).
  const long qBlocks = (T + ATT_QB - 1) / ATT_QB;
  run(B * H * qBlocks, [&](int task, int) {
    long qb = task % qBlocks, bh = task / qBlocks, h = bh % H, b = bh / H;
    long g = h / cx.rep;
    for (long i = qb * ATT_QB; i < T && i < (qb + 1) * ATT_QB; i++) {
      float* dqi = dq + ((b * T + i) * H + h) * D;
      std::memset(dqi, 0, sizeof(float) * D);
      float l = lse[(b * H + h) * T + i];
      if (l == -INFINITY) continue;
      long end = cx.keyEnd(i);
      const float* qi = q + ((b * T + i) * H + h) * D;
      const float* doi = dOut + ((b * T + i) * H + h) * D;
      float di = Di[(b * H + h) * T + i];
      for (long j = 0; j < end; j++) {
        if (!cx.visible(b, j)) continue;
        long o = ((b * S + j) * KVH + g) * D;
        float p = std::exp(dotf(qi, k + o, D) * s.scale - l);
        if (p == 0.f) continue;
        float kp = cx.keep(b, h, i, j);
        float dp = dotf(doi, v + o, D);
        axpyf(p * (kp * dp - di) * s.scale, k + o, dqi, D);
      }
    }
  });
  std::free(Di);
}
