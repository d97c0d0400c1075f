// The kernel table for one ISA; included by kernels_generic.cc and kernels_avx2.cc inside
// their own namespace (so the two compilations never share a symbol).
#include "simd.h"
#include "attention_impl.h"
#include "norm_rope_impl.h"
#include "pointwise_impl.h"
#include "dropout_impl.h"

static const llm::Kernels table = {
    KERNELS_NAME, attn_fwd, attn_bwd, rmsnorm_fwd, rmsnorm_bwd, rope,     gated_fwd, gated_bwd,
    ce_fwd,       ce_bwd,   embedding, ew_add,     ew_mul,      ew_axpy, ew_scale, dropout_apply,
};
