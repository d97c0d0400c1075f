/** Record shapes the readers produce; every record remembers its source line for error messages. */
import type { Qrels } from "../metrics/retrieval.js";

export interface ScoredPair {
  sentence1: string;
  sentence2: string;
  score: number;
  line: number;
}

export interface LabeledPair {
  sentence1: string;
  sentence2: string;
  label: 0 | 1;
  line: number;
}

export interface LabeledText {
  text: string;
  label: string;
  line: number;
}

export interface RetrievalData {
  corpus: Map<string, { title: string; text: string }>;
  queries: Map<string, string>;
  qrels: Qrels;
  /** non-fatal observations (e.g. documented grade mappings), surfaced in the results */
  notes: string[];
}

export interface TaggedSentence {
  tokens: string[];
  /** one tag column per annotation layer, e.g. { pos: [...], chunk: [...], ner: [...] } */
  tags: Record<string, string[]>;
  line: number;
}
