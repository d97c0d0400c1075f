/**
 * Typed reads of config.json fields. Each error names the file and the field, so a user with a
 * hand-edited config learns exactly what is wrong.
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
  ) {}

  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== null;
  }

  int(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(this.source, field, "is missing");
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw new ConfigError(this.source, field, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  }

  num(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(this.source, field, "is missing");
    }
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ConfigError(this.source, field, `must be a number, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.raw[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") throw new ConfigError(this.source, field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  str(field: string, fallback: string | null = null): string | null {
    const v = this.raw[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "string") throw new ConfigError(this.source, field, `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A token id field that may be a number, a list of numbers, or null. */
  ids(field: string): number[] {
    const v = this.raw[field];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    for (const x of list) if (typeof x !== "number" || !Number.isInteger(x) || x < 0) throw new ConfigError(this.source, field, `must be a token id or a list of them, got ${JSON.stringify(v)}`);
    return list as number[];
  }

  object(field: string): RawConfig | null {
    const v = this.raw[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== "object" || Array.isArray(v)) throw new ConfigError(this.source, field, `must be an object, got ${JSON.stringify(v)}`);
    return v as RawConfig;
  }
}
