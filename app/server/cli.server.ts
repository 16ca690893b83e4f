/** Operator commands run by scripts/cli.mjs against the built app (same code paths as the server). */
import { normaliseEmail } from "~/lib/account-schemas";
import { setUserDisabled, setUserRole } from "./auth.server";
import { db } from "./db.server";
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

/**
 * Disabling revokes every session of the user at once (setUserDisabled), so enabling later does
 * not bring old sessions back: the user signs in again.
 */
export async function disable(email: string) {
  return setDisabledByEmail(email, true);
}

export async function enable(email: string) {
  return setDisabledByEmail(email, false);
}

async function setDisabledByEmail(email: string, disabled: boolean) {
  const user = await db().user.findUnique({ where: { email: normaliseEmail(email) }, select: { id: true } });
  if (!user) return false;
  await setUserDisabled(user.id, disabled);
  return true;
}
