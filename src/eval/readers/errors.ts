/**
 * Data problems are reported with file and 1-based line number, and all problems
 * of a file are collected before throwing, so one run shows every bad line
 * (capped in the message) instead of failing on the first and hiding the rest.
 * Readers never drop a row silently: a row is either returned or reported here.
 */

export interface LineIssue {
  line: number;
  message: string;
}

export class DataFormatError extends Error {
  constructor(
    readonly file: string,
    readonly issues: LineIssue[],
  ) {
    const shown = issues.slice(0, 20).map((i) => `  ${file}:${i.line}: ${i.message}`);
    const more = issues.length > 20 ? [`  ... and ${issues.length - 20} more`] : [];
    super([`${issues.length} malformed line(s) in ${file}:`, ...shown, ...more].join("\n"));
    this.name = "DataFormatError";
  }
}

/** Collects line issues for one file and throws them together. */
export class IssueCollector {
  readonly issues: LineIssue[] = [];
  constructor(readonly file: string) {}
  add(line: number, message: string): void {
    this.issues.push({ line, message });
  }
  throwIfAny(): void {
    if (this.issues.length > 0) throw new DataFormatError(this.file, this.issues);
  }
}
