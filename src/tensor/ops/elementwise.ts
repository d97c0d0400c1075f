/**
 * add / mul / scale with the one broadcast a transformer needs: the right operand's shape may be
 * a suffix of the left's (a bias or a per-channel weight repeated over rows). Its gradient is
 * summed over the repeated rows.
 */
import { makeOutput } from "../autograd.js";
import { backend } from "../backend/index.js";
import { takeF32 } from "../pool.js";
import { ShapeError, shapeStr, Tensor } from "../tensor.js";

function broadcastRows(op: string, a: Tensor, b: Tensor): number {
  const k = b.rank;
  const suffix = a.shape.slice(a.rank - k);
  if (k > a.rank || suffix.some((d, i) => d !== b.shape[i]))
    throw new ShapeError(op, `cannot broadcast b ${shapeStr(b.shape)} onto a ${shapeStr(a.shape)} (b must match a's trailing dims)`);
  return a.size / Math.max(b.size, 1);
}

/** Σ over repeated rows: the gradient of a broadcast operand. */
function sumRows(g: Float32Array, rows: number, width: number): Float32Array {
  const out = new Float32Array(width);
  for (let r = 0; r < rows; r++) {
    const off = r * width;
    for (let c = 0; c < width; c++) out[c] += g[off + c]!;
  }
  return out;
}

export function add(a: Tensor, b: Tensor): Tensor {
  const rows = broadcastRows("add", a, b);
  const be = backend();
  const out = takeF32(a.size); // every row written below
  const A = a.f32;
  const B = b.f32;
  if (rows === 1) be.add(A, B, out);
  else for (let r = 0; r < rows; r++) be.add(A.subarray(r * B.length, (r + 1) * B.length), B, out.subarray(r * B.length, (r + 1) * B.length));
  return makeOutput("add", out, a.shape, [a, b], (g) => [a.requiresGrad ? g : null, b.requiresGrad ? (rows === 1 ? g : sumRows(g, rows, b.size)) : null]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  const rows = broadcastRows("mul", a, b);
  const be = backend();
  const A = a.f32;
  const B = b.f32;
  const out = new Float32Array(a.size);
  const w = B.length;
  if (rows === 1) be.mul(A, B, out);
  else for (let r = 0; r < rows; r++) be.mul(A.subarray(r * w, (r + 1) * w), B, out.subarray(r * w, (r + 1) * w));
  return makeOutput("mul", out, a.shape, [a, b], (g) => {
    let dA: Float32Array | null = null;
    let dB: Float32Array | null = null;
    if (a.requiresGrad) {
      dA = new Float32Array(a.size);
      if (rows === 1) be.mul(g, B, dA);
      else for (let r = 0; r < rows; r++) be.mul(g.subarray(r * w, (r + 1) * w), B, dA.subarray(r * w, (r + 1) * w));
    }
    if (b.requiresGrad) {
      const prod = new Float32Array(a.size);
      be.mul(g, A, prod);
      dB = rows === 1 ? prod : sumRows(prod, rows, w);
    }
    return [dA, dB];
  });
}

export function scale(a: Tensor, alpha: number): Tensor {
  const out = new Float32Array(a.size);
  backend().scale(a.f32, alpha, out);
  return makeOutput("scale", out, a.shape, [a], (g) => {
    const d = new Float32Array(g.length);
    backend().scale(g, alpha, d);
    return [d];
  });
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return add(a, scale(b, -1));
}
