import type { Prisma } from "~/generated/prisma/client";
import { db } from "../db.server";
import { env } from "../env.server";

/**
 * Open sign-up: ALLOW_SIGNUP is the default; once an administrator uses the switch on /admin/users
 * the stored setting wins (an operator who wants the environment back deletes the row). Read from
 * the database every time (sign-ups are rare), so every replica agrees at once.
 */
const SETTING_KEY = "auth.allow_signup";

type Client = Pick<Prisma.TransactionClient, "appSetting">;

export async function signupAllowed(client: Client = db()): Promise<boolean> {
  const row = await client.appSetting.findUnique({ where: { key: SETTING_KEY }, select: { value: true } });
  return row ? row.value === "true" : env().ALLOW_SIGNUP;
}

export async function setSignupAllowed(allowed: boolean) {
  const value = String(allowed);
  await db().appSetting.upsert({
    where: { key: SETTING_KEY },
    create: { key: SETTING_KEY, value },
    update: { value },
  });
}

/** Whether the sign-up page should offer a form: open, or no account exists yet. */
export async function signupOpen(): Promise<boolean> {
  if (await signupAllowed()) return true;
  return !(await db().user.findFirst({ select: { id: true } }));
}
