#!/usr/bin/env node
// Replays the API-key attacks (test/helpers/security-probe.ts) against a running server that was
// started with a key, and exits 1 if any request got a 2xx without the key, a refused body was
// read on, or "100 Continue" came before a refusal:
//   npm run build && node scripts/probe-security.mjs http://127.0.0.1:8080 <key>
// (the key may come from LLM2VEC_API_KEY instead).
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { probeSecurity } = await import(path.join(root, "dist/test/helpers/security-probe.js"));

const [baseUrl, keyArg] = process.argv.slice(2);
const apiKey = keyArg ?? process.env.LLM2VEC_API_KEY;
if (!baseUrl || !apiKey) {
  process.stderr.write("usage: node scripts/probe-security.mjs <base-url> <api-key>   (or set LLM2VEC_API_KEY)\n");
  process.exit(2);
}
const { checked, failures } = await probeSecurity({ baseUrl, apiKey });
for (const f of failures) process.stdout.write(`FAIL ${f}\n`);
process.stdout.write(`${checked} requests, ${failures.length} failures\n`);
process.exit(failures.length > 0 ? 1 : 0);
