#!/usr/bin/env node
// `npm test`: typecheck, lint, migration drift check, production build, vitest, Playwright, then
// the page-weight report (bench/page-weight.mjs).
// Stops at the first failing step; ends with one "N passed, N failed" line over both test runners.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";

// Not under test-results/: Playwright empties that folder when it starts.
const reports = "test-reports";
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });

const steps = [
  ["typecheck", "npm", ["run", "--silent", "typecheck"]],
  ["lint", "npm", ["run", "--silent", "lint"]],
  ["migrations match schema.prisma", "npm", ["run", "--silent", "db:check-drift"]],
  ["build", "npm", ["run", "--silent", "build"]],
  [
    "unit + integration (vitest)",
    "npx",
    ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile=${reports}/vitest.json`],
  ],
  [
    "end-to-end (playwright)",
    "npx",
    ["playwright", "test"],
    { PLAYWRIGHT_JSON_OUTPUT_NAME: `${reports}/playwright.json` },
  ],
];

const counts = { passed: 0, failed: 0, skipped: 0 };
let failedStep;
for (const [name, command, args, extraEnv] of steps) {
  console.log(`\n=== ${name} ===`);
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, ...extraEnv } });
  if (result.status !== 0) {
    failedStep = name;
    break;
  }
}

// A report, not a test: the JavaScript each page ships (issue 11's budget). Sizes, not times, so
// it is stable on a busy machine; it fails the run only if the script itself crashes.
if (!failedStep) {
  console.log("\n=== page weight (report only) ===");
  const weight = spawnSync("node", ["bench/page-weight.mjs"], { stdio: "inherit" });
  if (weight.status !== 0) failedStep = "page weight report";
}

if (existsSync(`${reports}/vitest.json`)) {
  const report = JSON.parse(readFileSync(`${reports}/vitest.json`, "utf8"));
  counts.passed += report.numPassedTests;
  counts.failed += report.numFailedTests;
  counts.skipped += report.numPendingTests + (report.numTodoTests ?? 0);
}
if (existsSync(`${reports}/playwright.json`)) {
  const { stats } = JSON.parse(readFileSync(`${reports}/playwright.json`, "utf8"));
  counts.passed += stats.expected + (stats.flaky ?? 0);
  counts.failed += stats.unexpected;
  counts.skipped += stats.skipped;
}

console.log("");
if (failedStep) console.log(`npm test stopped: "${failedStep}" failed.`);
if (failedStep && counts.failed === 0) counts.failed = 1;
console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exit(failedStep ? 1 : 0);
