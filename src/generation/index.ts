export { ChatTemplate, ChatTemplateError, type ChatMessage, type ChatTemplateTokens } from "./chat-template.js";
export { TextStream } from "./text-stream.js";
export { DEFAULT_MAX_TOKENS, defaultStopIds, generateText, TextDecodeSession, type GeneratedText, type TextDelta, type TextGenerateOptions } from "./text-session.js";
