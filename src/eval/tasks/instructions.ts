/**
 * Default instructions (LLM2Vec uses E5-Mistral's MTEB instructions,
 * test_configs/mteb/task_to_instructions.json; all end with ":"). Task files may
 * override per task; these fill in when a task gives none.
 */
import type { TaskType } from "./spec.js";

export const MTEB_INSTRUCTIONS: Record<string, string> = {
  STSBenchmark: "Retrieve semantically similar text:",
  "SICK-R": "Retrieve semantically similar text:",
  Banking77Classification: "Given a online banking query, find the corresponding intents:",
  EmotionClassification: "Classify the emotion expressed in the given Twitter message into one of the six emotions: anger, fear, joy, love, sadness, and surprise:",
  MSMARCO: "Given a web search query, retrieve relevant passages that answer the query:",
};

export const DEFAULT_INSTRUCTIONS: Record<TaskType, string> = {
  STS: "Retrieve semantically similar text:",
  PairClassification: "Retrieve text that are semantically similar to the given text:",
  Retrieval: "Given a web search query, retrieve relevant passages that answer the query:",
  Classification: "Classify the given text:",
  Clustering: "Identify the topic or theme of the given texts:",
  WordProbe: "",
};

/** llm2vec_instruction(): instructions end with ":" — append one if missing. */
export function normalizeInstruction(instr: string): string {
  const t = instr.trim();
  if (t === "") return "";
  return t.endsWith(":") ? t : `${t}:`;
}
