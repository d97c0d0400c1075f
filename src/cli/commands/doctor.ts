/** `llm2vec doctor`: which native binary loaded (and from where), the kernels it chose, its threads, what --dtype auto picks here, and the Node running it. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { bf16Path } from "../../models/compute-mode.js";
import { backend } from "../../tensor/backend/index.js";
import { nativeBinary, nativeInfo, type NativeBinary, type NativeInfo } from "../../tensor/backend/native.js";
import { NATIVE_REMEDY, packageRoot, platformPackage } from "../../tensor/backend/native-resolve.js";

export interface DoctorReport {
  version: string;
  node: string;
  platform: string;
  /** The platform package a prebuilt binary comes from. */
  platformPackage: string;
  backend: string;
  binary: NativeBinary;
  kernels: NativeInfo | null;
  /** What `--dtype auto` runs here for 16-bit weights, and why (models/compute-mode.ts). */
  autoDtype: string;
}

export function doctorReport(): DoctorReport {
  const root = packageRoot();
  const version = root ? (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version : "unknown";
  return {
    version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    platformPackage: platformPackage(),
    backend: backend().name,
    binary: nativeBinary(),
    kernels: nativeInfo(),
    autoDtype: autoDtypeHere(),
  };
}

export function formatDoctor(r: DoctorReport): string {
  const lines = [`llm2vec ${r.version} on Node ${r.node} (${r.platform})`, `backend: ${r.backend}`];
  if (r.binary.source === "none") lines.push(`native addon: none (${r.binary.error})`, `to fix: ${NATIVE_REMEDY}`);
  else lines.push(`native addon: ${r.binary.source} ${r.binary.file}`);
  if (r.kernels) {
    const k = r.kernels;
    lines.push(
      `kernels: gemm ${k.gemm}; bf16 gemm ${k.gemmBf16} (${k.gemmBf16Why}); others ${k.kernels}`,
      `cpu: avx2 ${k.cpu.avx2}, avx512f ${k.cpu.avx512f}, avx512bf16 ${k.cpu.avx512bf16}`,
      `threads: ${k.threads}`,
    );
  }
  lines.push(`--dtype auto: ${r.autoDtype}`);
  return lines.join("\n") + "\n";
}

function autoDtypeHere(): string {
  const p = bf16Path();
  return p.units ? `bf16 for 16-bit weights (${p.kernel}: ${p.why})` : `f32 (${p.why})`;
}

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("print which native addon binary loaded (prebuilt, local build or none), the kernels it chose and its thread count")
    .option("--json", "print the report as JSON")
    .action((o: { json?: boolean }) => {
      const r = doctorReport();
      process.stdout.write(o.json ? JSON.stringify(r, null, 2) + "\n" : formatDoctor(r));
    });
}
