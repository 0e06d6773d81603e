/**
 * @module
 * OCI references as PIPELINE_URL and `tern publish` take them:
 * `host[:port]/repo/name:tag`, `…@sha256:<hex>`, or without a host when
 * OCI_REGISTRY supplies it. The first path component is a host when it has a
 * `.` or `:` or is `localhost`.
 */
import { ConfigError } from "../errors.ts";

/** A parsed reference. */
export interface ImageReference {
  /** `host[:port]`. */
  registry: string;
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>`; wins over the tag when both are given. */
  digest?: string;
}

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
/** A sha256 digest; the only form tern accepts (and uses in cache paths). */
export const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Parses `text`; `defaultRegistry` (OCI_REGISTRY) is used when it names no host. */
export function parseReference(text: string, defaultRegistry?: string): ImageReference {
  const bad = (why: string) => new ConfigError(`'${text}' is not an OCI reference: ${why}`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text.trim())?.[1].toLowerCase();
  if (scheme !== undefined && scheme !== "oci") {
    throw bad(
      `write it without ${scheme}:// (host/repository:tag): registries are spoken to over HTTPS, over plain HTTP ` +
        "only on loopback or with OCI_PLAIN_HTTP=true",
    );
  }
  let rest = scheme === undefined ? text.trim() : text.trim().slice(scheme.length + "://".length);
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`digest '${digest}' is not sha256:<64 lower-case hex>`);
  }
  let registry: string | undefined;
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  if (first && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first;
    rest = rest.slice(slash + 1);
  }
  registry ??= defaultRegistry && normaliseRegistry(defaultRegistry);
  if (!registry) throw bad("it names no registry host; write host/repository:tag or set OCI_REGISTRY");
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`tag '${tag}' is not valid`);
  }
  if (!REPOSITORY.test(rest)) throw bad(`repository '${rest}' must be lower-case letters, digits and . _ - /`);
  if (!tag && !digest) throw bad("it has neither a :tag nor an @sha256: digest");
  return { registry, repository: rest, tag, digest };
}

/**
 * OCI_REGISTRY as a bare `host[:port]`: a scheme or trailing slash is dropped;
 * a path is refused.
 */
export function normaliseRegistry(text: string): string {
  const host = text.trim().replace(/^https?:\/\//, "").replace(/\/+$/, "");
  if (!host || host.includes("/")) {
    throw new ConfigError(`OCI_REGISTRY='${text}' must be a registry host[:port], without a path`);
  }
  return host;
}

/** `host/repo:tag` or `host/repo@sha256:…` (the digest when known). */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`;
}
