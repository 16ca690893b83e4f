import type { Prisma } from "~/generated/prisma/client";
import type { AuditAction } from "~/lib/audit-actions";
import { db } from "../db.server";
import { errorFields, log } from "../log.server";
import { requestScope } from "../request-context.server";

/**
 * The audit log: an append-only record of admin and security events (table `audit_events`, whose
 * trigger refuses UPDATE, DELETE and TRUNCATE even from the app). Nothing here edits or deletes.
 * The action names are in app/lib/audit-actions.ts.
 */
export { AUDIT_ACTIONS, type AuditAction, isAuditAction } from "~/lib/audit-actions";

export interface AuditEventInput {
  /** Who did it (a user id); null for the system itself (e.g. a pull that failed on its own). */
  actorId: string | null;
  action: AuditAction;
  /** What it was done to: "user", "api_key", "model", "setting", "route". */
  targetType?: string | null;
  targetId?: string | null;
  /** The state before and after, where that applies. Plain JSON; never secrets or hashes. */
  before?: Prisma.InputJsonValue | null;
  after?: Prisma.InputJsonValue | null;
  /** The client's IP (router context `clientIpContext`); defaults to the current page request's. */
  ip?: string | null;
}

type Executor = Pick<Prisma.TransactionClient, "$executeRaw">;

/**
 * Appends one event. Pass the transaction (`tx`) that makes the change, so the change and its record
 * are written together or not at all; otherwise the event is written on its own. Throws if it cannot
 * be written: callers decide whether that fails their action (inside a transaction it does).
 */
export async function recordAuditEvent(event: AuditEventInput, tx?: Executor) {
  const ip = event.ip ?? requestScope()?.ip ?? null;
  const json = (value: Prisma.InputJsonValue | null | undefined) =>
    value === undefined || value === null ? null : JSON.stringify(value);
  // The actor's address is copied in, so the record still names them after their account is gone.
  await (tx ?? db()).$executeRaw`
    INSERT INTO audit_events (actor_id, actor_email, action, target_type, target_id, before, after, ip)
    VALUES (
      ${event.actorId}::text,
      (SELECT email FROM users WHERE id = ${event.actorId}::text),
      ${event.action}::text,
      ${event.targetType ?? null}::text,
      ${event.targetId ?? null}::text,
      ${json(event.before)}::jsonb,
      ${json(event.after)}::jsonb,
      ${ip}::text
    )`;
}

/**
 * A signed-in non-admin reached an admin page or action. Recorded once per request (the layout's
 * loader and the page's both run the guard), never failing the refusal itself.
 */
export async function recordAdminAccessDenied(user: { id: string }, request: Request) {
  const scope = requestScope();
  if (scope?.adminDenialRecorded) return;
  if (scope) scope.adminDenialRecorded = true;
  const url = new URL(request.url);
  // A client-side navigation asks for `<path>.data`; the log names the page.
  const path = url.pathname.replace(/\.data$/, "").replace(/\/_root$/, "/") || "/";
  try {
    await recordAuditEvent({
      actorId: user.id,
      action: "admin.access_denied",
      targetType: "route",
      targetId: `${request.method.toUpperCase()} ${path}`.slice(0, 500),
    });
  } catch (error) {
    log.error("could not record a refused admin request", errorFields(error));
  }
}

export interface AuditFilter {
  /** The actor's email address, exact (case-insensitive). */
  actor?: string;
  action?: AuditAction;
  /** UTC days, inclusive. */
  from?: Date;
  to?: Date;
}

export const AUDIT_PAGE_SIZE = 50;

/**
 * One page of events, newest first. Paged by id (monotonic, so newest-first is id order):
 * `before` = the last id of the page above for the next older page, `after` = the first id of the
 * page above for the previous (newer) page.
 */
export async function listAuditEvents(
  filter: AuditFilter,
  cursor: { before?: bigint; after?: bigint } = {},
  pageSize = AUDIT_PAGE_SIZE,
) {
  const where: Prisma.AuditEventWhereInput = {
    ...(filter.actor ? { actorEmail: { equals: filter.actor, mode: "insensitive" } } : {}),
    ...(filter.action ? { action: filter.action } : {}),
    ...(filter.from || filter.to
      ? {
          at: {
            ...(filter.from ? { gte: filter.from } : {}),
            ...(filter.to ? { lt: new Date(filter.to.getTime() + 86_400_000) } : {}),
          },
        }
      : {}),
  };
  const select = {
    id: true,
    at: true,
    actorId: true,
    actorEmail: true,
    action: true,
    targetType: true,
    targetId: true,
    before: true,
    after: true,
    ip: true,
  } as const;
  const newerFirst = cursor.after === undefined;
  const rows = await db().auditEvent.findMany({
    where: {
      ...where,
      ...(cursor.before !== undefined ? { id: { lt: cursor.before } } : {}),
      ...(cursor.after !== undefined ? { id: { gt: cursor.after } } : {}),
    },
    orderBy: { id: newerFirst ? "desc" : "asc" },
    take: pageSize + 1,
    select,
  });
  const more = rows.length > pageSize;
  const events = rows.slice(0, pageSize);
  if (!newerFirst) events.reverse();
  const first = events[0]?.id;
  const last = events.at(-1)?.id;
  const exists = (id: Prisma.BigIntFilter) =>
    db()
      .auditEvent.findFirst({ where: { ...where, id }, select: { id: true } })
      .then(Boolean);
  const [hasNewer, hasOlder] = await Promise.all([
    newerFirst ? (first === undefined ? cursor.before !== undefined : exists({ gt: first })) : more,
    newerFirst ? more : last === undefined ? false : exists({ lt: last }),
  ]);
  return { events, hasNewer, hasOlder };
}
