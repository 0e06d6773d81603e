/**
 * @module
 * Parsers of single environment values (sizes, counts, booleans, ports,
 * choices). Each throws a ConfigError naming the variable and what it accepts.
 */
import { ConfigError } from "./errors.ts";

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** `{number}{Ki,Mi,Gi,Ti}` (no unit = bytes) to bytes. */
export function parseSize(name: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!m) {
    throw new ConfigError(
      `${name}='${text}' is not a size: write {number}{Ki,Mi,Gi,Ti}, e.g. 512Mi`,
    );
  }
  const unit = SIZE_UNITS[m[2]];
  if (unit === undefined) {
    throw new ConfigError(
      `${name}='${text}' has unknown size unit '${m[2]}': use Ki, Mi, Gi or Ti, e.g. 512Mi`,
    );
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < 1) {
    throw new ConfigError(`${name}='${text}' must be larger than 0`);
  }
  if (!Number.isSafeInteger(bytes)) throw new ConfigError(`${name}='${text}' is too large`);
  return bytes;
}

/** The smallest LOCAL_INFERENCE_STORAGE: room for the schema and a few commit batches. */
export const MIN_LOG_STORAGE_BYTES = 256 * 2 ** 10;

export function parseStorageCap(text: string): number {
  const bytes = parseSize("LOCAL_INFERENCE_STORAGE", text);
  if (bytes < MIN_LOG_STORAGE_BYTES) {
    throw new ConfigError(`LOCAL_INFERENCE_STORAGE='${text}' is below the minimum of 256Ki`);
  }
  return bytes;
}

export function parseChoice<T extends string>(name: string, text: string, choices: readonly T[]): T {
  const t = text.trim().toLowerCase() as T;
  if (!choices.includes(t)) throw new ConfigError(`${name}='${text}' must be one of ${choices.join(", ")}`);
  return t;
}

export function parseCount(name: string, text: string, what: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 1) {
    throw new ConfigError(
      `${name}='${text}' must be a whole number of ${what}, at least 1`,
    );
  }
  return Number(text);
}

/**
 * CONFIG_CPUS: a positive decimal, as container CPU limits are written (`1.0`, `1.25`, `2`, `1500m`);
 * the engine's threads are its whole part, at least 1 and at most the machine's cores (more only contend:
 * `1000` on 2 cores took the demo 38 s to load). Unset: every core.
 */
export function parseCpus(text: string | undefined, cpus: number): number {
  if (text === undefined) return cpus;
  // A number as container limits write it: 2, 1.0, 2.5, or Kubernetes' millicores (1500m).
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)(m?)\s*$/.exec(text);
  const value = m ? Number(m[1]) / (m[2] ? 1000 : 1) : NaN;
  if (!(value > 0)) {
    throw new ConfigError(`CONFIG_CPUS='${text}' must be a positive number of CPUs, e.g. 1, 1.0, 2.5 or 1500m`);
  }
  return Math.min(cpus, Math.max(1, Math.floor(value)));
}

export function parseBool(name: string, text: string | undefined): boolean {
  if (text === undefined) return false;
  const t = text.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(t)) return true;
  if (["false", "0", "no", "off"].includes(t)) return false;
  throw new ConfigError(`${name}='${text}' must be true or false (also taken: 1/0, yes/no, on/off)`);
}

export function parsePort(text: string, name = "PORT"): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) > 65535) {
    throw new ConfigError(
      `${name}='${text}' must be a port number from 0 to 65535 (0 = any free port)`,
    );
  }
  return Number(text);
}

/** A bearer token (API_TOKEN, HUB_API_TOKEN): one word, as `Authorization: Bearer <token>` carries it. */
export function parseBearerToken(name: string, token: string | undefined): string | undefined {
  if (token !== undefined && /\s/.test(token)) {
    throw new ConfigError(
      `${name} holds whitespace: a bearer token is one word (Authorization: Bearer <token>), so no request could carry it`,
    );
  }
  return token;
}
