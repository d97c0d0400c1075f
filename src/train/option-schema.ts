/**
 * One TypeBox schema per option set: each property carries its type, its bounds (the validation),
 * its default, its description (the CLI help) and, where the kebab-case name is not the flag, the
 * flag itself. From it come the TypeScript type (Static<>), the defaults record, validation with
 * errors that name the flag, and the JSON written into run folders; src/cli/schema-flags.ts makes
 * the commander options from the same schema.
 */
import { Type, type SchemaOptions, type Static, type TLiteral, type TObject, type TProperties, type TSchema, type TUnion } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

/** The CLI metadata a property may carry beside description and default. */
export interface OptionMeta extends SchemaOptions {
  /** The flag when it is not `--` + the kebab-case name (e.g. `--dtype` for computeDtype). */
  flag?: string;
  /** A boolean whose flag turns it off (`--causal` sets bidirectional false). */
  negate?: boolean;
  /** The value placeholder in the help (`n`, `x`, `dir`, `file...`; `...` takes several values). */
  arg?: string;
  /** What one item of a list is called in errors ("data file", "projection"). */
  item?: string;
  /** The environment variable the flag falls back to. */
  env?: string;
  /** The flag's name after the stage prefix in `convert` (`--mntp-lr`), when not the flag's own. */
  stageFlag?: string;
  /** Not a CLI flag. */
  cli?: false;
  /** The key in a JSON config file (llm2vec_config.json) when not the snake_case name. */
  fileKey?: string;
  /** Not written to or read from a JSON config file (a setting of the machine, not of the model). */
  file?: false;
  /** What a valid value is, in words, where the schema's shape says it poorly (a union of names and an object). */
  expected?: string;
}

/**
 * How errors name what was wrong: by its CLI flag (`--max-length must be an integer ≥ 2, got 1`),
 * or, given a source (a file, an API), by the field's name after it, the value as JSON
 * (`llm2vec_config.json: truncation must be one of words, tokens, got "chars"`).
 */
export interface ErrorStyle {
  source?: string;
}

/** A choice among string literals (its Static type is their union). */
export function oneOf<const T extends readonly string[]>(values: T, meta: OptionMeta = {}): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)) as TLiteral<T[number]>[], meta);
}

/** The same properties with some metadata replaced (an objective's own defaults or help). */
export function override<P extends TProperties>(props: P, changes: { [K in keyof P]?: OptionMeta }): P {
  const out = { ...props } as Record<string, TSchema>;
  for (const [k, m] of Object.entries(changes)) out[k] = { ...out[k]!, ...m } as TSchema;
  return out as P;
}

