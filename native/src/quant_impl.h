// The quantized kernels' bodies, included inside an ISA namespace (generic, AVX2).
//
// Activation quantization: per 32-block, scale max|x|/127, q = round half away from zero of
// x·(1/scale), all in f32, and the block's scale·Σq for Q4_1's minimum (the twin of `quantizeRows`
// in src/tensor/quant.ts, exact on every path).
//
// Products, AVX2: llama.cpp's block dot (vpmaddubsw multiplies unsigned by signed bytes, so |w|
// meets x with w's sign moved onto it by vpsignb, giving w·x pairwise in int16, at most
// 2·127·127, no saturation; vpmaddwd sums pairs to int32 lanes, converted to f32 and
// fused-multiplied by the block's d_w·d_x) in a register tile of 4 weight rows × 2 activation
// rows: each loaded weight block (unpacked once, for Q4_0) meets two activation blocks and each
// activation block four weight blocks, every output accumulates in its own __m256 across all
// blocks, and one horizontal sum per output ends it. Q4_1's nibbles (0…15) go through the same
// path; its minimum term Σ_b m_w·xsum is one f32 dot over the blocks per output, added after.

// One activation block, scalar: [k0, k1) of row x into q[k0, k0+32) (zero past k1), scale·Σq into
// *sum; returns the scale.
static inline float quantize_block_scalar(const float* x, long k0, long k1, int8_t* q, float* sum) {
  for (long k = k0; k < k0 + QBLOCK; k++) q[k] = 0;
  float amax = 0;
  bool bad = false;
  for (long k = k0; k < k1; k++) {
    if (!std::isfinite(x[k])) bad = true;
    else if (std::fabs(x[k]) > amax) amax = std::fabs(x[k]);
  }
  const float d = amax / 127.0f;
  *sum = bad ? NAN : 0.0f;
  if (bad) return NAN;
  if (d == 0) return d;
  const float id = 1.0f / d;
  int isum = 0;
  for (long k = k0; k < k1; k++) isum += q[k] = static_cast<int8_t>(round_half_away(x[k] * id));
  *sum = d * static_cast<float>(isum);
  return d;
}


static inline int32_t idot_block(const int8_t* w, const int8_t* x) {
  int32_t s = 0;
  for (long j = 0; j < QBLOCK; j++) s += static_cast<int32_t>(w[j]) * x[j];
  return s;
}

static inline void store_out(float* c, float v, float alpha, float beta) { *c = beta == 0 ? alpha * v : alpha * v + beta * *c; }

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
// A full block of 32 finite values: the scalar form's arithmetic, 8 lanes at a time.
static inline float quantize_block(const float* x, int8_t* q, float* sum) {
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256i expmask = _mm256_set1_epi32(0x7f800000);
  __m256 v[4], amax = _mm256_setzero_ps();
  __m256i bad = _mm256_setzero_si256();
  for (int i = 0; i < 4; i++) {
    v[i] = _mm256_loadu_ps(x + 8 * i);
    bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_castps_si256(v[i]), expmask), expmask));
    amax = _mm256_max_ps(amax, _mm256_and_ps(v[i], absmask));
  }
  if (!_mm256_testz_si256(bad, bad)) return quantize_block_scalar(x, 0, QBLOCK, q, sum);
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  const float d = _mm_cvtss_f32(m) / 127.0f;
  if (d == 0) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), _mm256_setzero_si256());
    *sum = 0;
    return d;
  }
  const __m256 id = _mm256_set1_ps(1.0f / d), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 signmask = _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(0x80000000u)));
  __m256i r[4];
  for (int i = 0; i < 4; i++) {
    // Half away from zero, exactly: truncate, then step away from zero when the dropped part is ≥ ½.
    const __m256 p = _mm256_mul_ps(v[i], id);
    const __m256 t = _mm256_round_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 up = _mm256_cmp_ps(_mm256_and_ps(_mm256_sub_ps(p, t), absmask), half, _CMP_GE_OQ);
    const __m256 step = _mm256_and_ps(up, _mm256_or_ps(one, _mm256_and_ps(p, signmask)));
    r[i] = _mm256_cvtps_epi32(_mm256_add_ps(t, step));
  }
  const __m256i p01 = _mm256_packs_epi32(r[0], r[1]), p23 = _mm256_packs_epi32(r[2], r[3]);
  const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p01, p23), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), bytes);
  const __m256i t = _mm256_add_epi32(_mm256_add_epi32(r[0], r[1]), _mm256_add_epi32(r[2], r[3]));
  __m128i u = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
  u = _mm_hadd_epi32(u, u);
  u = _mm_hadd_epi32(u, u);
  *sum = d * static_cast<float>(_mm_cvtsi128_si32(u));
  return d;
}

