/** Task type -> implementation. */
import type { TaskRunner } from "./context.js";
import type { TaskType } from "./spec.js";
import { runClassification } from "./classification.js";
import { runClustering } from "./clustering.js";
import { runPairClassification } from "./pair-classification.js";
import { runRetrieval } from "./retrieval.js";
import { runSts } from "./sts.js";
import { runWordProbe } from "./word-probe.js";

export const TASK_RUNNERS: Record<TaskType, TaskRunner> = {
  STS: runSts,
  Retrieval: runRetrieval,
  Classification: runClassification,
  Clustering: runClustering,
  PairClassification: runPairClassification,
  WordProbe: runWordProbe,
};

export * from "./spec.js";
export { validateTaskFile } from "./validate.js";
export * from "./context.js";
export * from "./data.js";
export * from "./instructions.js";
export { undersample } from "./classification.js";
