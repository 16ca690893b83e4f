import { randomBytes } from "node:crypto";
import { db } from "./db.server";
import { env } from "./env.server";
import { errorFields, log } from "./log.server";

const COOKIE_PURPOSE = "session-cookie";
/** Arbitrary constant key for pg_advisory_xact_lock: serialises first-secret creation across replicas. */
const SECRET_LOCK_KEY = 7_201_114;
const REFRESH_MS = 60_000;
/** A rotated-in secret starts signing after this delay, once every replica has refreshed and can verify it. */
export const ROTATION_DELAY_MS = 2 * REFRESH_MS;

let cached: string[] | undefined;
let refreshTimer: NodeJS.Timeout | undefined;
const listeners = new Set<(secrets: string[]) => void>();

/**
 * Cookie-signing secrets, signing secret first. From SESSION_SECRET when set (comma-separated,
 * first signs); otherwise generated once and kept in the database so every replica and restart
 * shares them.
 */
export async function loadCookieSecrets(): Promise<string[]> {
  const fromEnv = env().SESSION_SECRETS;
  if (fromEnv) {
    cached = fromEnv;
    return cached;
  }
  await ensureStoredSecret();
  cached = await readStoredSecrets();
  refreshTimer ??= setInterval(() => {
    readStoredSecrets()
      .then((secrets) => {
        if (secrets.join() === cached?.join()) return;
        cached = secrets;
        for (const listener of listeners) listener(secrets);
      })
      .catch((error) => log.warn("could not refresh cookie secrets", errorFields(error)));
  }, REFRESH_MS).unref();
  return cached;
}

export function cookieSecrets(): string[] {
  if (!cached) throw new Error("cookie secrets not loaded: boot() must run first");
  return cached;
}

export function onCookieSecretsChange(listener: (secrets: string[]) => void) {
  listeners.add(listener);
}

export function stopSecretRefresh() {
  clearInterval(refreshTimer);
  refreshTimer = undefined;
}

async function ensureStoredSecret() {
  await db().$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SECRET_LOCK_KEY})`;
    const existing = await tx.appSecret.count({ where: { purpose: COOKIE_PURPOSE } });
    if (existing === 0) {
      await tx.appSecret.create({ data: { purpose: COOKIE_PURPOSE, value: newSecret() } });
      log.info("generated a cookie-signing secret and stored it in the database");
    }
  });
}

async function readStoredSecrets(): Promise<string[]> {
  const rows = await db().appSecret.findMany({
    where: { purpose: COOKIE_PURPOSE },
    orderBy: { activeFrom: "desc" },
    select: { value: true, activeFrom: true },
  });
  const now = Date.now();
  const signing = rows.find((row) => row.activeFrom.getTime() <= now) ?? rows[rows.length - 1];
  return [signing.value, ...rows.filter((row) => row !== signing).map((row) => row.value)];
}

/** Adds a new signing secret (active after ROTATION_DELAY_MS); keeps `keep` newest older ones. */
export async function rotateStoredSecret({ keep = 2 }: { keep?: number } = {}) {
  const activeFrom = new Date(Date.now() + ROTATION_DELAY_MS);
  await db().appSecret.create({ data: { purpose: COOKIE_PURPOSE, value: newSecret(), activeFrom } });
  const stale = await db().appSecret.findMany({
    where: { purpose: COOKIE_PURPOSE },
    orderBy: { activeFrom: "desc" },
    skip: keep + 1,
    select: { id: true },
  });
  await db().appSecret.deleteMany({ where: { id: { in: stale.map((row) => row.id) } } });
  return { activeFrom, removed: stale.length };
}

function newSecret() {
  return randomBytes(32).toString("base64url");
}
