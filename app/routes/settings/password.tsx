import { data, Form, redirect, useNavigation, useSearchParams } from "react-router";
import { Field, FormError, SubmitButton } from "~/components/form";
import { SettingsNav } from "~/components/settings-nav";
import { fieldErrorsOf } from "~/lib/account-schemas";
import { changePasswordSchema } from "~/lib/admin-user-schemas";
import {
  FormError as AccountError,
  changePassword,
  requireUser,
  safeRedirectPath,
  TooManyAttemptsError,
} from "~/server/auth.server";
import { clientIpContext } from "~/server/request-context.server";
import { createSession } from "~/server/session.server";
import type { Route } from "./+types/password";

export const meta: Route.MetaFunction = () => [{ title: "Change password · CustomChatAI" }];

export async function loader({ request }: Route.LoaderArgs) {
  const user = await requireUser(request);
  return { mustChangePassword: user.mustChangePassword };
}

export async function action({ request, context }: Route.ActionArgs) {
  const user = await requireUser(request);
  const form = await request.formData();
  const parsed = changePasswordSchema.safeParse({
    currentPassword: form.get("currentPassword") ?? "",
    newPassword: form.get("newPassword") ?? "",
    confirmPassword: form.get("confirmPassword") ?? "",
  });
  if (!parsed.success) return data({ errors: fieldErrorsOf(parsed.error) }, { status: 400 });
  try {
    await changePassword(user.id, parsed.data.currentPassword, parsed.data.newPassword);
  } catch (error) {
    if (error instanceof TooManyAttemptsError) {
      return data(
        { errors: { form: [error.message] } as Record<string, string[]> },
        { status: 429, headers: { "Retry-After": String(error.retryAfterSeconds) } },
      );
    }
    if (error instanceof AccountError) return data({ errors: error.fieldErrors }, { status: error.status });
    throw error;
  }
  // Every session was revoked with the old password; this browser gets a fresh one.
  const cookie = await createSession(user.id, {
    ip: context.get(clientIpContext),
    userAgent: request.headers.get("user-agent") ?? undefined,
  });
  const to = safeRedirectPath(form.get("redirectTo"));
  throw redirect(to === "/settings/password" ? "/settings" : to, { headers: { "Set-Cookie": cookie } });
}

export default function ChangePassword({ loaderData, actionData }: Route.ComponentProps) {
  const navigation = useNavigation();
  const [searchParams] = useSearchParams();
  const errors = actionData?.errors;
  return (
    <div className="mx-auto flex max-w-sm flex-col gap-4">
      <SettingsNav />
      <h1 className="text-2xl font-semibold">
        {loaderData.mustChangePassword ? "Choose your password" : "Change password"}
      </h1>
      {loaderData.mustChangePassword ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="must-change">
          Your account was created with a one-time password. Choose your own to continue.
        </p>
      ) : (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">This signs you out on every other device.</p>
      )}
      <Form method="post" className="flex flex-col gap-4" noValidate>
        <input type="hidden" name="redirectTo" value={searchParams.get("redirectTo") ?? "/"} />
        <FormError errors={errors?.form} />
        <Field
          label={loaderData.mustChangePassword ? "One-time password" : "Current password"}
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          required
          errors={errors?.currentPassword}
        />
        <Field
          label="New password"
          name="newPassword"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          errors={errors?.newPassword}
        />
        <Field
          label="New password again"
          name="confirmPassword"
          type="password"
          autoComplete="new-password"
          required
          errors={errors?.confirmPassword}
        />
        <SubmitButton pending={navigation.state === "submitting"}>Save password</SubmitButton>
      </Form>
    </div>
  );
}
