import { createHash, randomBytes } from "node:crypto";
import { API_KEY_PREFIX, type CreateKeyInput } from "~/lib/api-key-schemas";
import { recordAuditEvent } from "../admin/audit.server";
import { db } from "../db.server";
import { env } from "../env.server";
import { errorFields, log } from "../log.server";
import { invalidApiKey, missingApiKey, OpenAIError } from "../openai/errors.server";

/**
 * API keys: `ccai-` + 256 random bits in base64url. Only the SHA-256 of the whole token is stored
 * (a leaked database cannot be replayed; a fast hash is enough because the token is random, not a
 * password). `prefix` — the first 8 characters after `ccai-` — is kept in clear to tell keys apart.
 */
const VISIBLE_CHARS = API_KEY_PREFIX.length + 8;

export function hashToken(token: string) {
  return createHash("sha256").update(token).digest("hex");
}

export function generateToken() {
  return API_KEY_PREFIX + randomBytes(32).toString("base64url");
}

/** Everything about a key that may be shown; never the hash. */
const keySelect = {
  id: true,
  name: true,
  prefix: true,
  createdAt: true,
  lastUsedAt: true,
  expiresAt: true,
  revokedAt: true,
  allowedModels: true,
  rateLimitRequests: true,
  rateLimitTokensPerMinute: true,
} as const;

export type ApiKeyStatus = "active" | "revoked" | "expired";
export function keyStatus(key: { revokedAt: Date | null; expiresAt: Date | null }, now = new Date()) {
  if (key.revokedAt) return "revoked";
  if (key.expiresAt && key.expiresAt <= now) return "expired";
  return "active";
}

/**
 * Creates a key; the returned token is the only time it exists anywhere outside the client.
 * `ip` (the client's, for the audit log) defaults to the current page request's.
 */
export async function createApiKey(userId: string, input: CreateKeyInput, ip?: string) {
  const token = generateToken();
  const key = await db().$transaction(async (tx) => {
    const created = await tx.apiKey.create({
      data: {
        userId,
        name: input.name,
        prefix: token.slice(0, VISIBLE_CHARS),
        hash: hashToken(token),
        expiresAt: input.expiresAt,
        allowedModels: input.allowedModels,
      },
      select: keySelect,
    });
    await recordAuditEvent(
      {
        actorId: userId,
        action: "api_key.created",
        targetType: "api_key",
        targetId: created.id,
        after: {
          name: created.name,
          prefix: created.prefix,
          expiresAt: created.expiresAt?.toISOString() ?? null,
          allowedModels: created.allowedModels,
        },
        ip,
      },
      tx,
    );
    return created;
  });
  log.info("api key created", { userId, keyId: key.id });
  return { key, token };
}

export function listApiKeys(userId: string) {
  return db().apiKey.findMany({ where: { userId }, orderBy: { createdAt: "desc" }, select: keySelect });
}

/** Every key of every user, for the admin overrides section. */
export function listAllApiKeys() {
  return db().apiKey.findMany({
    where: { revokedAt: null },
    orderBy: { createdAt: "desc" },
    take: 500,
    select: { ...keySelect, user: { select: { email: true } } },
  });
}

/** Revokes one of the user's own keys. Returns false when there is no such active key. */
export async function revokeApiKey(userId: string, keyId: string, ip?: string) {
  const revokedAt = new Date();
  const revoked = await db().$transaction(async (tx) => {
    const updated = await tx.apiKey.updateMany({
      where: { id: keyId, userId, revokedAt: null },
      data: { revokedAt },
    });
    if (updated.count === 1) {
      await recordAuditEvent(
        {
          actorId: userId,
          action: "api_key.revoked",
          targetType: "api_key",
          targetId: keyId,
          before: { revokedAt: null },
          after: { revokedAt: revokedAt.toISOString() },
          ip,
        },
        tx,
      );
    }
    return updated;
  });
  forgetCachedKey(keyId);
  if (revoked.count) log.info("api key revoked", { userId, keyId });
  return revoked.count === 1;
}

