/**
 * Whether an output folder overlaps an input: compared by real path (symlinks and `..`
 * resolved), so `--output ./m/../m` or a link to the model folder is still the model folder. An
 * output that does not exist yet is resolved through its nearest existing ancestor.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The real path of `p`, or of its nearest existing ancestor with the rest appended. */
export function realPathOf(p: string): string {
  let dir = path.resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(dir), ...rest);
    } catch (e) {
      const parent = path.dirname(dir);
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || parent === dir) throw e;
      rest.unshift(path.basename(dir));
      dir = parent;
    }
  }
}

function within(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(path.sep) ? outer : outer + path.sep);
}

/**
 * Refuses an output that is one of the inputs, lies inside one, or contains one: writing (or
 * replacing) it would change or destroy what is being read. `inputs` pairs each folder with the
 * flag that named it.
 */
export function refuseOutputOverlap(output: string, outputFlag: string, inputs: readonly { flag: string; dir: string }[]): void {
  const out = realPathOf(output);
  for (const { flag, dir } of inputs) {
    const inp = realPathOf(dir);
    const how = out === inp ? "is" : within(out, inp) ? "lies inside" : within(inp, out) ? "contains" : null;
    if (how) throw new Error(`${outputFlag} ${output} ${how} ${flag} ${dir}: writing there would change or destroy an input; choose another output folder`);
  }
}
