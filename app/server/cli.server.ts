/** Operator commands run by scripts/cli.mjs against the built app (same code paths as the server). */
import { setUserRole } from "./auth.server";
import { rotateStoredSecret } from "./secrets.server";

export async function promote(email: string) {
  return setUserRole(email, "ADMIN");
}

export async function demote(email: string) {
  return setUserRole(email, "USER");
}

export async function rotateSecret() {
  return rotateStoredSecret();
}