/** An administrator's per-key limit overrides (null = the default); recorded with the old values. */
export async function setApiKeyLimits(
  actorId: string,
  keyId: string,
  limits: { rateLimitRequests: number | null; rateLimitTokensPerMinute: number | null },
  ip?: string,
) {
  const found = await db().$transaction(async (tx) => {
    // Locked, so the "before" in the audit log is the value this change replaced.
    const [before] = await tx.$queryRaw<
      { rateLimitRequests: number | null; rateLimitTokensPerMinute: number | null }[]
    >`SELECT rate_limit_requests AS "rateLimitRequests", rate_limit_tokens_per_minute AS "rateLimitTokensPerMinute"
      FROM api_keys WHERE id = ${keyId} FOR UPDATE`;
    if (!before) return false;
    await tx.apiKey.update({ where: { id: keyId }, data: limits, select: { id: true } });
    await recordAuditEvent(
      {
        actorId,
        action: "api_key.limits_changed",
        targetType: "api_key",
        targetId: keyId,
        before: { ...before },
        after: { ...limits },
        ip,
      },
      tx,
    );
    return true;
  });
  forgetCachedKey(keyId);
  return found;
}

export interface ApiLimits {
  /** Requests admitted per `windowMs`, for this key. */
  requests: number;
  /** The admin's override of the user's requests per `windowMs` across all keys; null = derived. */
  userRequests: number | null;
  windowMs: number;
  /** Tokens per minute for this key; null = no token limit. */
  tokensPerMinute: number | null;
}

export interface ApiPrincipal {
  userId: string;
  keyId: string;
  /** Empty = every model. */
  allowedModels: string[];
  limits: ApiLimits;
}

interface KeyRecord {
  id: string;
  userId: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  allowedModels: string[];
  rateLimitRequests: number | null;
  rateLimitTokensPerMinute: number | null;
  user: { disabledAt: Date | null; rateLimitRequests: number | null };
}

/**
 * Looked-up keys are remembered for at most CACHE_MS per process, so revoking a key, disabling its
 * user or changing its limits reaches every replica within that time (the replica that revokes
 * forgets at once). Only found keys are cached: unknown tokens always go to the database, so a
 * flood of random tokens cannot push real keys out of the cache.
 */
export const KEY_CACHE_MS = 500;
const CACHE_MAX_ENTRIES = 10_000;
const cache = new Map<string, { at: number; record: KeyRecord }>();

/**
 * Lookups under way, by hash: concurrent requests with one key share one query. Without this, every
 * request arriving while the entry is stale queries the database; under load that was a burst of
 * identical queries every KEY_CACHE_MS.
 */
const inFlight = new Map<string, Promise<KeyRecord | null>>();
/** Bumped when a key changes here, so a lookup that started before the change is neither shared nor cached. */
let generation = 0;

function forgetCachedKey(keyId: string) {
  for (const [hash, entry] of cache) if (entry.record.id === keyId) cache.delete(hash);
  inFlight.clear();
  generation++;
}

/** A user was disabled, deleted or given new limits: this replica forgets their keys at once. */
export function forgetUserKeys(userId: string) {
  for (const [hash, entry] of cache) if (entry.record.userId === userId) cache.delete(hash);
  inFlight.clear();
  generation++;
}

function findKey(hash: string): Promise<KeyRecord | null> {
  const hit = cache.get(hash);
  if (hit && Date.now() - hit.at < KEY_CACHE_MS) return Promise.resolve(hit.record);
  let pending = inFlight.get(hash);
  if (!pending) {
    const lookup = lookUpKey(hash).finally(() => {
      if (inFlight.get(hash) === lookup) inFlight.delete(hash);
    });
    inFlight.set(hash, lookup);
    pending = lookup;
  }
  return pending;
}

