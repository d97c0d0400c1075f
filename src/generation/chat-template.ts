/**
 * Chat templates: tokenizer_config.json's `chat_template` rendered by @huggingface/jinja, the
 * Jinja implementation Hugging Face's own JavaScript libraries use, with the variables
 * transformers' apply_chat_template passes (messages, add_generation_prompt, the special tokens).
 * A template that does not parse or fails to render is an error naming where it came from.
 */
import { Template } from "@huggingface/jinja";

export interface ChatMessage {
  role: string;
  content: string;
}

export class ChatTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChatTemplateError";
  }
}

export interface ChatTemplateTokens {
  bos_token?: string | null;
  eos_token?: string | null;
  pad_token?: string | null;
  unk_token?: string | null;
}

export class ChatTemplate {
  private readonly template: Template;

  /** `source` names the template in errors (the tokenizer folder, or the template file). */
  constructor(text: string, readonly source: string) {
    try {
      this.template = new Template(text);
    } catch (e) {
      throw new ChatTemplateError(`chat template of ${source} does not parse: ${(e as Error).message}`);
    }
  }

  render(messages: readonly ChatMessage[], tokens: ChatTemplateTokens, opts: { addGenerationPrompt?: boolean } = {}): string {
    try {
      return this.template.render({
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        add_generation_prompt: opts.addGenerationPrompt ?? true,
        bos_token: tokens.bos_token ?? "",
        eos_token: tokens.eos_token ?? "",
        pad_token: tokens.pad_token ?? "",
        unk_token: tokens.unk_token ?? "",
      });
    } catch (e) {
      // Includes the template's own raise_exception("...") on conversations it refuses.
      throw new ChatTemplateError(`chat template of ${this.source} failed to render: ${(e as Error).message}`);
    }
  }
}
