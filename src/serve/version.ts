/** The package's version, for GET /info (read from package.json, which ships beside dist/). */
import * as fs from "node:fs";

export const VERSION: string = (() => {
  try {
    return (JSON.parse(fs.readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
})();
