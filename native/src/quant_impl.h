// The dot kernels' bodies, included inside an ISA namespace (generic, AVX2). The AVX2 form is
// llama.cpp's: vpmaddubsw multiplies unsigned by signed bytes, so |w| (unsigned) meets x with w's
// sign moved onto it (vpsignb), which gives w·x pairwise in int16 (at most 2·127·127, no
// saturation); vpmaddwd sums pairs to int32 lanes, converted to f32 and fused-multiplied by the
// block's d_w·d_x.

static inline int32_t idot_block(const int8_t* w, const int8_t* x) {
  int32_t s = 0;
  for (long j = 0; j < QBLOCK; j++) s += static_cast<int32_t>(w[j]) * x[j];
  return s;
}

#if defined(__AVX2__) && defined(__FMA__)
static inline __m256 block_dot_f32(__m256i w, __m256i x) {
  const __m256i aw = _mm256_sign_epi8(w, w);
  const __m256i sx = _mm256_sign_epi8(x, w);
  const __m256i p16 = _mm256_maddubs_epi16(aw, sx);
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static float dot_q8(const int8_t* w, const uint16_t* dw, const int8_t* x, const float* dx, long nb) {
  __m256 acc = _mm256_setzero_ps();
  for (long b = 0; b < nb; b++) {
    const __m256 d = _mm256_set1_ps(f16_to_f32(dw[b]) * dx[b]);
    const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + b * QBLOCK));
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + b * QBLOCK));
    acc = _mm256_fmadd_ps(d, block_dot_f32(wv, xv), acc);
  }
  return hsum8(acc);
}

static float dot_q4(const uint8_t* w, const uint16_t* dw, const int8_t* x, const float* dx, long nb) {
  __m256 acc = _mm256_setzero_ps();
  const __m256i low = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
  for (long b = 0; b < nb; b++) {
    const __m256 d = _mm256_set1_ps(f16_to_f32(dw[b]) * dx[b]);
    // Bytes 0..15 hold values 0..15 in their low nibbles and 16..31 in their high ones.
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + b * QBLOCK / 2));
    const __m256i both = _mm256_insertf128_si256(_mm256_castsi128_si256(raw), _mm_srli_epi16(raw, 4), 1);
    const __m256i wv = _mm256_sub_epi8(_mm256_and_si256(both, low), eight);
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + b * QBLOCK));
    acc = _mm256_fmadd_ps(d, block_dot_f32(wv, xv), acc);
  }
  return hsum8(acc);
}
#else
static float dot_q8(const int8_t* w, const uint16_t* dw, const int8_t* x, const float* dx, long nb) {
  float acc = 0;
  for (long b = 0; b < nb; b++) acc += (f16_to_f32(dw[b]) * dx[b]) * static_cast<float>(idot_block(w + b * QBLOCK, x + b * QBLOCK));
  return acc;
}

static float dot_q4(const uint8_t* w, const uint16_t* dw, const int8_t* x, const float* dx, long nb) {
  float acc = 0;
  int8_t v[QBLOCK];
  for (long b = 0; b < nb; b++) {
    const uint8_t* p = w + b * QBLOCK / 2;
    for (long j = 0; j < QBLOCK / 2; j++) {
      v[j] = static_cast<int8_t>((p[j] & 15) - 8);
      v[j + QBLOCK / 2] = static_cast<int8_t>((p[j] >> 4) - 8);
    }
    acc += (f16_to_f32(dw[b]) * dx[b]) * static_cast<float>(idot_block(v, x + b * QBLOCK));
  }
  return acc;
}
#endif

const QuantKernel table{QUANT_NAME, dot_q8, dot_q4};
