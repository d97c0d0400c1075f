/**
 * Commander options made from an option schema (src/train/option-schema.ts): the flag, its value
 * placeholder, help, choices, default and environment variable come from each property, and the
 * parsed flags map back onto the options by the same properties. Numbers are parsed here so that
 * a bad value is an error naming its flag.
 */
import { Option, type Command } from "commander";
import type { TObject, TSchema } from "@sinclair/typebox";
import { flagOf, stripUndefined, type OptionMeta } from "../train/option-schema.js";
import { baseOption, dtypeOption } from "./encoder-flags.js";

export type Flags = Record<string, string | string[] | boolean | undefined>;

/** A numeric flag's value (undefined when absent); anything but a number is an error naming the flag. */
export const num = (v: unknown, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isFinite(n)) throw new Error(`${flag}: expected a number, got ${JSON.stringify(v)}`);
  return n;
};

/** Flags every model-loading command shares: the same Option (and help) everywhere. */
const SHARED: Record<string, () => Option> = { "--base": baseOption, "--dtype": dtypeOption };

export interface FlagSelection {
  /** The properties to make flags of (default: every one not marked cli: false). */
  keys?: readonly string[];
  /** `convert`'s per-stage flags: `--mntp-lr` for learningRate with stageFlag "lr". */
  prefix?: string;
  /** Write the default into the help only, leaving the flag undefined when absent (convert's overrides). */
  defaultInHelp?: boolean;
}

interface FlagSpec {
  key: string;
  prop: TSchema & OptionMeta;
  flag: string;
  /** The key commander stores the flag's value under. */
  attr: string;
}

function specs(schema: TObject, sel: FlagSelection): FlagSpec[] {
  const keys = sel.keys ?? Object.keys(schema.properties).filter((k) => (schema.properties[k] as OptionMeta).cli !== false);
  return keys.map((key) => {
    const prop = schema.properties[key] as TSchema & OptionMeta;
    if (!prop) throw new Error(`no option ${key} in the schema`);
    const own = flagOf(key, prop);
    const flag = sel.prefix ? `--${sel.prefix}-${prop.stageFlag ?? own.slice(2)}` : own;
    return { key, prop, flag, attr: flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) };
  });
}

const placeholder = (p: TSchema & OptionMeta) => p.arg ?? (p.type === "integer" ? "n" : p.type === "number" ? "x" : p.type === "array" ? "list" : "s");

/** Adds one commander option per selected property; required properties without a default are required flags. */
export function addSchemaFlags(cmd: Command, schema: TObject, sel: FlagSelection = {}): Command {
  const required = new Set(schema.required ?? []);
  for (const { key, prop, flag } of specs(schema, sel)) {
    if (!sel.prefix && SHARED[flag]) {
      cmd.addOption(SHARED[flag]!());
      continue;
    }
    const d = prop.default;
    const shown = Array.isArray(d) ? d.join(",") : d === undefined ? undefined : String(d);
    let help = sel.prefix ? `${sel.prefix} ${prop.description ?? key}` : (prop.description ?? key);
    if (sel.defaultInHelp && shown) help += ` (default ${shown})`;
    const o = new Option(prop.type === "boolean" ? flag : `${flag} <${placeholder(prop)}>`, help);
    if (prop.anyOf) o.choices((prop.anyOf as TSchema[]).map((c) => String(c.const)));
    if (prop.env) o.env(prop.env);
    if (prop.type !== "boolean" && shown && !sel.defaultInHelp) o.default(shown);
    if (required.has(key) && d === undefined && !sel.prefix) o.makeOptionMandatory();
    cmd.addOption(o);
  }
  return cmd;
}

/** The options the flags give (absent ones left out, so the schema's defaults apply). */
export function optionsFromFlags(schema: TObject, f: Flags, sel: FlagSelection = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, prop, flag, attr } of specs(schema, sel)) {
    const v = f[attr];
    if (prop.type === "boolean") out[key] = v === true ? !prop.negate : undefined;
    else if (prop.type === "integer" || prop.type === "number") out[key] = num(v, flag);
    else if (prop.type === "array" && typeof v === "string") out[key] = v.split(",").map((s) => s.trim());
    else out[key] = v;
  }
  return stripUndefined(out);
}
