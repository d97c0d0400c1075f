"""Plain-PyTorch reference of the Hugging Face decoder families used by LLM2Vec.

Independent of `transformers` (not installed here). Written from HF's
modeling_{llama,mistral,qwen2,gemma}.py and modeling_rope_utils.py (the 4.43/4.44
code paths that LLM2Vec pins) so that, given the same weights, it produces the
same last hidden state and logits as HF's eager attention in float32:

  * RMSNorm: x * rsqrt(mean(x^2) + eps), computed in float32, then
      llama/mistral/qwen2: weight * x          gemma: x * (1 + weight)
  * RoPE: rotate-half, inv_freq = 1 / theta^(arange(0, D, 2) / D), optional
    `rope_scaling` type "llama3" (_compute_llama3_parameters)
  * GQA: kv heads repeated (repeat_kv) to the number of query heads
  * MLP: down(act(gate(x)) * up(x)), act = silu (gemma: gelu tanh approx.)
  * qwen2: q/k/v projections have biases; llama: `attention_bias`/`mlp_bias`
  * qwen3 (modeling_qwen3.py / configuration_qwen3.py, transformers main, read 2026):
    Qwen3Attention builds q/k/v/o with bias=config.attention_bias and
    `q_norm`/`k_norm = Qwen3RMSNorm(head_dim, eps=rms_norm_eps)`, applied to
    `q_proj(x).view(*input_shape, -1, head_dim)` (per head, before the transpose)
    and only then RoPE (`query_states = self.q_norm(self.q_proj(hidden_states)
    .view(hidden_shape)).transpose(1, 2)`, then `apply_rotary_pos_emb`);
    `self.sliding_window = config.sliding_window if self.layer_type ==
    "sliding_attention" else None`; Qwen3Config.__post_init__: `sliding_window =
    sliding_window if use_sliding_window else None` and, without `layer_types`,
    layer i slides iff `sliding_window is not None and i >= max_window_layers`;
    defaults head_dim 128, tie_word_embeddings False, attention_bias False
  * phi3 (modeling_phi3.py at huggingface/transformers 00d4b3d2142c, configuration_phi3.py,
    modeling_rope_utils.py):
      Phi3Attention: `self.qkv_proj = nn.Linear(config.hidden_size, op_size, bias=False)` with
      `op_size = num_attention_heads * head_dim + 2 * (num_key_value_heads * head_dim)`, split as
      `query_states = qkv[..., :query_pos]`, `key_states = qkv[..., query_pos : query_pos +
      num_key_value_heads * head_dim]`, `value_states = qkv[..., query_pos + ...:]`; o_proj has no bias.
      Phi3MLP: `self.gate_up_proj = nn.Linear(hidden_size, 2 * intermediate_size, bias=False)`,
      `gate, up_states = up_states.chunk(2, dim=-1)`, `up_states = up_states * activation_fn(gate)`.
      Phi3Config._rope_scaling_adjustment: types "su" and "yarn" become "longrope".
      _compute_longrope_parameters: `factor = max_position_embeddings / original_max_position_embeddings`,
      `attention_factor = sqrt(1 + log(factor) / log(original_max_position_embeddings))` unless given
      (1.0 when factor <= 1), `ext_factors = long_factor if seq_len > original_max_position_embeddings
      else short_factor`, `inv_freq = 1.0 / (ext_factors * base ** (arange(0, dim, 2).float() / dim))`;
      longrope_frequency_update: `seq_len = torch.max(position_ids) + 1` picks the factors per call;
      Phi3RotaryEmbedding.forward: `cos = emb.cos() * self.attention_scaling` (sin alike).
      Defaults rms_norm_eps 1e-5, max/original_max_position_embeddings 4096; the sliding window
      (`sliding_window`, Phi-3-mini: 2047) masks causally like Mistral's.
  * gemma: embeddings * sqrt(hidden_size) (the scalar cast to the compute dtype
    first, as HF does), explicit head_dim, tied lm_head
  * gemma2 (modeling_gemma2.py at huggingface/transformers 006e86931247, configuration_gemma2.py):
      Gemma's (1 + w) RMSNorm, sqrt(hidden) embedding scale, gelu_pytorch_tanh MLP and tied head;
      Gemma2Attention.__init__: `self.scaling = config.query_pre_attn_scalar**-0.5`,
      `self.sliding_window = config.sliding_window if not bool(layer_idx % 2) else None` (even
      layers slide; newer configs' `layer_types` default is "sliding_attention" iff (i + 1) % 2);
      eager_attention_forward: `attn_weights = torch.matmul(query, key_states.transpose(2, 3)) *
      config.scaling`, then `attn_weights / config.attn_logit_softcapping`, `torch.tanh`,
      `* config.attn_logit_softcapping`, and only then `attn_weights + causal_mask`;
      Gemma2DecoderLayer.forward: `hidden_states = self.input_layernorm(hidden_states)`, self_attn,
      `hidden_states = self.post_attention_layernorm(hidden_states)`, `residual + hidden_states`,
      then `self.pre_feedforward_layernorm`, mlp, `self.post_feedforward_layernorm`, `residual +
      hidden_states`; Gemma2ForCausalLM.forward: `logits = logits / self.config.final_logit_softcapping`,
      `torch.tanh(logits)`, `logits * self.config.final_logit_softcapping`.
  * attention: softmax(q k^T / sqrt(head_dim) + mask) v with an additive mask
    that is 0 where allowed and finfo(dtype).min where not (as HF eager does).

Attention modes (LLM2Vec semantics, docs/llm2vec.md §1a):
  causal        key j visible from query i iff attention_mask[j] == 1 and j <= i
                (mistral: and j > i - sliding_window when a window is configured)
  bidirectional key j visible iff attention_mask[j] == 1 (no triangle, no window)
Positions are always 0..T-1 over the padded row (what HF does when position_ids
is not passed, also under left padding). Query rows whose keys are all masked
(pad queries in causal mode under left padding) get a uniform softmax because
every score becomes finfo.min, exactly like HF; their outputs are meaningless.

Usage as a library:
    from hf_model import load_model
    model = load_model("path/to/hf_folder")          # float32 compute
    hidden, logits = model.forward(ids, mask, mode="bidirectional")
    # forward() runs under torch.no_grad(); forward_grad() is the same pass for autograd.
    # dtype=torch.float64 computes in double (RoPE cos/sin are still computed in float32,
    # as HF does); the training fixtures use it.
CLI smoke test:
    /usr/bin/python3 scripts/reference/hf_model.py DIR [--mode bidirectional]
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import load_hf_folder_tensors  # noqa: E402

FAMILIES = ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3")

# HF config defaults for the fields we read (used only when config.json omits them).
_DEFAULTS = {
    "llama": dict(rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False, hidden_act="silu"),
    "mistral": dict(rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False, hidden_act="silu",
                    sliding_window=4096),
    "qwen2": dict(rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False, hidden_act="silu"),
    "qwen3": dict(rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False, hidden_act="silu",
                  head_dim=128, sliding_window=4096, max_window_layers=28),
    "gemma": dict(rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=True, hidden_act="gelu_pytorch_tanh",
                  head_dim=256),
    "gemma2": dict(rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=True, head_dim=256,
                   sliding_window=4096, query_pre_attn_scalar=256, attn_logit_softcapping=50.0,
                   final_logit_softcapping=30.0),
    "phi3": dict(rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False, hidden_act="silu",
                 max_position_embeddings=4096, original_max_position_embeddings=4096),
}


class Config:
    """The subset of an HF config.json that the forward pass needs."""

    def __init__(self, d: dict):
        mt = d.get("model_type")
        if mt not in FAMILIES:
            raise ValueError(f"unsupported model_type {mt!r}; expected one of {FAMILIES}")
        defaults = _DEFAULTS[mt]
        g = lambda k: d.get(k) if d.get(k) is not None else defaults.get(k)  # noqa: E731
        self.model_type = mt
        self.vocab_size = d["vocab_size"]
        self.hidden_size = d["hidden_size"]
        self.intermediate_size = d["intermediate_size"]
        self.num_hidden_layers = d["num_hidden_layers"]
        self.num_attention_heads = d["num_attention_heads"]
        self.num_key_value_heads = d.get("num_key_value_heads") or self.num_attention_heads
        # llama (>=4.45) and gemma have an explicit head_dim; otherwise hidden/heads.
        hd = d.get("head_dim") if mt not in ("gemma", "gemma2", "qwen3") else g("head_dim")
        self.head_dim = hd if hd else self.hidden_size // self.num_attention_heads
        self.rms_norm_eps = g("rms_norm_eps")
        self.rope_theta = float(g("rope_theta"))
        self.rope_scaling = d.get("rope_scaling")
        self.tie_word_embeddings = bool(g("tie_word_embeddings"))
        # Gemma and Gemma 2: (1 + w) norms, embeddings * sqrt(hidden).
        self.gemma_like = mt in ("gemma", "gemma2")
        self.gemma2 = mt == "gemma2"
        # Gemma 2: attention scale query_pre_attn_scalar**-0.5, soft-caps (None = off).
        self.attn_scale = g("query_pre_attn_scalar") ** -0.5 if self.gemma2 else None
        self.attn_softcap = d.get("attn_logit_softcapping", _DEFAULTS["gemma2"]["attn_logit_softcapping"]) if self.gemma2 else None
        self.final_softcap = d.get("final_logit_softcapping", _DEFAULTS["gemma2"]["final_logit_softcapping"]) if self.gemma2 else None
        if self.gemma_like:
            # GemmaMLP uses `hidden_activation`; when it is None HF forces
            # gelu_pytorch_tanh (the legacy `hidden_act: "gelu"` is ignored).
            self.hidden_act = d.get("hidden_activation") or "gelu_pytorch_tanh"
        else:
            self.hidden_act = g("hidden_act")
        # qwen2 always has q/k/v biases; llama has an optional `attention_bias`.
        # qwen3: attention_bias on all four (Qwen3Attention's nn.Linear(..., bias=config.attention_bias)).
        self.qkv_bias = True if mt == "qwen2" else False if mt == "phi3" else bool(d.get("attention_bias", False))
        self.o_bias = False if mt in ("qwen2", "phi3") else bool(d.get("attention_bias", False))
        # phi3: one qkv_proj and one gate_up_proj.
        self.fused = mt == "phi3"
        self.max_position_embeddings = g("max_position_embeddings")
        self.original_max_position_embeddings = g("original_max_position_embeddings")
        self.mlp_bias = bool(d.get("mlp_bias", False))
        self.qk_norm = mt == "qwen3"
        # Per-layer windows (qwen3's layer_types); None = the one `sliding_window` for all layers.
        self.layer_windows = None
        # Sliding window only matters in causal mode (LLM2Vec's bidirectional mask disables it).
        if mt == "gemma2":
            window = g("sliding_window")
            types = d.get("layer_types") or [
                "sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(self.num_hidden_layers)]
            self.sliding_window = None
            self.layer_windows = [window if t == "sliding_attention" else None for t in types]
        elif mt == "qwen3":
            window = g("sliding_window") if d.get("use_sliding_window") else None
            types = d.get("layer_types") or [
                "sliding_attention" if window is not None and i >= g("max_window_layers") else "full_attention"
                for i in range(self.num_hidden_layers)]
            self.sliding_window = None
            self.layer_windows = [window if t == "sliding_attention" else None for t in types]
        elif mt in ("mistral", "phi3"):
            self.sliding_window = g("sliding_window")
        elif mt == "qwen2" and d.get("use_sliding_window"):
            # HF qwen2 applies the window only to layers >= max_window_layers; we do
            # not model that split, so refuse rather than be silently wrong.
            raise NotImplementedError("qwen2 use_sliding_window=true is not modelled")
        else:
            self.sliding_window = None


def _at_least_f32(dtype):
    """float32 for float32/bf16/f16 (HF's upcasts); float64 stays float64."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _act(name):
    if name in ("silu", "swish"):
        return F.silu
    if name in ("gelu_pytorch_tanh", "gelu_new", "gelu_fast"):
        # gelu_new/gelu_fast are the same tanh formula up to rounding.
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "gelu":
        return F.gelu
    raise ValueError(f"unsupported activation {name}")


def rope_inv_freq(cfg: Config, seq_len=None):
    """(inv_freq, attention_scaling) as in modeling_rope_utils (default, llama3, longrope), float32.
    seq_len: the forward's max position + 1 (longrope picks its factors by it)."""
    dim = cfg.head_dim
    base = cfg.rope_theta
    # _compute_default_rope_parameters: int64 arange -> float32, pow in float32.
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    rs = cfg.rope_scaling
    if rs is None:
        return inv_freq, 1.0
    rtype = rs.get("rope_type", rs.get("type"))
    if rtype in (None, "default"):
        return inv_freq, 1.0
    if cfg.model_type == "phi3" and rtype in ("longrope", "su", "yarn"):
        # _compute_longrope_parameters (Phi3Config maps "su"/"yarn" to "longrope")
        original = cfg.original_max_position_embeddings
        factor = cfg.max_position_embeddings / original
        attention_factor = rs.get("attention_factor")
        if attention_factor is None:
            attention_factor = 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(original))
        ext = rs["long_factor"] if seq_len and seq_len > original else rs["short_factor"]
        ext_factors = torch.tensor(ext, dtype=torch.float32)
        shape = torch.arange(0, dim, 2, dtype=torch.int64).float() / dim
        return 1.0 / (ext_factors * base ** shape), attention_factor
    if rtype != "llama3":
        raise NotImplementedError(f"rope_scaling type {rtype!r} not supported")
    # _compute_llama3_parameters
    factor = rs["factor"]
    low_freq_factor = rs["low_freq_factor"]
    high_freq_factor = rs["high_freq_factor"]
    old_context_len = rs["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    # wavelen < high_freq_wavelen: keep; wavelen > low_freq_wavelen: divide by factor
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    # in between: interpolate smoothly
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama), 1.0


