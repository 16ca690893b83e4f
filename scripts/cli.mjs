#!/usr/bin/env node
// Operator commands, run against the production build so they share the server's code and config:
//   npm run user:promote -- someone@example.com
//   npm run user:demote -- someone@example.com
//   npm run user:disable -- someone@example.com   (signs them out everywhere)
//   npm run user:enable -- someone@example.com
//   npm run secret:rotate
import { existsSync } from "node:fs";

const [command, ...args] = process.argv.slice(2);
const buildEntry = new URL("../build/server/index.js", import.meta.url);
if (!existsSync(buildEntry)) {
  console.error("No build found. Run `npm run build` first.");
  process.exit(1);
}
const { entry } = await import(buildEntry.href);
const app = entry.module;

const usage = "usage: cli.mjs promote|demote|disable|enable <email> | rotate-secret";
const done = {
  promote: "is now an ADMIN",
  demote: "is now a USER",
  disable: "is disabled and signed out everywhere",
  enable: "is enabled; they sign in again",
};
let exitCode = 0;
try {
  await app.boot();
  switch (command) {
    case "promote":
    case "demote":
    case "disable":
    case "enable": {
      const email = args[0];
      if (!email) throw new Error(usage);
      const changed = await app.cli[command](email);
      if (!changed) {
        console.error(`No account with the email ${email}.`);
        exitCode = 1;
      } else {
        console.log(`${email} ${done[command]}.`);
      }
      break;
    }
    case "rotate-secret": {
      const { activeFrom, removed } = await app.cli.rotateSecret();
      console.log(
        `New cookie-signing secret stored; replicas start signing with it at ${activeFrom.toISOString()}. ` +
          `Older secrets still verify (${removed} expired one(s) removed).`,
      );
      break;
    }
    default:
      throw new Error(usage);
  }
} catch (error) {
  console.error(error instanceof app.EnvError ? error.message : (error?.message ?? String(error)));
  exitCode = 1;
} finally {
  await app.shutdown();
}
process.exit(exitCode);
