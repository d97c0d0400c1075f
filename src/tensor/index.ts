export * from "./tensor.js";
export * from "./dtype.js";
export * from "./autograd.js";
export * from "./compute.js";
export * from "./ops/index.js";
export { backend, setBackend, referenceBackend } from "./backend/index.js";
export type { Backend, GatedActivation } from "./backend/types.js";
export { Rng } from "./random.js";
