export { ChatTemplate, ChatTemplateError, type ChatMessage, type ChatTemplateTokens } from "./chat-template.js";
export { chatPromptIds, promptIds, type GenerateInput } from "./prompt.js";
export { TextStream } from "./text-stream.js";
export {
  DEFAULT_MAX_TOKENS,
  defaultStopIds,
  generateText,
  generateTextAsync,
  TextDecodeSession,
  type AsyncGenerateOptions,
  type GeneratedText,
  type TextDelta,
  type TextGenerateOptions,
} from "./text-session.js";