static void quantize_rows(const float* A, long M, long K, long Kp, int8_t* q, float* s, float* sum) {
  const long nb = Kp / QBLOCK;
  for (long m = 0; m < M; m++)
    for (long b = 0; b < nb; b++) {
      const long k0 = b * QBLOCK, i = m * nb + b;
      s[i] = k0 + QBLOCK <= K ? quantize_block(A + m * K + k0, q + m * Kp + k0, sum + i) : quantize_block_scalar(A + m * K, k0, K, q + m * Kp, sum + i);
    }
}

// Weight block b of a row as 32 signed bytes.
template <int KIND>
static inline __m256i load_wblock(const uint8_t* row, long b) {
  if (KIND == 0) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + b * QBLOCK));
  // Bytes 0..15 hold values 0..15 in their low nibbles and 16..31 in their high ones (Q4_0: q+8).
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + b * QBLOCK / 2));
  const __m256i both = _mm256_insertf128_si256(_mm256_castsi128_si256(raw), _mm_srli_epi16(raw, 4), 1);
  const __m256i nib = _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
  return KIND == 1 ? _mm256_sub_epi8(nib, _mm256_set1_epi8(8)) : nib;
}

static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Q4_1's minimum term Σ_b m_w·xsum, 8 blocks per FMA.
static inline float dot_blocks8(const float* a, const float* b, long nb) {
  __m256 s = _mm256_setzero_ps();
  long i = 0;
  for (; i + 8 <= nb; i += 8) s = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s);
  float r = hsum8(s);
  for (; i < nb; i++) r += a[i] * b[i];
  return r;
}

// NR weight rows from n × MR activation rows from m, over all nb blocks.
template <int KIND, int NR, int MR>
static inline void micro(const uint8_t* w, long wrow, const float* dw, long nb, const int8_t* xq, long Kp, const float* xs, float* C, long ldc,
                         float alpha, float beta) {
  __m256 acc[NR][MR];
  for (int i = 0; i < NR; i++)
    for (int j = 0; j < MR; j++) acc[i][j] = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  for (long b = 0; b < nb; b++) {
    __m256i xv[MR];
    for (int j = 0; j < MR; j++) xv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + j * Kp + b * QBLOCK));
    for (int i = 0; i < NR; i++) {
      const __m256i wv = load_wblock<KIND>(w + i * wrow, b);
      const __m256i aw = _mm256_sign_epi8(wv, wv);
      const __m256 dwi = _mm256_broadcast_ss(dw + i * nb + b);
      for (int j = 0; j < MR; j++) {
        const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(xv[j], wv)), ones);
        acc[i][j] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(p), dwi), _mm256_set1_ps(xs[j * nb + b]), acc[i][j]);
      }
    }
  }
  for (int i = 0; i < NR; i++)
    for (int j = 0; j < MR; j++) store_out(C + j * ldc + i, hsum8(acc[i][j]), alpha, beta);
}

static inline void widen_f16(const uint16_t* h, long n, float* out) {
  long i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
  for (; i < n; i++) out[i] = _cvtsh_ss(h[i]);
}

// The weight rows' f16 scales (and minimums) are widened once per row group into a thread's
// buffer, so the inner loop broadcasts them from memory. Q4_1's minimum term is added after the
// register tiles, in a pass of its own, so the tiles run Q4_0's code (inside them, the extra
// registers and work doubled the time of a 64-row product).
template <int KIND, int NR>
static inline void row_group(const uint8_t* w, long wrow, const uint16_t* dw16, const uint16_t* mw16, long nb, const int8_t* xq, const float* xs,
                             const float* xsum, long m0, long m1, float* C, long ldc, float alpha, float beta) {
  const long Kp = nb * QBLOCK;
  static thread_local std::vector<float> scales;
  scales.resize(static_cast<size_t>(2 * NR * nb));
  float* dw = scales.data();
  float* mw = mw16 ? dw + NR * nb : nullptr;
  widen_f16(dw16, NR * nb, dw);
  if (mw) widen_f16(mw16, NR * nb, mw);
  long m = m0;
  for (; m + 2 <= m1; m += 2) micro<KIND, NR, 2>(w, wrow, dw, nb, xq + m * Kp, Kp, xs + m * nb, C + m * ldc, ldc, alpha, beta);
  if (m < m1) micro<KIND, NR, 1>(w, wrow, dw, nb, xq + m * Kp, Kp, xs + m * nb, C + m * ldc, ldc, alpha, beta);
  if (mw)
    for (m = m0; m < m1; m++)
      for (int i = 0; i < NR; i++) C[m * ldc + i] += alpha * dot_blocks8(mw + i * nb, xsum + m * nb, nb);
}

