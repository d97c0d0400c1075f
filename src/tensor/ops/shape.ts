/** Views and copies that change shape: reshape (free), slicing and concatenation along a dim. */
import { makeOutput } from "../autograd.js";
import { numel, ShapeError, shapeStr, Tensor } from "../tensor.js";

/** Same buffer, new shape (one dim may be -1). The gradient passes through unchanged. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  if (inferred > 1) throw new ShapeError("reshape", `only one -1 allowed in ${shapeStr(shape)}`);
  const rest = numel(known);
  const full = shape.map((d) => (d === -1 ? (rest === 0 ? 0 : x.size / rest) : d));
  if (numel(full) !== x.size || full.some((d) => !Number.isInteger(d)))
    throw new ShapeError("reshape", `cannot view ${x.label()} (${x.size} elements) as ${shapeStr(shape)}`);
  if (x.dtype !== "f32") return new Tensor(x.data, full, { dtype: x.dtype, name: x.name });
  return makeOutput("reshape", x.f32, full, [x], (g) => [g]);
}

function outerInner(x: Tensor, dim: number): { outer: number; len: number; inner: number } {
  if (dim < 0) dim += x.rank;
  if (dim < 0 || dim >= x.rank) throw new ShapeError("slice", `dim ${dim} out of range for ${x.label()}`);
  return { outer: numel(x.shape.slice(0, dim)), len: x.shape[dim]!, inner: numel(x.shape.slice(dim + 1)) };
}

/** x[..., start:end, ...] along `dim` (a copy). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = dim < 0 ? dim + x.rank : dim;
  const { outer, len, inner } = outerInner(x, d);
  if (start < 0 || length < 0 || start + length > len)
    throw new ShapeError("narrow", `range [${start}, ${start + length}) out of bounds for dim ${d} of ${x.label()}`);
  const src = x.f32;
  const out = new Float32Array(outer * length * inner);
  for (let o = 0; o < outer; o++) out.set(src.subarray((o * len + start) * inner, (o * len + start + length) * inner), o * length * inner);
  const shape = [...x.shape];
  shape[d] = length;
  return makeOutput("narrow", out, shape, [x], (g) => {
    const dx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) dx.set(g.subarray(o * length * inner, (o + 1) * length * inner), (o * len + start) * inner);
    return [dx];
  });
}

/** Concatenation along `dim`; all other dims must agree. */
export function concat(xs: Tensor[], dim: number): Tensor {
  if (xs.length === 0) throw new ShapeError("concat", "no tensors given");
  const first = xs[0]!;
  const d = dim < 0 ? dim + first.rank : dim;
  for (const x of xs)
    if (x.rank !== first.rank || x.shape.some((s, i) => i !== d && s !== first.shape[i]))
      throw new ShapeError("concat", `shapes differ outside dim ${d}: ${xs.map((t) => shapeStr(t.shape)).join(" vs ")}`);
  const outer = numel(first.shape.slice(0, d));
  const inner = numel(first.shape.slice(d + 1));
  const total = xs.reduce((s, x) => s + x.shape[d]!, 0);
  const out = new Float32Array(outer * total * inner);
  let offset = 0;
  const offsets: number[] = [];
  for (const x of xs) {
    const len = x.shape[d]!;
    const src = x.f32;
    for (let o = 0; o < outer; o++) out.set(src.subarray(o * len * inner, (o + 1) * len * inner), (o * total + offset) * inner);
    offsets.push(offset);
    offset += len;
  }
  const shape = [...first.shape];
  shape[d] = total;
  return makeOutput("concat", out, shape, xs, (g) =>
    xs.map((x, i) => {
      if (!x.requiresGrad) return null;
      const len = x.shape[d]!;
      const dx = new Float32Array(x.size);
      for (let o = 0; o < outer; o++) dx.set(g.subarray((o * total + offsets[i]!) * inner, (o * total + offsets[i]! + len) * inner), o * len * inner);
      return dx;
    }),
  );
}

/** Swaps the last two dims (a copy), e.g. for a Kᵀ that a caller wants materialised. */
export function transposeLast2(x: Tensor): Tensor {
  if (x.rank < 2) throw new ShapeError("transposeLast2", `${x.label()} has rank < 2`);
  const [r, c] = x.shape.slice(-2) as [number, number];
  const batch = x.size / (r * c);
  const swap = (src: Float32Array, rows: number, cols: number) => {
    const dst = new Float32Array(src.length);
    for (let b = 0; b < batch; b++) {
      const o = b * rows * cols;
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) dst[o + j * rows + i] = src[o + i * cols + j]!;
    }
    return dst;
  };
  const shape = [...x.shape.slice(0, -2), c, r];
  return makeOutput("transposeLast2", swap(x.f32, r, c), shape, [x], (g) => [swap(g, c, r)]);
}

/**
 * Rows of x viewed as [N, C] (C = last dim), picked by index: out[i] = x[rows[i]] → [M, C].
 * MNTP computes logits only at the positions that predict a masked token this way (full logits
 * at V = 32k for 16k tokens would be ~2 GB). Backward scatter-adds, so a row picked twice gets
 * both gradients.
 */
export function gatherRows(x: Tensor, rows: Int32Array): Tensor {
  const C = x.shape[x.rank - 1]!;
  const N = C === 0 ? 0 : x.size / C;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!(r >= 0 && r < N)) throw new RangeError(`gatherRows: index ${r} at position ${i} is outside the ${N} rows of ${x.label()}`);
  }
  const src = x.f32;
  const M = rows.length;
  const out = new Float32Array(M * C);
  for (let i = 0; i < M; i++) out.set(src.subarray(rows[i]! * C, (rows[i]! + 1) * C), i * C);
  return makeOutput("gatherRows", out, [M, C], [x], (g) => {
    const dx = new Float32Array(x.size);
    for (let i = 0; i < M; i++) {
      const o = rows[i]! * C;
      for (let c = 0; c < C; c++) dx[o + c] += g[i * C + c]!;
    }
    return [dx];
  });
}