def rope_cos_sin(inv_freq, T, dtype, attention_scaling=1.0, positions=None):
    """cos/sin [T, D] for positions 0..T-1 (or `positions`), computed in float32 (HF autocast-off
    block), times attention_scaling (1.0 except longrope)."""
    pos = (torch.arange(T, dtype=torch.int64) if positions is None else torch.as_tensor(positions)).float()
    freqs = pos[:, None] * inv_freq.float()[None, :]  # == HF's (inv_freq @ position_ids)
    emb = torch.cat((freqs, freqs), dim=-1)
    return (emb.cos() * attention_scaling).to(dtype), (emb.sin() * attention_scaling).to(dtype)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def build_attention_mask(attention_mask, mode, dtype=torch.float32, sliding_window=None):
    """Additive mask [B, 1, T, T]: 0 = attend, finfo(dtype).min = blocked."""
    am = attention_mask.to(torch.bool)
    B, T = am.shape
    allowed = am[:, None, None, :].expand(B, 1, T, T)
    if mode == "causal":
        i = torch.arange(T)[:, None]
        j = torch.arange(T)[None, :]
        tri = j <= i
        if sliding_window is not None:
            # HF mistral: exclude j <= i - sliding_window
            tri = tri & (j > i - sliding_window)
        allowed = allowed & tri
    elif mode != "bidirectional":
        raise ValueError(f"mode must be causal or bidirectional, got {mode}")
    mask = torch.zeros(B, 1, T, T, dtype=dtype)
    return mask.masked_fill(~allowed, torch.finfo(dtype).min)