// 4-bit rows meeting more than one pair of activation rows are unpacked once to Q8_0 bytes (a
// thread's buffer of 4·Kp), so the nibble unpacking is paid once per tile instead of per pair.
template <int KIND, int NR>
static inline const uint8_t* unpack_q4(const uint8_t* w, long wrow, long nb, std::vector<int8_t>& buf) {
  buf.resize(static_cast<size_t>(NR * nb * QBLOCK));
  for (int i = 0; i < NR; i++)
    for (long b = 0; b < nb; b++)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(buf.data() + (i * nb + b) * QBLOCK), load_wblock<KIND>(w + i * wrow, b));
  return reinterpret_cast<const uint8_t*>(buf.data());
}

template <int KIND>
static void tile_kind(const uint8_t* w, const uint16_t* dw, const uint16_t* mw, long nb, long n0, long n1, const int8_t* xq, const float* xs,
                      const float* xsum, long m0, long m1, float* C, long ldc, float alpha, float beta) {
  const long Kp = nb * QBLOCK, wrow = KIND == 0 ? Kp : Kp / 2;
  const bool unpack = KIND != 0 && m1 - m0 > 2;
  static thread_local std::vector<int8_t> buf;
  long n = n0;
  for (; n + 4 <= n1; n += 4) {
    const uint16_t* mn = mw ? mw + n * nb : nullptr;
    if (unpack) row_group<0, 4>(unpack_q4<KIND, 4>(w + n * wrow, wrow, nb, buf), Kp, dw + n * nb, mn, nb, xq, xs, xsum, m0, m1, C + n, ldc, alpha, beta);
    else row_group<KIND, 4>(w + n * wrow, wrow, dw + n * nb, mn, nb, xq, xs, xsum, m0, m1, C + n, ldc, alpha, beta);
  }
  for (; n < n1; n++) {
    const uint16_t* mn = mw ? mw + n * nb : nullptr;
    if (unpack) row_group<0, 1>(unpack_q4<KIND, 1>(w + n * wrow, wrow, nb, buf), Kp, dw + n * nb, mn, nb, xq, xs, xsum, m0, m1, C + n, ldc, alpha, beta);
    else row_group<KIND, 1>(w + n * wrow, wrow, dw + n * nb, mn, nb, xq, xs, xsum, m0, m1, C + n, ldc, alpha, beta);
  }
}
#else
static void quantize_rows(const float* A, long M, long K, long Kp, int8_t* q, float* s, float* sum) {
  const long nb = Kp / QBLOCK;
  for (long m = 0; m < M; m++)
    for (long b = 0; b < nb; b++)
      s[m * nb + b] = quantize_block_scalar(A + m * K, b * QBLOCK, b * QBLOCK + QBLOCK < K ? b * QBLOCK + QBLOCK : K, q + m * Kp, sum + m * nb + b);
}

template <int KIND>
static void tile_kind(const uint8_t* w, const uint16_t* dw, const uint16_t* mw, long nb, long n0, long n1, const int8_t* xq, const float* xs,
                      const float* xsum, long m0, long m1, float* C, long ldc, float alpha, float beta) {
  const long Kp = nb * QBLOCK, wrow = KIND == 0 ? Kp : Kp / 2;
  int8_t v[QBLOCK];
  for (long n = n0; n < n1; n++)
    for (long m = m0; m < m1; m++) {
      float acc = 0;
      for (long b = 0; b < nb; b++) {
        const int8_t* wb = reinterpret_cast<const int8_t*>(w + n * wrow + b * QBLOCK);
        if (KIND != 0) {
          const uint8_t* p = w + n * wrow + b * QBLOCK / 2;
          const int off = KIND == 1 ? 8 : 0;
          for (long j = 0; j < QBLOCK / 2; j++) {
            v[j] = static_cast<int8_t>((p[j] & 15) - off);
            v[j + QBLOCK / 2] = static_cast<int8_t>((p[j] >> 4) - off);
          }
          wb = v;
        }
        acc += (f16_to_f32(dw[n * nb + b]) * xs[m * nb + b]) * static_cast<float>(idot_block(wb, xq + m * Kp + b * QBLOCK));
        if (mw) acc += f16_to_f32(mw[n * nb + b]) * xsum[m * nb + b];
      }
      store_out(C + m * ldc + n, acc, alpha, beta);
    }
}
#endif

static void tile(int kind, const void* qs, const uint16_t* dw, const uint16_t* mw, long nb, long n0, long n1, const int8_t* xq, const float* xs,
                 const float* xsum, long m0, long m1, float* C, long ldc, float alpha, float beta) {
  const uint8_t* w = static_cast<const uint8_t*>(qs);
  if (kind == 0) tile_kind<0>(w, dw, nullptr, nb, n0, n1, xq, xs, xsum, m0, m1, C, ldc, alpha, beta);
  else if (kind == 1) tile_kind<1>(w, dw, nullptr, nb, n0, n1, xq, xs, xsum, m0, m1, C, ldc, alpha, beta);
  else tile_kind<2>(w, dw, mw, nb, n0, n1, xq, xs, xsum, m0, m1, C, ldc, alpha, beta);
}

const QuantKernel table{QUANT_NAME, quantize_rows, tile};
