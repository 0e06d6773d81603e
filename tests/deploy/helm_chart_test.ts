/**
 * @module
 * deploy/helm/tern without a helm binary: its templates rendered by tests/support/helm_render.ts (the Go template
 * subset the chart may use), the manifests parsed by PyYAML, and checked: every value in values.yaml is read, the
 * seed's values (ociRegistry.registry/username/password, edgeBundle) reach the container, the password and bundle
 * only through a Secret, /persist is a PersistentVolumeClaim, and the probes are /health and /health/ready.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { renderChart, type RenderContext } from "../support/helm_render.ts";
import { requireSystemPackage } from "../support/system_packages.ts";
import { runPython } from "../support/python.ts";

const CHART = new URL("../../deploy/helm/tern/", import.meta.url);

type Manifest = {
  kind: string;
  apiVersion: string;
  metadata: { name: string; labels?: Record<string, string> };
  // deno-lint-ignore no-explicit-any
  spec?: any;
  stringData?: Record<string, string>;
};

/** Parses YAML documents with Debian's python3-yaml (the chart's values and the rendered manifests). */
async function parseYaml(text: string): Promise<unknown[]> {
  const out = await runPython(
    "import sys, yaml, json; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d is not None]))",
    text,
  );
  assertEquals(out.success, true, out.stderr);
  return JSON.parse(out.stdout);
}

function templates(): Record<string, string> {
  const dir = new URL("templates/", CHART);
  return Object.fromEntries(
    [...Deno.readDirSync(dir)].map((e) => [e.name, Deno.readTextFileSync(new URL(e.name, dir))]),
  );
}

