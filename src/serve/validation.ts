/**
 * Schema validation failures (ajv's errors, as Fastify hands them over) as one OpenAI-style 400
 * that names the field. ajv's own wording for a failed union ("must match a schema in anyOf")
 * names no accepted shape, so unions say what they accept through their schema's description.
 */
import { ApiError } from "./errors.js";

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
  parentSchema?: { description?: string };
}

/** `/input/0/1` → `input[0][1]`. */
function paramName(instancePath: string): string {
  const parts = instancePath.split("/").slice(1);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

export function validationError(errors: readonly AjvError[]): ApiError {
  // The outermost failed union explains itself best; the errors of its branches are noise.
  const unions = errors.filter((e) => e.keyword === "anyOf").sort((a, b) => a.instancePath.length - b.instancePath.length);
  const e = unions[0] ?? errors[0]!;
  const param = paramName(e.instancePath);
  if (param === "") {
    if (e.keyword === "required") {
      const missing = String(e.params.missingProperty);
      return new ApiError(400, "missing_required_parameter", `'${missing}' is a required property.`, missing);
    }
    if (e.keyword === "additionalProperties") {
      const extra = String(e.params.additionalProperty);
      return new ApiError(400, "unknown_parameter", `Unrecognized request argument supplied: ${extra}.`, extra);
    }
    return new ApiError(400, "invalid_type", "The request body must be a JSON object.", null);
  }
  let detail: string;
  if (e.keyword === "anyOf" && e.parentSchema?.description) detail = `must be ${e.parentSchema.description}`;
  else if (e.keyword === "type") detail = `must be ${article(String(e.params.type))}`;
  else detail = e.message ?? "is invalid";
  return new ApiError(400, e.keyword === "type" || e.keyword === "anyOf" ? "invalid_type" : "invalid_value", `'${param}' ${detail}.`, param);
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
