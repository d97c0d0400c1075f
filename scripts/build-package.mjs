// What `npm pack` ships (the prepack script): dist/src compiled from src/ alone without source maps
// (tsconfig.build.json; the emitted ES2022 reads like the source), and the demo model converted once
// from the llama2.c fixture into a ready Hugging Face folder under models/stories260K.
import { execFileSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
rmSync(join(root, "dist", "src"), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });

const fixture = join(root, "test", "fixtures", "models", "stories260K");
const out = join(root, "models", "stories260K");
const { importLlama2c } = await import("../dist/src/formats/llama2c.js");
importLlama2c({ model: join(fixture, "stories260K.bin"), tokenizer: join(fixture, "tok512.bin"), output: out, overwrite: true });
for (const f of ["LICENSE", "README.md"]) copyFileSync(join(fixture, f), join(out, f));
