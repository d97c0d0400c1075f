/** Write files atomically (temp file in the same directory + rename) so a crashed or parallel run never leaves a half-written result. */
import { rename, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

let counter = 0;

export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.${counter++}.tmp`);
  await writeFile(tmp, data, "utf8");
  await rename(tmp, path);
}
