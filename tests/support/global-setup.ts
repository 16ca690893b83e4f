import { existsSync } from "node:fs";
import path from "node:path";

/** Integration tests drive the production build, exactly what `npm start` runs. */
export default function setup() {
  const root = path.resolve(import.meta.dirname, "../..");
  if (!existsSync(path.join(root, "build/server.js"))) {
    throw new Error("No build found: run `npm run build` before the integration tests (npm test does).");
  }
}
