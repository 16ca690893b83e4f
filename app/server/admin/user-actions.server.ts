import { redirect } from "react-router";
import { type FieldErrors, fieldErrorsOf } from "~/lib/account-schemas";
import {
  createUserSchema,
  deleteUserSchema,
  disableSchema,
  roleChangeSchema,
  signupSwitchSchema,
  userLimitSchema,
} from "~/lib/admin-user-schemas";
import type { SessionUser } from "../auth.server";
import { log } from "../log.server";
import { recordAuditEvent } from "./audit.server";
import { setSignupAllowed } from "./signup-setting.server";
import {
  AdminActionError,
  changeRole,
  createUserWithOneTimePassword,
  deleteUser,
  setDisabled,
  setUserRateLimit,
} from "./users.server";

/**
 * The actions of /admin/users and /admin/users/:userId, shared by both pages: each form posts an
 * `intent` and its fields. The answer is what the page renders (status, notice or errors); a
 * deletion redirects to the list, since the user's own page is gone.
 */
export interface UserActionResult {
  intent: string;
  /** The user the form was about, so the page shows errors next to the right row. */
  userId: string | null;
  notice: string | null;
  errors: FieldErrors | null;
  created: { email: string; password: string } | null;
}

function text(form: FormData, name: string) {
  const value = form.get(name);
  return typeof value === "string" ? value : undefined;
}

export async function runUserAction(
  actor: SessionUser,
  form: FormData,
): Promise<{ status: number; result: UserActionResult }> {
  const intent = text(form, "intent") ?? "";
  const userId = text(form, "userId")?.slice(0, 100) ?? null;
  const answer = (status: number, fields: Partial<UserActionResult>) => ({
    status,
    result: { intent, userId, notice: null, errors: null, created: null, ...fields },
  });
  const invalid = (errors: FieldErrors) => answer(400, { errors });

  try {
    switch (intent) {
      case "role": {
        const parsed = roleChangeSchema.safeParse({ userId, role: text(form, "role") });
        if (!parsed.success) return invalid(fieldErrorsOf(parsed.error));
        const target = await changeRole(actor.id, parsed.data.userId, parsed.data.role);
        return answer(200, {
          notice: `${target.email} is now ${parsed.data.role === "ADMIN" ? "an administrator" : "a user"}.`,
        });
      }
      case "disable": {
        const parsed = disableSchema.safeParse({ userId, disabled: text(form, "disabled") });
        if (!parsed.success) return invalid(fieldErrorsOf(parsed.error));
        const target = await setDisabled(actor.id, parsed.data.userId, parsed.data.disabled);
        return answer(200, {
          notice: parsed.data.disabled
            ? `${target.email} is disabled and signed out everywhere; their API keys are refused.`
            : `${target.email} is enabled again. They have to sign in anew.`,
        });
      }
      case "limits": {
        const parsed = userLimitSchema.safeParse({
          userId,
          rateLimitRequests: text(form, "rateLimitRequests") ?? "",
        });
        if (!parsed.success) return invalid(fieldErrorsOf(parsed.error));
        const before = await setUserRateLimit(parsed.data.userId, parsed.data.rateLimitRequests);
        await recordAuditEvent({
          actorId: actor.id,
          action: "user.limits_changed",
          targetType: "user",
          targetId: parsed.data.userId,
          before: { rateLimitRequests: before },
          after: { rateLimitRequests: parsed.data.rateLimitRequests },
        });
        log.info("user rate limit changed", { actorId: actor.id, ...parsed.data });
        return answer(200, { notice: "Limit saved." });
      }
      case "delete": {
        const parsed = deleteUserSchema.safeParse({ userId, confirmEmail: text(form, "confirmEmail") });
        if (!parsed.success) return invalid(fieldErrorsOf(parsed.error));
        const target = await deleteUser(actor.id, parsed.data.userId, parsed.data.confirmEmail);
        throw redirect(`/admin/users?${new URLSearchParams({ deleted: target.email })}`);
      }
      case "create": {
        const parsed = createUserSchema.safeParse({ email: text(form, "email"), name: text(form, "name") });
        if (!parsed.success) return invalid(fieldErrorsOf(parsed.error));
        const { user, password } = await createUserWithOneTimePassword(parsed.data);
        await recordAuditEvent({
          actorId: actor.id,
          action: "user.created",
          targetType: "user",
          targetId: user.id,
          after: { email: user.email, oneTimePassword: true },
        });
        log.info("user created by an administrator", { actorId: actor.id, userId: user.id });
        return answer(201, { userId: user.id, created: { email: user.email, password } });
      }
      case "signup": {
        const parsed = signupSwitchSchema.safeParse({ allowSignup: text(form, "allowSignup") });
        if (!parsed.success) return invalid(fieldErrorsOf(parsed.error));
        await setSignupAllowed(parsed.data.allowSignup);
        await recordAuditEvent({
          actorId: actor.id,
          action: "settings.signup_changed",
          targetType: "setting",
          targetId: "auth.allow_signup",
          after: { allowSignup: parsed.data.allowSignup },
        });
        log.info("sign-up switched", { actorId: actor.id, allowSignup: parsed.data.allowSignup });
        return answer(200, {
          notice: parsed.data.allowSignup
            ? "Sign-up is open: anyone can create an account."
            : "Sign-up is closed: only administrators can create accounts.",
        });
      }
      default:
        return invalid({ form: ["Unknown action."] });
    }
  } catch (error) {
    if (error instanceof AdminActionError) {
      if (error.status === 403) log.warn("admin action refused", { actorId: actor.id, intent, userId });
      return answer(error.status, { errors: { form: [error.message] } });
    }
    throw error;
  }
}
