import { z } from "zod";

/**
 * Every audit action name, with the label the audit page shows. Record with these names; add a name
 * here before using it (the type refuses unknown ones).
 */
export const AUDIT_ACTIONS = {
  "user.created": "User created",
  "user.role_changed": "Role changed",
  "user.disabled": "User disabled",
  "user.enabled": "User enabled",
  "user.deleted": "User deleted",
  "user.limits_changed": "User API limit changed",
  "settings.signup_changed": "Sign-up setting changed",
  "api_key.created": "API key created",
  "api_key.revoked": "API key revoked",
  "api_key.limits_changed": "API key limits changed",
  "model.pull_started": "Model pull started",
  "model.pull_finished": "Model pull finished",
  "model.pull_failed": "Model pull failed",
  "model.pull_cancelled": "Model pull cancelled",
  "model.deleted": "Model deleted",
  "model.visibility_changed": "Model visibility changed",
  "model.default_changed": "Default model changed",
  "admin.access_denied": "Admin area refused",
} as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

export function isAuditAction(value: unknown): value is AuditAction {
  return typeof value === "string" && Object.hasOwn(AUDIT_ACTIONS, value);
}

const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "Use a date like 2026-01-31.")
  .refine((text) => {
    const date = new Date(`${text}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
  }, "That is not a date.");
const optional = <T extends z.ZodType>(schema: T) =>
  z
    .literal("")
    .transform(() => undefined)
    .or(schema)
    .optional();
const cursor = z.string().regex(/^\d{1,18}$/, "Not a page of this log.");

/** The audit page's query string: filters and the page cursor. */
export const auditQuerySchema = z
  .object({
    actor: optional(z.string().trim().max(320, "At most 320 characters.")),
    action: optional(z.string().refine(isAuditAction, "Choose an action from the list.")),
    from: optional(isoDay),
    to: optional(isoDay),
    before: optional(cursor),
    after: optional(cursor),
  })
  .refine((value) => !(value.from && value.to && value.from > value.to), {
    path: ["to"],
    message: "The end is before the start.",
  });
