/** Public surface of the evaluation suite. */
export * from "./encoder-interface.js";
export * from "./rng.js";
export * as metrics from "./metrics/index.js";
export * as readers from "./readers/index.js";
export * from "./tasks/index.js";
export * from "./task-file.js";
export * from "./runner.js";
export { buildResult, mainScore, EVAL_VERSION, type TaskResult } from "./report/result.js";
export { renderMarkdown, type FailedTask } from "./report/markdown.js";
export { renderHtml, renderBarChart } from "./report/html.js";
