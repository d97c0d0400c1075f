// Attention forward over the whole key row at once (the "panel" path), for up to PANEL_MAX_S keys
// and head dims up to PANEL_MAX_D: the short rows of an encoder (T = 128) and small heads (D = 8
// in stories260K, 64 in the h512 bench). Included by attention_impl.h after its helpers, inside
// an ISA namespace, when the translation unit has vectors (simd.h's vf: AVX2 or AVX-512).
//
// Why not the flash path there: it runs each 64×64 tile through the packed GEMM, which packs both
// operands per call (a 64×64×8 product is mostly packing), and rescales its accumulator once per
// key block. Here a task (b, head, block of query rows) transposes its keys once into Kᵀ [D, S]
// and copies its values into a contiguous V [S, D] (a sliver of the work: 2·S·D floats against
// 4·rows·S·D flops; read in place, V rows KVH·D floats apart alias in L1 and every load of P·V
// missed), then per group of rows: scores straight
// from registers (rows × 2 vectors of keys, D FMAs each), mask, one softmax over the whole row
// (no rescaling), dropout, and O = P·V with rows × 2 vectors of output accumulated over the keys.
// Same semantics as the flash path: soft-capped scores, masked keys, rows with no visible key (zeros, lse = −inf),
// NaN rows (NaN output and lse), the dropout mask (dropout_tile on the same indices).
#pragma once
#ifdef LLM_VEC

constexpr long PANEL_MAX_S = 512;
constexpr long PANEL_MAX_D = 256;
constexpr long PANEL_QB = 128;  // query rows per task (an encoder row of 128 tokens: one task per head)

static inline long round_up(long n, long m) { return (n + m - 1) / m * m; }

// P[r][0:nkP) = scale · q_r · Kᵀ[:, 0:nkP) for R ≤ 4 rows (nkP a multiple of VW; Kᵀ zero-padded).
template <int R>
static void panel_scores(const float* q, long ldq, const float* Kt, long SP, long D, long nkP, float scale, float* P, long ldp) {
  const vf sc = vset1(scale);
  long j = 0;
  for (; j + 2 * VW <= nkP; j += 2 * VW) {
    vf a0[R], a1[R];
    for (int r = 0; r < R; r++) a0[r] = a1[r] = vzero();
    for (long d = 0; d < D; d++) {
      const vf k0 = vload(Kt + d * SP + j), k1 = vload(Kt + d * SP + j + VW);
      for (int r = 0; r < R; r++) {
        const vf qb = vset1(q[r * ldq + d]);
        a0[r] = vfma(qb, k0, a0[r]);
        a1[r] = vfma(qb, k1, a1[r]);
      }
    }
    for (int r = 0; r < R; r++) {
      vstore(P + r * ldp + j, vmul(a0[r], sc));
      vstore(P + r * ldp + j + VW, vmul(a1[r], sc));
    }
  }
  if (j < nkP) {  // one vector of keys left
    vf a0[R];
    for (int r = 0; r < R; r++) a0[r] = vzero();
    for (long d = 0; d < D; d++) {
      const vf k0 = vload(Kt + d * SP + j);
      for (int r = 0; r < R; r++) a0[r] = vfma(vset1(q[r * ldq + d]), k0, a0[r]);
    }
    for (int r = 0; r < R; r++) vstore(P + r * ldp + j, vmul(a0[r], sc));
  }
}

// O_r[0:D) = inv_r · Σ_{j<nk} P[r][j] · V_j for R ≤ 8 rows (V rows ldv apart).
template <int R>
static void panel_pv(const float* P, long ldp, const float* V, long ldv, long nk, long D, const float* inv, float* O, long ldo) {
  long d = 0;
  if (R <= 4)
    for (; d + 2 * VW <= D; d += 2 * VW) {
      vf a0[R], a1[R];
      for (int r = 0; r < R; r++) a0[r] = a1[r] = vzero();
      for (long j = 0; j < nk; j++) {
        const float* vr = V + j * ldv + d;
        const vf v0 = vload(vr), v1 = vload(vr + VW);
        for (int r = 0; r < R; r++) {
          const vf p = vset1(P[r * ldp + j]);
          a0[r] = vfma(p, v0, a0[r]);
          a1[r] = vfma(p, v1, a1[r]);
        }
      }
      for (int r = 0; r < R; r++) {
        vstore(O + r * ldo + d, vmul(a0[r], vset1(inv[r])));
        vstore(O + r * ldo + d + VW, vmul(a1[r], vset1(inv[r])));
      }
    }
  for (; d < D; d += VW) {  // one vector of output columns (the last one may be partial)
    const int n = D - d < VW ? static_cast<int>(D - d) : VW;
    vf a0[R];
    for (int r = 0; r < R; r++) a0[r] = vzero();
    for (long j = 0; j < nk; j++) {
      const vf v0 = n == VW ? vload(V + j * ldv + d) : vload_n(V + j * ldv + d, n);
      for (int r = 0; r < R; r++) a0[r] = vfma(vset1(P[r * ldp + j]), v0, a0[r]);
    }
    for (int r = 0; r < R; r++) {
      const vf o = vmul(a0[r], vset1(inv[r]));
      if (n == VW) vstore(O + r * ldo + d, o);
      else vstore_n(O + r * ldo + d, o, n);
    }
  }
}

template <int R>
static void panel_scores_n(int rows, const float* q, long ldq, const float* Kt, long SP, long D, long nkP, float scale, float* P, long ldp) {
  for (int r = 0; r < rows; r += R) {
    const int m = rows - r;
    if (m >= 4) panel_scores<4>(q + r * ldq, ldq, Kt, SP, D, nkP, scale, P + r * ldp, ldp);
    else if (m == 3) panel_scores<3>(q + r * ldq, ldq, Kt, SP, D, nkP, scale, P + r * ldp, ldp);
    else if (m == 2) panel_scores<2>(q + r * ldq, ldq, Kt, SP, D, nkP, scale, P + r * ldp, ldp);
    else panel_scores<1>(q + r * ldq, ldq, Kt, SP, D, nkP, scale, P + r * ldp, ldp);
  }
}

