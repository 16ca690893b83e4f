import { createHash, randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { type Cookie, createCookie } from "react-router";
import { db } from "./db.server";
import { env } from "./env.server";
import { signInUnavailable } from "./http/unavailable.server";
import { RedisUnavailableError, redis, withRedis } from "./redis.server";
import { cookieSecrets, onCookieSecretsChange } from "./secrets.server";

/**
 * Server-side sessions. The cookie carries only a random 256-bit token (signed, as defence in
 * depth); the record lives in Redis with a TTL when configured, else in the `sessions` table.
 * Records are keyed by SHA-256(token), so a leaked store cannot be replayed as cookies.
 */
export interface SessionRecord {
  userId: string;
  expiresAt: number;
}

export interface SessionMeta {
  ip?: string;
  userAgent?: string;
}

const maxAgeMs = () => env().SESSION_MAX_AGE_DAYS * 86_400_000;

let cookie: Cookie | undefined;
onCookieSecretsChange(() => {
  cookie = undefined;
});

export function sessionCookie(): Cookie {
  if (!cookie) {
    const secure = env().APP_URL.startsWith("https:");
    // __Host- pins the cookie to this exact origin (no Domain, Path=/, Secure), where https allows it.
    cookie = createCookie(secure ? "__Host-ccai_session" : "ccai_session", {
      httpOnly: true,
      sameSite: "lax",
      secure,
      path: "/",
      maxAge: env().SESSION_MAX_AGE_DAYS * 86_400,
      secrets: cookieSecrets(),
    });
  }
  return cookie;
}

export function hashToken(token: string) {
  return createHash("sha256").update(token).digest("hex");
}

interface SessionStore {
  create(id: string, record: SessionRecord, meta: SessionMeta): Promise<void>;
  read(id: string): Promise<SessionRecord | null>;
  extend(id: string, record: SessionRecord): Promise<void>;
  revoke(id: string): Promise<void>;
  revokeUser(userId: string): Promise<number>;
}

const redisStore = (): SessionStore => {
  const client = redis()!;
  const key = (id: string) => `session:${id}`;
  const userKey = (userId: string) => `user-sessions:${userId}`;
  return {
    async create(id, record) {
      const ttl = record.expiresAt - Date.now();
      await client
        .multi()
        .set(key(id), JSON.stringify(record), "PX", ttl)
        .sadd(userKey(record.userId), id)
        .pexpire(userKey(record.userId), maxAgeMs())
        .exec();
    },
    async read(id) {
      const raw = await client.get(key(id));
      return raw ? (JSON.parse(raw) as SessionRecord) : null;
    },
    async extend(id, record) {
      await client
        .multi()
        .set(key(id), JSON.stringify(record), "PX", record.expiresAt - Date.now())
        .pexpire(userKey(record.userId), maxAgeMs())
        .exec();
    },
    async revoke(id) {
      const record = await this.read(id);
      const pipeline = client.multi().del(key(id));
      if (record) pipeline.srem(userKey(record.userId), id);
      await pipeline.exec();
    },
    async revokeUser(userId) {
      const ids = await client.smembers(userKey(userId));
      if (ids.length === 0) return 0;
      const results = await client
        .multi()
        .del(...ids.map(key))
        .del(userKey(userId))
        .exec();
      return Number(results?.[0]?.[1] ?? 0);
    },
  };
};

const databaseStore = (): SessionStore => ({
  async create(id, record, meta) {
    await db().session.create({
      data: {
        id,
        userId: record.userId,
        expiresAt: new Date(record.expiresAt),
        ip: meta.ip?.slice(0, 100),
        userAgent: meta.userAgent?.slice(0, 500),
      },
    });
  },
  async read(id) {
    const row = await db().session.findUnique({ where: { id }, select: { userId: true, expiresAt: true } });
    if (!row) return null;
    if (row.expiresAt.getTime() <= Date.now()) {
      await db().session.deleteMany({ where: { id } });
      return null;
    }
    return { userId: row.userId, expiresAt: row.expiresAt.getTime() };
  },
  async extend(id, record) {
    await db().session.updateMany({ where: { id }, data: { expiresAt: new Date(record.expiresAt) } });
  },
  async revoke(id) {
    await db().session.deleteMany({ where: { id } });
  },
  async revokeUser(userId) {
    const { count } = await db().session.deleteMany({ where: { userId } });
    return count;
  },
});

function store(): SessionStore {
  const client = redis();
  return client ? failingFast(client, redisStore()) : databaseStore();
}

/**
 * Sessions live only in Redis when it is configured: while it cannot be reached there is no way to
 * tell a signed-in user from a revoked one, so every page that needs the session answers 503 at
 * once (a lost connection) or after one command timeout (a hung Redis), instead of a 500 after
 * seconds of retries. Pages without a session cookie are not affected.
 */
function failingFast(client: Redis, inner: SessionStore): SessionStore {
  const guard =
    <A extends unknown[], R>(operation: (...args: A) => Promise<R>) =>
    (...args: A) =>
      withRedis(client, "sessions", () => operation.apply(inner, args)).catch((error) => {
        throw error instanceof RedisUnavailableError ? signInUnavailable() : error;
      });
  return {
    create: guard(inner.create),
    read: guard(inner.read),
    extend: guard(inner.extend),
    revoke: guard(inner.revoke),
    revokeUser: guard(inner.revokeUser),
  };
}

/** Starts a session and returns the Set-Cookie header value for it. */
export async function createSession(userId: string, meta: SessionMeta = {}): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  await store().create(hashToken(token), { userId, expiresAt: Date.now() + maxAgeMs() }, meta);
  return sessionCookie().serialize(token);
}

export async function readSessionToken(request: Request): Promise<string | null> {
  const value = await sessionCookie().parse(request.headers.get("cookie"));
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** The live session for this request, renewed (sliding expiry) once half its lifetime has passed. */
export async function readSession(request: Request): Promise<(SessionRecord & { id: string }) | null> {
  const token = await readSessionToken(request);
  if (!token) return null;
  const id = hashToken(token);
  const record = await store().read(id);
  if (!record || record.expiresAt <= Date.now()) return null;
  if (record.expiresAt - Date.now() < maxAgeMs() / 2) {
    const renewed = { ...record, expiresAt: Date.now() + maxAgeMs() };
    await store().extend(id, renewed);
    return { ...renewed, id };
  }
  return { ...record, id };
}

/** Revokes this request's session; returns the Set-Cookie header that clears the cookie. */
export async function destroySession(request: Request): Promise<string> {
  const token = await readSessionToken(request);
  if (token) await store().revoke(hashToken(token));
  return sessionCookie().serialize("", { maxAge: 0, expires: new Date(0) });
}

export async function revokeAllSessions(userId: string): Promise<number> {
  return store().revokeUser(userId);
}

/** Deletes expired database sessions; Redis expires its own. */
export async function pruneExpiredSessions() {
  if (redis()) return 0;
  const { count } = await db().session.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  return count;
}
