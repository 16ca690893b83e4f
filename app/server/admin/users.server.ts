import { randomBytes } from "node:crypto";
import { hash } from "@node-rs/argon2";
import { Prisma } from "~/generated/prisma/client";
import { normaliseEmail } from "~/lib/account-schemas";
import { USERS_PER_PAGE } from "~/lib/admin-user-schemas";
import { forgetUserKeys } from "../api/keys.server";
import { PASSWORD_HASH_OPTIONS, type Role, withSignupLock } from "../auth.server";
import { db } from "../db.server";
import { log } from "../log.server";
import { revokeAllSessions } from "../session.server";
import { recordAuditEvent } from "./audit.server";

/**
 * User management for /admin/users. Every change that could take away an administrator runs in one
 * transaction holding ADMIN_LOCK_KEY, and re-reads the acting admin inside it: of two admins
 * demoting (or disabling, or deleting) each other at the same moment, the second finds it is no
 * longer an enabled admin and is refused, so the instance always keeps an enabled admin.
 */
const ADMIN_LOCK_KEY = 7_201_116;

/** A refused admin action: `status` is the HTTP answer, `message` what the page shows. */
export class AdminActionError extends Error {
  constructor(
    public status: 403 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

function startOfMonthUtc(now = new Date()) {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

const listSelect = {
  id: true,
  email: true,
  name: true,
  role: true,
  disabledAt: true,
  createdAt: true,
  lastSeenAt: true,
  mustChangePassword: true,
  rateLimitRequests: true,
  // Only whether there is one; the hash never leaves this module.
  passwordHash: true,
  connections: { select: { provider: true } },
  _count: { select: { chats: true } },
} as const;

type ListedRow = Prisma.UserGetPayload<{ select: typeof listSelect }>;

export interface AdminUserRow {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  disabled: boolean;
  createdAt: Date;
  lastSeenAt: Date | null;
  mustChangePassword: boolean;
  rateLimitRequests: number | null;
  signInMethods: string[];
  chats: number;
  tokensThisMonth: number;
}

function signInMethods(row: Pick<ListedRow, "passwordHash" | "connections">) {
  const methods = row.passwordHash ? ["password"] : [];
  for (const provider of new Set(row.connections.map((connection) => connection.provider)).values()) {
    methods.push(provider);
  }
  return methods;
}

/** Tokens (prompt + completion) per user this calendar month (UTC), from the daily roll-up only. */
async function tokensThisMonth(userIds: string[]) {
  if (userIds.length === 0) return new Map<string, number>();
  const rows = await db().usageDaily.groupBy({
    by: ["userId"],
    where: { userId: { in: userIds }, day: { gte: startOfMonthUtc() } },
    _sum: { promptTokens: true, completionTokens: true },
  });
  return new Map(
    rows.map((row) => [
      row.userId,
      Number(row._sum.promptTokens ?? 0) + Number(row._sum.completionTokens ?? 0),
    ]),
  );
}

function toRow(row: ListedRow, tokens: Map<string, number>): AdminUserRow {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    disabled: row.disabledAt !== null,
    createdAt: row.createdAt,
    lastSeenAt: row.lastSeenAt,
    mustChangePassword: row.mustChangePassword,
    rateLimitRequests: row.rateLimitRequests,
    signInMethods: signInMethods(row),
    chats: row._count.chats,
    tokensThisMonth: tokens.get(row.id) ?? 0,
  };
}

/**
 * One page of users, newest first, optionally only those whose email contains `query`. Emails are
 * stored normalised (lower case), so a case-sensitive `contains` on the lower-cased query matches.
 */
export async function listUsers({ query, page }: { query: string; page: number }) {
  const where: Prisma.UserWhereInput = query ? { email: { contains: query } } : {};
  const total = await db().user.count({ where });
  const pages = Math.max(1, Math.ceil(total / USERS_PER_PAGE));
  // A page past the end (users deleted meanwhile, or a hand-edited URL) shows the last one.
  const shown = Math.min(page, pages);
  const rows = await db().user.findMany({
    where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    skip: (shown - 1) * USERS_PER_PAGE,
    take: USERS_PER_PAGE,
    select: listSelect,
  });
  const tokens = await tokensThisMonth(rows.map((row) => row.id));
  return { users: rows.map((row) => toRow(row, tokens)), total, page: shown, pages };
}

/** One user with what deleting them would remove. */
export async function userDetails(userId: string) {
  const row = await db().user.findUnique({ where: { id: userId }, select: listSelect });
  if (!row) return null;
  const [tokens, messages, apiKeys, usageDaily, usageEvents] = await Promise.all([
    tokensThisMonth([userId]),
    db().message.count({ where: { chat: { userId } } }),
    db().apiKey.count({ where: { userId } }),
    db().usageDaily.count({ where: { userId } }),
    db().usageEvent.count({ where: { userId } }),
  ]);
  return {
    user: toRow(row, tokens),
    owned: { chats: row._count.chats, messages, apiKeys, usageRows: usageDaily + usageEvents },
  };
}

type GuardedTarget = { id: string; email: string; role: Role; disabledAt: Date | null };

/**
 * Runs `change` under the admin lock after checking that the actor is still an enabled admin, that
 * the target exists and is not the actor, and — when the change takes the target's admin rights
 * away — that another enabled admin remains.
 */
function guarded<T>(
  actorId: string,
  targetId: string,
  what: string,
  removesAdmin: (target: GuardedTarget) => boolean,
  change: (tx: Prisma.TransactionClient, target: GuardedTarget) => Promise<T>,
): Promise<T> {
  return db().$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADMIN_LOCK_KEY})`;
    const select = { id: true, email: true, role: true, disabledAt: true } as const;
    const actor = await tx.user.findUnique({ where: { id: actorId }, select });
    if (actor?.role !== "ADMIN" || actor.disabledAt) {
      throw new AdminActionError(403, "Only administrators can do this.");
    }
    const target = await tx.user.findUnique({ where: { id: targetId }, select });
    if (!target) throw new AdminActionError(404, "There is no such user.");
    if (target.id === actor.id) throw new AdminActionError(409, `You cannot ${what} yourself.`);
    if (target.role === "ADMIN" && !target.disabledAt && removesAdmin(target)) {
      const others = await tx.user.count({
        where: { role: "ADMIN", disabledAt: null, id: { not: target.id } },
      });
      if (others === 0) {
        throw new AdminActionError(
          409,
          "This is the last enabled administrator; promote someone else first.",
        );
      }
    }
    return change(tx, target);
  });
}

export async function changeRole(actorId: string, targetId: string, role: Role) {
  const target = await guarded(
    actorId,
    targetId,
    role === "ADMIN" ? "promote" : "demote",
    () => role !== "ADMIN",
    async (tx, target) => {
      await tx.user.update({ where: { id: target.id }, data: { role }, select: { id: true } });
      await recordAuditEvent(
        {
          actorId,
          action: "user.role_changed",
          targetType: "user",
          targetId: target.id,
          before: { role: target.role },
          after: { role },
        },
        tx,
      );
      return target;
    },
  );
  log.info("user role changed", { actorId, userId: targetId, role });
  return target;
}

/**
 * Disabling locks the user out at once: every page request and every API key lookup re-reads
 * disabledAt (keys within KEY_CACHE_MS on other replicas), and their sessions are deleted. Enabling
 * deletes sessions too, before lifting the block: a sign-in that was under way while the account
 * was being disabled may have stored a session, and enabling must not bring any old one back.
 */
export async function setDisabled(actorId: string, targetId: string, disabled: boolean) {
  if (!disabled) {
    // Outside the transaction: the session store may be this same database (one connection with PGlite).
    const current = await db().user.findUnique({ where: { id: targetId }, select: { disabledAt: true } });
    if (current?.disabledAt) await revokeAllSessions(targetId);
  }
  const target = await guarded(
    actorId,
    targetId,
    disabled ? "disable" : "enable",
    () => disabled,
    async (tx, target) => {
      await tx.user.update({
        where: { id: target.id },
        data: { disabledAt: disabled ? (target.disabledAt ?? new Date()) : null },
        select: { id: true },
      });
      await recordAuditEvent(
        {
          actorId,
          action: disabled ? "user.disabled" : "user.enabled",
          targetType: "user",
          targetId: target.id,
          before: { disabled: Boolean(target.disabledAt) },
          after: { disabled },
        },
        tx,
      );
      return target;
    },
  );
  if (disabled) await revokeAllSessions(targetId);
  forgetUserKeys(targetId);
  log.info(disabled ? "user disabled" : "user enabled", { actorId, userId: targetId });
  return target;
}

/**
 * Deletes a user and, through the foreign keys' ON DELETE CASCADE, their chats, messages, API keys,
 * usage rows, OAuth connections and database sessions. `confirmEmail` must repeat their email.
 */
export async function deleteUser(actorId: string, targetId: string, confirmEmail: string) {
  const target = await guarded(
    actorId,
    targetId,
    "delete",
    () => true,
    async (tx, target) => {
      if (normaliseEmail(confirmEmail) !== target.email) {
        throw new AdminActionError(409, `Type ${target.email} to confirm the deletion.`);
      }
      await tx.user.delete({ where: { id: target.id }, select: { id: true } });
      await recordAuditEvent(
        {
          actorId,
          action: "user.deleted",
          targetType: "user",
          targetId: target.id,
          before: { email: target.email, role: target.role },
        },
        tx,
      );
      return target;
    },
  );
  // Redis sessions have no foreign key to cascade; the user row is gone, so they are dead anyway.
  await revokeAllSessions(targetId).catch(() => {});
  forgetUserKeys(targetId);
  log.info("user deleted", { actorId, userId: targetId });
  return target;
}

/** Sets the per-user API limit; returns the previous one (for the audit log). */
export async function setUserRateLimit(targetId: string, rateLimitRequests: number | null) {
  const before = await db().user.findUnique({ where: { id: targetId }, select: { rateLimitRequests: true } });
  if (!before) throw new AdminActionError(404, "There is no such user.");
  await db().user.update({ where: { id: targetId }, data: { rateLimitRequests }, select: { id: true } });
  forgetUserKeys(targetId);
  return before.rateLimitRequests;
}

/** 16 characters from a 96-bit random value, without look-alike characters. */
function oneTimePassword() {
  const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = randomBytes(16);
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join("");
}

/**
 * Creates a USER with a one-time password, returned here and shown once to the admin. The user
 * must choose their own password at first sign-in (mustChangePassword). Not subject to the sign-up
 * switch: closing sign-up is exactly when admins create accounts.
 */
export async function createUserWithOneTimePassword(input: { email: string; name: string }) {
  const password = oneTimePassword();
  const passwordHash = await hash(password, PASSWORD_HASH_OPTIONS);
  try {
    const user = await withSignupLock(
      async (tx, newUserRole) =>
        tx.user.create({
          data: {
            email: normaliseEmail(input.email),
            name: input.name || null,
            passwordHash,
            mustChangePassword: true,
            role: await newUserRole(),
          },
          select: { id: true, email: true },
        }),
      { selfService: false },
    );
    return { user, password };
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      throw new AdminActionError(409, "An account with this email already exists.");
    }
    throw error;
  }
}
