/** Error measures for comparing our tensors with reference values. */

/** max |ours − ref| / max |ref|: the error relative to the reference tensor's scale. */
export function relErr(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(ours[i]! - ref[i]!));
    m = Math.max(m, Math.abs(ref[i]!));
  }
  return d / Math.max(m, 1e-30);
}