async function lookUpKey(hash: string): Promise<KeyRecord | null> {
  // The age of an entry counts from when the query started, so it is never older than KEY_CACHE_MS.
  const started = Date.now();
  const startedGeneration = generation;
  const record = await db().apiKey.findUnique({
    where: { hash },
    select: {
      id: true,
      userId: true,
      expiresAt: true,
      revokedAt: true,
      allowedModels: true,
      rateLimitRequests: true,
      rateLimitTokensPerMinute: true,
      user: { select: { disabledAt: true, rateLimitRequests: true } },
    },
  });
  if (!record) {
    cache.delete(hash);
    return null;
  }
  if (startedGeneration !== generation) return record;
  if (cache.size >= CACHE_MAX_ENTRIES) {
    // Maps iterate in insertion order: drop the oldest entry.
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.delete(hash);
  cache.set(hash, { at: started, record });
  return record;
}

/** lastUsedAt is written at most once a minute per key per process, after the response is under way. */
const LAST_USED_EVERY_MS = 60_000;
const lastUsedWritten = new Map<string, number>();

function touchLastUsed(keyId: string) {
  const now = Date.now();
  if (now - (lastUsedWritten.get(keyId) ?? 0) < LAST_USED_EVERY_MS) return;
  lastUsedWritten.set(keyId, now);
  if (lastUsedWritten.size > CACHE_MAX_ENTRIES) {
    for (const [id, at] of lastUsedWritten) if (now - at >= LAST_USED_EVERY_MS) lastUsedWritten.delete(id);
  }
  db()
    .apiKey.update({ where: { id: keyId }, data: { lastUsedAt: new Date(now) }, select: { id: true } })
    .catch((error) => log.warn("could not record api key use", { keyId, ...errorFields(error) }));
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The API key guard for /api/v1, given the Authorization header: `Bearer <key>` only, like
 * OpenAI. Throws the OpenAI envelope: 401 for a missing, unknown, revoked or expired key; 403 for
 * a disabled user.
 */
export async function requireApiKey(header: string | null): Promise<ApiPrincipal> {
  if (!header?.trim()) throw missingApiKey();
  const token = BEARER.exec(header)?.[1];
  if (!token) throw missingApiKey();
  // Anything not shaped like one of our keys cannot match; skip the lookup.
  if (!token.startsWith(API_KEY_PREFIX) || token.length > 200) throw invalidApiKey();
  const record = await findKey(hashToken(token));
  if (!record || keyStatus(record) !== "active") throw invalidApiKey();
  if (record.user.disabledAt) {
    throw new OpenAIError(
      403,
      "This account is disabled. Ask an administrator.",
      "permission_error",
      "account_disabled",
    );
  }
  touchLastUsed(record.id);
  const { RATE_LIMIT_REQUESTS, RATE_LIMIT_WINDOW, RATE_LIMIT_TOKENS_PER_MINUTE } = env();
  return {
    userId: record.userId,
    keyId: record.id,
    allowedModels: record.allowedModels,
    limits: {
      // A user-level override also lifts (or lowers) the per-key default for the user's keys.
      requests: record.rateLimitRequests ?? record.user.rateLimitRequests ?? RATE_LIMIT_REQUESTS,
      userRequests: record.user.rateLimitRequests,
      windowMs: RATE_LIMIT_WINDOW,
      tokensPerMinute: record.rateLimitTokensPerMinute ?? (RATE_LIMIT_TOKENS_PER_MINUTE || null),
    },
  };
}

/** Ollama treats `llama3.2` and `llama3.2:latest` as the same model; so do allow-lists. */
export function canonicalModelName(model: string) {
  const name = model.trim();
  const lastSegment = name.slice(name.lastIndexOf("/") + 1);
  return lastSegment.includes(":") ? name : `${name}:latest`;
}

export function isModelAllowed(principal: Pick<ApiPrincipal, "allowedModels">, model: string) {
  if (principal.allowedModels.length === 0) return true;
  const wanted = canonicalModelName(model);
  return principal.allowedModels.some((allowed) => canonicalModelName(allowed) === wanted);
}

/** Throws a 403 envelope when the key's allow-list excludes `model`. */
export function assertModelAllowed(principal: Pick<ApiPrincipal, "allowedModels">, model: string) {
  if (isModelAllowed(principal, model)) return;
  throw new OpenAIError(
    403,
    `This API key is not allowed to use the model \`${model}\`. Allowed models: ${principal.allowedModels.join(", ")}.`,
    "permission_error",
    "model_not_allowed",
    "model",
  );
}
