/**
 * Learning-rate schedules as the HF Trainer builds them (transformers' get_*_schedule_with_warmup,
 * a LambdaLR stepped after each optimizer step): update k (0-based) uses lr · factor(k), so with
 * warmup the first update has lr 0, exactly as there.
 */
export type ScheduleKind = "linear" | "constant";

export interface ScheduleOptions {
  kind: ScheduleKind;
  peakLr: number;
  warmupSteps: number;
  /** The step count the linear decay reaches zero at (usually the run's max steps). */
  totalSteps: number;
}

export function learningRate(o: ScheduleOptions, step: number): number {
  const w = o.warmupSteps;
  if (step < w) return (o.peakLr * step) / Math.max(1, w);
  if (o.kind === "constant") return o.peakLr;
  return o.peakLr * Math.max(0, (o.totalSteps - step) / Math.max(1, o.totalSteps - w));
}
