/** The evaluation suite draws from the project-wide seeded generator. */
export { Rng, sampleIndices } from "../tensor/random.js";