/** Leaf paths of a values tree (`ociRegistry.password`). */
function leaves(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = v !== null && typeof v === "object" && !Array.isArray(v)
      ? merge((base[k] ?? {}) as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

async function render(overrides: Record<string, unknown>) {
  const defaults = (await parseYaml(Deno.readTextFileSync(new URL("values.yaml", CHART))))[0] as Record<
    string,
    unknown
  >;
  const chart = (await parseYaml(Deno.readTextFileSync(new URL("Chart.yaml", CHART))))[0] as Record<string, unknown>;
  const context: RenderContext = {
    Values: merge(defaults, overrides),
    Release: { Name: "edge", Namespace: "default" },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const { files, used } = renderChart(templates(), context);
  const manifests = (await parseYaml(Object.values(files).join("\n---\n"))) as Manifest[];
  const of = (kind: string) => manifests.filter((m) => m.kind === kind);
  return { defaults, manifests, used, of };
}

const SEED = {
  ociRegistry: { registry: "registry.example.com", username: "robot", password: "s3cret" },
  edgeBundle: "ZXhwb3J0IEVER0VfTkFNRT1lZGdlLTEK",
  pipelineUrl: "registry.example.com/pipelines/house-price:v1",
  persistence: { storageClass: "fast" },
};

Deno.test("every value in values.yaml is read by a template", async () => {
  await requireSystemPackage("python3-yaml");
  const plain = await render({});
  const seed = await render(SEED);
  const used = new Set([...plain.used, ...seed.used]);
  assertEquals(leaves(plain.defaults).filter((path) => !used.has(path)), []);
});

Deno.test("with the seed's values: the Deployment gets registry, user, password and bundle (secrets from a Secret), /persist on a PVC, probes on /health and /health/ready", async () => {
  await requireSystemPackage("python3-yaml");
  const { of } = await render(SEED);
  const [deployment] = of("Deployment");
  const [claim] = of("PersistentVolumeClaim");
  const [secret] = of("Secret");
  const [service] = of("Service");
  assert(deployment && claim && secret && service);
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const env = Object.fromEntries(container.env.map((e: { name: string }) => [e.name, e]));
  assertEquals(env.OCI_REGISTRY.value, "registry.example.com");
  assertEquals(env.OCI_USERNAME.value, "robot");
  assertEquals(env.PIPELINE_URL.value, SEED.pipelineUrl);
  assertEquals(env.PERSISTENT_VOLUME_DIR.value, "/persist");
  for (const [name, value] of [["OCI_PASSWORD", "s3cret"], ["EDGE_BUNDLE", SEED.edgeBundle]]) {
    assertEquals(env[name].valueFrom.secretKeyRef.name, secret.metadata.name);
    assertEquals(secret.stringData?.[env[name].valueFrom.secretKeyRef.key], value);
  }
  assertEquals(container.livenessProbe.httpGet, { path: "/health", port: "http" });
  assertEquals(container.readinessProbe.httpGet, { path: "/health/ready", port: "http" });
  assertEquals(container.ports, [{ name: "http", containerPort: 8080 }]);
  assertEquals(container.resources.limits.memory, "1536Mi");
  const persist = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === "/persist");
  const volume = pod.volumes.find((v: { name: string }) => v.name === persist.name);
  assertEquals(volume.persistentVolumeClaim.claimName, claim.metadata.name);
  assertEquals(claim.spec.storageClassName, "fast");
  assertEquals(pod.securityContext.runAsUser, 10001);
  assertEquals(service.spec.selector, deployment.spec.template.metadata.labels);
  assertEquals(service.spec.ports[0].targetPort, "http");
});

Deno.test("with no credentials and no bundle there is no Secret and no secret variable; the demo serves", async () => {
  await requireSystemPackage("python3-yaml");
  const { of } = await render({});
  assertEquals(of("Secret"), []);
  const env = of("Deployment")[0].spec.template.spec.containers[0].env.map((e: { name: string }) => e.name);
  assertEquals(env.filter((name: string) => /OCI_|EDGE_BUNDLE|PIPELINE_URL/.test(name)), []);
});

Deno.test("a changed password, bundle or API token changes the pod template (Kubernetes restarts the pod); the same values render the same", async () => {
  await requireSystemPackage("python3-yaml");
  const checksum = async (values: Record<string, unknown>) =>
    (await render(values)).of("Deployment")[0].spec.template.metadata.annotations["checksum/secret"];
  const seed = await checksum(SEED);
  assertEquals(await checksum(SEED), seed);
  assertMatch(seed, /^[0-9a-f]{64}$/);
  const changed = [
    { ...SEED, ociRegistry: { ...SEED.ociRegistry, password: "rotated" } },
    { ...SEED, edgeBundle: "ZXhwb3J0IEVER0VfTkFNRT1lZGdlLTIK" },
    { ...SEED, apiToken: "a-new-api-token-0123456789" },
  ];
  for (const values of changed) assert(await checksum(values) !== seed, JSON.stringify(values));
});

Deno.test("the pod meets Pod Security 'restricted'; the log cap, page size, API token (from the Secret), plain HTTP and extraEnv reach the container", async () => {
  await requireSystemPackage("python3-yaml");
  const plain = (await render({})).of("Deployment")[0].spec.template.spec;
  const env = (pod: typeof plain) =>
    Object.fromEntries(pod.containers[0].env.map((e: { name: string }) => [e.name, e]));
  // By default the log is capped below the volume's 10Gi (and so needs its page size): it never fills the volume.
  assertEquals([env(plain).LOCAL_INFERENCE_STORAGE.value, env(plain).PLATEAU_PAGE_SIZE.value], ["8Gi", "1000"]);
  assertEquals([env(plain).API_TOKEN, env(plain).OCI_PLAIN_HTTP], [undefined, undefined]);
  assertEquals(plain.securityContext.seccompProfile, { type: "RuntimeDefault" });
  assertEquals(plain.securityContext.runAsNonRoot, true);
  const container = plain.containers[0].securityContext;
  assertEquals([container.allowPrivilegeEscalation, container.capabilities.drop], [false, ["ALL"]]);

  // No cap: neither setting (tern refuses a page size without a cap).
  const uncapped = env((await render({ localInferenceStorage: "" })).of("Deployment")[0].spec.template.spec);
  assertEquals([uncapped.LOCAL_INFERENCE_STORAGE, uncapped.PLATEAU_PAGE_SIZE], [undefined, undefined]);

  const { of } = await render({
    apiToken: "api-token-0123456789abcdef",
    ociRegistry: { plainHttp: true },
    localInferenceStorage: "2Gi",
    extraEnv: [{ name: "LOG_FORMAT", value: "json" }, { name: "OCI_TIMEOUT", value: "60" }],
  });
  const pod = of("Deployment")[0].spec.template.spec;
  const [secret] = of("Secret");
  const set = env(pod);
  assertEquals(secret.stringData?.[set.API_TOKEN.valueFrom.secretKeyRef.key], "api-token-0123456789abcdef");
  assertEquals(
    [set.OCI_PLAIN_HTTP.value, set.LOCAL_INFERENCE_STORAGE.value, set.LOG_FORMAT.value, set.OCI_TIMEOUT.value],
    ["true", "2Gi", "json", "60"],
  );
});
