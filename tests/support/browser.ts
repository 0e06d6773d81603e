/**
 * @module
 * Headless Chromium for end-to-end tests of tern's pages: Debian's chromium
 * driven by playwright-core (which downloads no browser of its own), with the
 * flags a container needs. Screenshots go to tests/output/ (git-ignored).
 */
import { type Browser, chromium } from "playwright-core";
import { requireSystemPackage } from "./system_packages.ts";

/** Where tests leave screenshots. */
export const TEST_OUTPUT = new URL("../output/", import.meta.url);

/** Launches headless Chromium. */
export async function launchChromium(): Promise<Browser> {
  await requireSystemPackage("chromium");
  await requireSystemPackage("fonts-dejavu-core");
  return await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** The path for screenshot `name` under tests/output/ (made if missing). */
export async function screenshotPath(name: string): Promise<string> {
  await Deno.mkdir(TEST_OUTPUT, { recursive: true });
  return new URL(name, TEST_OUTPUT).pathname;
}