export function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** The key a property has in a JSON config file. */
export function fileKeyOf(key: string, prop: TSchema): string {
  return (prop as OptionMeta).fileKey ?? key.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** The flag a property stands for. */
export function flagOf(key: string, prop: TSchema): string {
  return (prop as OptionMeta).flag ?? `--${kebab(key)}`;
}

/** The defaults of every property that has one (fresh copies: arrays are not shared). */
export function defaultsOf<T>(schema: TObject): T {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(schema.properties)) if (p.default !== undefined) out[k] = structuredClone(p.default);
  return out as T;
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Defaults, then the given values (undefined = not given), validated; a key outside the schema is an error (a typo would otherwise be ignored). */
export function resolveOptions<S extends TObject>(schema: S, given: object): Static<S> {
  const unknown = Object.keys(given).filter((k) => !(k in schema.properties));
  if (unknown.length) throw new Error(`unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")} (known: ${Object.keys(schema.properties).join(", ")})`);
  return validateOptions(schema, { ...defaultsOf<Record<string, unknown>>(schema), ...stripUndefined(given) });
}

/** Checks every property against its schema; the first failure throws an error naming its flag (or, with a source, its field). */
export function validateOptions<S extends TObject>(schema: S, o: Record<string, unknown>, style: ErrorStyle = {}): Static<S> {
  const required = new Set(schema.required ?? []);
  for (const [k, p] of Object.entries(schema.properties)) {
    const v = o[k];
    if (v === undefined && !required.has(k)) continue;
    if (Value.Check(p, v)) continue;
    // A negated flag (--causal) is not the field's name; errors come from library callers there.
    if (style.source === undefined) throw new Error(optionError((p as OptionMeta).negate ? k : flagOf(k, p), p, v, false));
    throw new Error(`${style.source}: ${fieldError(schema, o)}`);
  }
  return o as Static<S>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The first field of `o` its schema rejects, as `field must be …, got …` with the value as JSON
 * (how errors about a file read): nested object schemas are walked with dotted names, and a closed
 * object (additionalProperties: false) names a key outside it, since a misspelt optional field
 * would otherwise be ignored. `skip`: keys the caller checks itself.
 */
export function fieldError(schema: TObject, o: Record<string, unknown>, prefix = "", skip: readonly string[] = []): string | undefined {
  if (schema.additionalProperties === false) {
    const extra = Object.keys(o).find((k) => !Object.hasOwn(schema.properties, k));
    if (extra !== undefined) return `${prefix}${extra} is not a known field (known: ${Object.keys(schema.properties).join(", ")})`;
  }
  const required = new Set(schema.required ?? []);
  for (const [k, p] of Object.entries(schema.properties)) {
    const v = o[k];
    if (skip.includes(k) || (v === undefined && !required.has(k))) continue;
    if (p.type === "object" && p.properties && isRecord(v)) {
      const e = fieldError(p as TObject, v, `${prefix}${k}.`);
      if (e !== undefined) return e;
    } else if (!Value.Check(p, v)) return optionError(prefix + k, p, v, true);
  }
  return undefined;
}

/** The message for a value its property's schema rejects, in words built from the schema's bounds; `asJson` shows the value as JSON and every choice list as "one of". */
function optionError(flag: string, p: TSchema, v: unknown, asJson: boolean): string {
  const show = (x: unknown) => (asJson || typeof x === "object" ? JSON.stringify(x) : String(x));
  const meta = p as OptionMeta;
  if (meta.expected) return `${flag} must be ${meta.expected}, got ${show(v)}`;
  if (p.anyOf) {
    const members = p.anyOf as TSchema[];
    if (members.some((c) => c.const === undefined)) return `${flag} must be ${members.map((c) => (c.type === "null" ? "null" : `a ${c.type}`)).join(" or ")}, got ${show(v)}`;
    const choices = members.map((c) => String(c.const));
    return `${flag} must be ${choices.length === 2 && !asJson ? choices.join(" or ") : `one of ${choices.join(", ")}`}, got ${show(v)}`;
  }
  if (p.type === "array") {
    const item = meta.item ?? "value";
    if (!Array.isArray(v)) return `${flag} must be a list of ${item}s, got ${show(v)}`;
    if (v.length < (p.minItems ?? 0)) return `${flag}: give at least one ${item}`;
    const bad = v.find((x) => !Value.Check(p.items as TSchema, x));
    const choices = (p.items as TSchema).anyOf as TSchema[] | undefined;
    return choices ? `${flag}: unknown ${item} ${JSON.stringify(bad)} (choose from ${choices.map((c) => c.const).join(", ")})` : `${flag}: ${JSON.stringify(bad)} is not a ${item}`;
  }
  if (p.type === "integer" && p.exclusiveMinimum === 0) return `${flag} must be a positive integer, got ${show(v)}`;
  if (p.type === "integer") return `${flag} must be an integer${p.minimum !== undefined ? ` ≥ ${p.minimum}` : ""}, got ${show(v)}`;
  if (p.type === "number") {
    const lo = p.minimum ?? p.exclusiveMinimum;
    const hi = p.maximum ?? p.exclusiveMaximum;
    let range = "a number";
    if (lo !== undefined && hi !== undefined) range = `in ${p.minimum !== undefined ? "[" : "("}${lo}, ${hi}${p.maximum !== undefined ? "]" : ")"}`;
    else if (p.exclusiveMinimum === 0) range = "positive";
    else if (lo !== undefined) range = `${p.minimum !== undefined ? "≥" : ">"} ${lo}`;
    return `${flag} must be ${range}, got ${show(v)}`;
  }
  if (p.type === "boolean") return `${flag} must be true or false, got ${show(v)}`;
  if (p.type === "object") return `${flag} must be an object, got ${show(v)}`;
  return `${flag} must be a string, got ${show(v)}`;
}

/** The options as written into a run folder (training_config.json): the objective, then every option of the schema. */
export function configJson(objective: string, schema: TObject, o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { objective };
  for (const k of Object.keys(schema.properties)) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