static void panel_pv_n(int rows, const float* P, long ldp, const float* V, long ldv, long nk, long D, const float* inv, float* O, long ldo) {
  switch (rows) {
    case 8: return panel_pv<8>(P, ldp, V, ldv, nk, D, inv, O, ldo);
    case 7: return panel_pv<7>(P, ldp, V, ldv, nk, D, inv, O, ldo);
    case 6: return panel_pv<6>(P, ldp, V, ldv, nk, D, inv, O, ldo);
    case 5: return panel_pv<5>(P, ldp, V, ldv, nk, D, inv, O, ldo);
    case 4: return panel_pv<4>(P, ldp, V, ldv, nk, D, inv, O, ldo);
    case 3: return panel_pv<3>(P, ldp, V, ldv, nk, D, inv, O, ldo);
    case 2: return panel_pv<2>(P, ldp, V, ldv, nk, D, inv, O, ldo);
    default: return panel_pv<1>(P, ldp, V, ldv, nk, D, inv, O, ldo);
  }
}

static bool panel_fits(const llm::AttnShape& s) { return s.S <= PANEL_MAX_S && s.D <= PANEL_MAX_D && s.D > 0; }

static void attn_fwd_panel(const AttnCtx& cx, const float* q, const float* k, const float* v, float* out, float* lse) {
  const llm::AttnShape& s = *cx.s;
  const long T = s.T, H = s.H, KVH = s.KVH, D = s.D, S = s.S;
  const long ldq = H * D, ldk = KVH * D, KS = s.kvStride;
  const long SP = round_up(S > 0 ? S : 1, VW);
  // Rows per group: 8 when one vector covers a head (few accumulators per row), else 4.
  const int G = D <= VW ? 8 : 4;
  const long qBlocks = (T + PANEL_QB - 1) / PANEL_QB;
  const long ntasks = s.B * H * qBlocks;
  auto body = [&](int task, int tid) {
    const long qb = task % qBlocks, bh = task / qBlocks, h = bh % H, b = bh / H;
    const long kvh = h / cx.rep;
    const long i0 = qb * PANEL_QB, nq = T - i0 < PANEL_QB ? T - i0 : PANEL_QB;
    const long end = cx.keyEnd(i0 + nq - 1);  // keys any row of the block may see
    float* Kt = llm::thread_scratch(tid, 2, static_cast<size_t>(2 * D * SP + 8 * SP + 8));
    float* Vp = Kt + D * SP;  // [end, D]
    float* P = Vp + D * SP;   // G rows × SP
    float* inv = P + 8 * SP;
    const float* kb = k + (b * KS) * ldk + kvh * D;
    const float* vsrc = v + (b * KS) * ldk + kvh * D;
    for (long j = 0; j < end; j++) {
      const float* kr = kb + j * ldk;
      for (long d = 0; d < D; d++) Kt[d * SP + j] = kr[d];
      std::memcpy(Vp + j * D, vsrc + j * ldk, sizeof(float) * D);
    }
    for (long d = 0; d < D; d++)
      for (long j = end; j < round_up(end, VW); j++) Kt[d * SP + j] = 0.f;
    const float* vb = Vp;
    for (long r0 = 0; r0 < nq; r0 += G) {
      const int rows = nq - r0 < G ? static_cast<int>(nq - r0) : G;
      const long i = i0 + r0;
      const long nk = cx.keyEnd(i + rows - 1);  // keys this group may see
      const float* qr = q + (b * T + i) * ldq + h * D;
      float* orow = out + (b * T + i) * ldq + h * D;
      float* lrow = lse + (b * H + h) * T + i;
      if (nk == 0) {  // no row of the group sees a key
        for (int r = 0; r < rows; r++) {
          lrow[r] = -INFINITY;
          for (long d = 0; d < D; d++) orow[r * ldq + d] = 0.f;
        }
        continue;
      }
      panel_scores_n<4>(rows, qr, ldq, Kt, SP, D, round_up(nk, VW), s.scale, P, SP);
      if (s.softcap > 0) softcap_tile(s.softcap, rows, nk, P, SP, nullptr);
      mask_tile(cx, b, i, rows, 0, nk, P, SP);
      for (int r = 0; r < rows; r++) {
        float* row = P + r * SP;
        const float m = maxf(row, nk);  // NaN when the row holds a NaN score
        if (m == -INFINITY) {
          for (long c = 0; c < nk; c++) row[c] = 0.f;
          lrow[r] = -INFINITY;
          inv[r] = 0.f;
          continue;
        }
        const float l = exp_sub_sum(row, m, row, nk);
        lrow[r] = m + std::log(l);
        inv[r] = 1.f / l;
      }
      if (s.dropoutP > 0) dropout_tile(cx, b, h, i, rows, 0, nk, P, SP);
      panel_pv_n(rows, P, SP, vb, D, nk, D, inv, orow, ldq);
      for (int r = 0; r < rows; r++)  // no visible key: zeros, even where masked values are ±inf/NaN
        if (lrow[r] == -INFINITY)
          for (long d = 0; d < D; d++) orow[r * ldq + d] = 0.f;
    }
  };
  if (s.B * H * T * S * D < (1L << 18)) {
    for (long t = 0; t < ntasks; t++) body(static_cast<int>(t), 0);
  } else {
    llm::parallel_for(static_cast<int>(ntasks), body);
  }
}

#endif  // LLM_VEC