class HFDecoder:
    """Functional decoder: holds a dict of weights (HF names without the `model.` prefix)."""

    def __init__(self, cfg: Config, weights: dict, dtype=torch.float32):
        """weights: HF tensor names -> tensors (any float dtype); consumed (emptied)."""
        self.cfg = cfg
        self.dtype = dtype
        w = {}
        # Convert tensor by tensor and pop each source tensor from `weights` (which is
        # emptied) so that a bf16 checkpoint upcast to f32 never holds both full copies.
        for k in list(weights):
            v = weights.pop(k)
            # Accept both *ForCausalLM names (model.layers...) and bare *Model names
            # (layers..., as LLM2Vec's BiModel saves them).
            k2 = k[len("model."):] if k.startswith("model.") else k
            w[k2] = v.to(dtype).contiguous()
            del v
        if cfg.tie_word_embeddings:
            # Tied: HF usually does not store lm_head.weight, and if it does,
            # tie_weights() replaces it by the embedding matrix anyway.
            w["lm_head.weight"] = w["embed_tokens.weight"]
        elif "lm_head.weight" not in w:
            # A bare *Model checkpoint (e.g. LLM2Vec BiModel) has no head; logits are unavailable.
            w["lm_head.weight"] = None
        self.w = w
        self.act = _act(cfg.hidden_act)

    # -- building blocks ------------------------------------------------------
    def rms_norm(self, x, weight):
        eps = self.cfg.rms_norm_eps
        # float32 as HF does (float64 stays float64: the training reference runs in double)
        xf = x.to(_at_least_f32(x.dtype))
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
        if self.cfg.gemma_like:
            # GemmaRMSNorm: (x * rstd) * (1 + w) in float32, then back to x.dtype
            return (xf * (1.0 + weight.to(xf.dtype))).to(x.dtype)
        # LlamaRMSNorm: weight * (x * rstd).to(input_dtype)
        return weight * xf.to(x.dtype)

    def linear(self, x, prefix, bias):
        b = self.w.get(prefix + ".bias") if bias else None
        return F.linear(x, self.w[prefix + ".weight"], b)

    def attention(self, x, i, mask, cos, sin):
        cfg = self.cfg
        B, T, _ = x.shape
        H, KV, D = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        p = f"layers.{i}.self_attn"
        if cfg.fused:
            qkv = self.linear(x, p + ".qkv_proj", False)
            qf, kf, vf = qkv[..., :H * D], qkv[..., H * D:(H + KV) * D], qkv[..., (H + KV) * D:]
        else:
            qf = self.linear(x, p + ".q_proj", cfg.qkv_bias)
            kf = self.linear(x, p + ".k_proj", cfg.qkv_bias)
            vf = self.linear(x, p + ".v_proj", cfg.qkv_bias)
        q = qf.reshape(B, T, H, D)
        k = kf.reshape(B, T, KV, D)
        if cfg.qk_norm:
            # Qwen3: RMSNorm over each head's D values, before RoPE
            q = self.rms_norm(q, self.w[p + ".q_norm.weight"])
            k = self.rms_norm(k, self.w[p + ".k_norm.weight"])
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        v = vf.reshape(B, T, KV, D).transpose(1, 2)
        # apply_rotary_pos_emb: cos/sin broadcast over batch and heads
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # repeat_kv: kv head g serves query heads g*rep .. g*rep+rep-1
        rep = H // KV
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        if cfg.attn_scale is None:
            scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(D)
        else:
            scores = torch.matmul(q, k.transpose(2, 3)) * cfg.attn_scale
        if cfg.attn_softcap is not None:
            # Gemma 2: soft-cap before the mask is added
            scores = torch.tanh(scores / cfg.attn_softcap) * cfg.attn_softcap
        scores = scores + mask
        probs = self.attention_dropout(torch.softmax(scores, dim=-1, dtype=_at_least_f32(q.dtype)).to(q.dtype), i)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, H * D)
        return self.linear(out, p + ".o_proj", cfg.o_bias)

    def attention_dropout(self, probs, i):
        """Dropout on layer i's attention probabilities [B, H, T, S] (HF eager order: softmax ->
        dropout -> P.V). None here (inference); training references override it."""
        return probs

    def mlp(self, x, i):
        p = f"layers.{i}.mlp"
        b = self.cfg.mlp_bias
        if self.cfg.fused:
            gate, up = self.linear(x, p + ".gate_up_proj", False).chunk(2, dim=-1)
            return self.linear(up * self.act(gate), p + ".down_proj", False)
        return self.linear(self.act(self.linear(x, p + ".gate_proj", b)) * self.linear(x, p + ".up_proj", b),
                           p + ".down_proj", b)

    # -- full forward -----------------------------------------------------------
    @torch.no_grad()
    def forward(self, input_ids, attention_mask=None, mode="bidirectional", lm_head=True):
        """input_ids/attention_mask: [B, T] int tensors (or nested lists).
        Returns (last hidden state after the final norm [B,T,C], logits [B,T,V] float32 or None)."""
        return self.forward_grad(input_ids, attention_mask, mode, lm_head)

    def forward_grad(self, input_ids, attention_mask=None, mode="bidirectional", lm_head=True):
        """forward() without torch.no_grad(), for autograd (training references): make the
        tensors in self.w leaves with requires_grad (or override linear()) before calling."""
        cfg = self.cfg
        input_ids = torch.as_tensor(input_ids, dtype=torch.long)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        attention_mask = torch.as_tensor(attention_mask, dtype=torch.long)
        B, T = input_ids.shape
        h = F.embedding(input_ids, self.w["embed_tokens.weight"])
        if cfg.gemma_like:
            # GemmaModel: normalizer = torch.tensor(hidden_size**0.5, dtype=hidden_states.dtype)
            h = h * torch.tensor(cfg.hidden_size ** 0.5, dtype=h.dtype)
        window = cfg.sliding_window if mode == "causal" else None
        mask = build_attention_mask(attention_mask, mode, self.dtype, window)
        inv_freq, scaling = rope_inv_freq(cfg, T)
        cos, sin = rope_cos_sin(inv_freq, T, self.dtype, scaling)
        for i in range(cfg.num_hidden_layers):
            m = mask
            if cfg.layer_windows is not None and mode == "causal" and cfg.layer_windows[i] is not None:
                m = build_attention_mask(attention_mask, mode, self.dtype, cfg.layer_windows[i])
            n = lambda x, name: self.rms_norm(x, self.w[f"layers.{i}.{name}.weight"])  # noqa: E731
            if cfg.gemma2:
                # Gemma2DecoderLayer: norms around both blocks, the post norms before the residual add
                h = h + n(self.attention(n(h, "input_layernorm"), i, m, cos, sin), "post_attention_layernorm")
                h = h + n(self.mlp(n(h, "pre_feedforward_layernorm"), i), "post_feedforward_layernorm")
                continue
            r = h
            h = r + self.attention(n(h, "input_layernorm"), i, m, cos, sin)
            r = h
            h = r + self.mlp(n(h, "post_attention_layernorm"), i)
        h = self.rms_norm(h, self.w["norm.weight"])
        head = self.w["lm_head.weight"]
        # HF upcasts logits to float32 (float64 compute keeps float64)
        logits = F.linear(h, head).to(_at_least_f32(h.dtype)) if (lm_head and head is not None) else None
        if logits is not None and cfg.final_softcap is not None:
            # Gemma2ForCausalLM: final logit soft-cap
            logits = torch.tanh(logits / cfg.final_softcap) * cfg.final_softcap
        return h, logits


def read_config(folder):
    with open(os.path.join(folder, "config.json")) as f:
        return Config(json.load(f))


def load_model(folder, dtype=torch.float32) -> HFDecoder:
    """Load an HF folder (config.json + model.safetensors or sharded index);
    bf16/f16 weights are upcast to `dtype` (float32 by default)."""
    cfg = read_config(folder)
    weights = load_hf_folder_tensors(folder)
    return HFDecoder(cfg, weights, dtype)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--mode", default="bidirectional", choices=["causal", "bidirectional"])
    args = ap.parse_args()
    m = load_model(args.folder)
    ids = torch.randint(0, m.cfg.vocab_size, (2, 7), generator=torch.Generator().manual_seed(0))
    mask = torch.tensor([[1] * 7, [0, 0, 0, 1, 1, 1, 1]])
    h, lg = m.forward(ids, mask, args.mode)
    print(json.dumps({"hidden_shape": list(h.shape), "logits_shape": list(lg.shape),
                      "hidden_mean_abs": h.abs().mean().item(), "logits_std": lg.std().item()}))
