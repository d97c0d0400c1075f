/**
 * Typed reads of config.json fields. Each error names the file and the field, so a user with a
 * hand-edited config learns exactly what is wrong. Nested objects (rope_scaling) are read through
 * `sub`, whose errors name the dotted path ("rope_scaling.factor").
 */
export type RawConfig = Record<string, unknown>;

export class ConfigError extends Error {
  constructor(source: string, field: string, detail: string) {
    super(`${source}: field "${field}" ${detail}`);
    this.name = "ConfigError";
  }
}

export class ConfigReader {
  constructor(
    readonly raw: RawConfig,
    readonly source = "config.json",
    /** Prepended to field names in errors ("rope_scaling." for a nested object). */
    readonly prefix = "",
  ) {}

  /** The field's name as errors print it. */
  name(field: string): string {
    return this.prefix + field;
  }

  error(field: string, detail: string): ConfigError {
    return new ConfigError(this.source, this.name(field), detail);
  }

  /** Present and not null. */
  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== null;
  }

  /** The key is absent altogether (an explicit null is not absent: HF treats the two differently). */
  absent(field: string): boolean {
    return !Object.prototype.hasOwnProperty.call(this.raw, field) || this.raw[field] === undefined;
  }

  /** A positive integer. */
  int(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw this.error(field, "is missing");
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw this.error(field, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A non-negative integer (e.g. max_window_layers, which may be 0). */
  count(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw this.error(field, "is missing");
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw this.error(field, `must be a non-negative integer, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A positive finite number (eps, theta, scaling factors: zero or negative is never meaningful). */
  num(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw this.error(field, "is missing");
    }
    if (typeof v !== "number" || !Number.isFinite(v) || !(v > 0)) throw this.error(field, `must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.raw[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") throw this.error(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  str(field: string, fallback: string | null = null): string | null {
    const v = this.raw[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "string") throw this.error(field, `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A token id field that may be a number, a list of numbers, or null. */
  ids(field: string): number[] {
    const v = this.raw[field];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    for (const x of list) if (typeof x !== "number" || !Number.isInteger(x) || x < 0) throw this.error(field, `must be a token id or a list of them, got ${JSON.stringify(v)}`);
    return list as number[];
  }

  object(field: string): RawConfig | null {
    const v = this.raw[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== "object" || Array.isArray(v)) throw this.error(field, `must be an object, got ${JSON.stringify(v)}`);
    return v as RawConfig;
  }

  /** A reader over a nested object field, or null when it is absent / null. */
  sub(field: string): ConfigReader | null {
    const o = this.object(field);
    return o === null ? null : new ConfigReader(o, this.source, `${this.name(field)}.`);
  }
}
