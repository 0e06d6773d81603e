/**
 * @module
 * Certificates for 127.0.0.1, each signed by a CA of its own, made with openssl
 * (a Debian package of the test peers), and HTTP clients that trust exactly one CA.
 */
import { requireSystemPackage } from "./system_packages.ts";

/** A PEM certificate and key written to files, and the CA certificate that signed it. */
export interface CertFiles {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  /** The certificate of the CA (of its own) that signed it: what a client trusts. */
  ca: string;
  /** The file holding `ca` (for DENO_CERT). */
  caFile: string;
}

async function openssl(args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** Makes a CA of its own and a certificate for 127.0.0.1 it signs (CN `cn`) in `dir`, files named after `cn`. */
export async function makeCert(dir: string, cn: string): Promise<CertFiles> {
  await requireSystemPackage("openssl");
  const p = `${dir}/${cn}`;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-days",
    "2",
    "-subj",
    `/CN=${cn} CA`,
    "-keyout",
    `${p}-ca.key`,
    "-out",
    `${p}-ca.crt`,
  ]);
  await openssl(["req", ...ec, "-subj", `/CN=${cn}`, "-keyout", `${p}.key`, "-out", `${p}.csr`]);
  await Deno.writeTextFile(`${p}.ext`, "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
  await openssl([
    "x509",
    "-req",
    "-in",
    `${p}.csr`,
    "-CA",
    `${p}-ca.crt`,
    "-CAkey",
    `${p}-ca.key`,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    `${p}.ext`,
    "-out",
    `${p}.crt`,
  ]);
  const read = (f: string) => Deno.readTextFile(f);
  return {
    certFile: `${p}.crt`,
    keyFile: `${p}.key`,
    cert: await read(`${p}.crt`),
    key: await read(`${p}.key`),
    ca: await read(`${p}-ca.crt`),
    caFile: `${p}-ca.crt`,
  };
}

/** Fetches `url` on a fresh connection trusting only the CA certificate `ca`; the status, or the error's text. */
export async function fetchTrusting(ca: string, url: string, init: RequestInit = {}): Promise<number | string> {
  const client = Deno.createHttpClient({ caCerts: [ca] });
  try {
    const res = await fetch(url, { ...init, client });
    await res.body?.cancel();
    return res.status;
  } catch (err) {
    return String(err);
  } finally {
    client.close();
  }
}
