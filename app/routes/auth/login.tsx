import { data, Form, Link, redirect, useNavigation, useSearchParams } from "react-router";
import { Field, FormError, SubmitButton } from "~/components/form";
import { OAuthButtons } from "~/components/oauth-buttons";
import {
  FormError as AccountError,
  authenticateWithPassword,
  CHANGE_PASSWORD_PATH,
  requireAnonymous,
  safeRedirectPath,
  TooManyAttemptsError,
} from "~/server/auth.server";
import { describeOAuthFailure, enabledOAuthProviders } from "~/server/oauth.server";
import { clientIpContext } from "~/server/request-context.server";
import { createSession } from "~/server/session.server";
import type { Route } from "./+types/login";

export const meta: Route.MetaFunction = () => [{ title: "Log in · CustomChatAI" }];

// Document requests only carry headers a route returns from here, so pass Retry-After on.
export const headers: Route.HeadersFunction = ({ actionHeaders }) => {
  const retryAfter = actionHeaders.get("Retry-After");
  return retryAfter ? { "Retry-After": retryAfter } : new Headers();
};

export async function loader({ request }: Route.LoaderArgs) {
  await requireAnonymous(request);
  // A failed OAuth sign-in lands here as ?error=…&provider=…; the page explains it with its status.
  const url = new URL(request.url);
  const failure = describeOAuthFailure(url.searchParams.get("error"), url.searchParams.get("provider"));
  return data(
    { providers: enabledOAuthProviders(), oauthError: failure?.message },
    { status: failure?.status ?? 200 },
  );
}

export async function action({ request, context }: Route.ActionArgs) {
  await requireAnonymous(request);
  const form = await request.clone().formData();
  const email = String(form.get("email") ?? "");
  const ip = context.get(clientIpContext);
  try {
    const user = await authenticateWithPassword(request, ip);
    const cookie = await createSession(user.id, {
      ip,
      userAgent: request.headers.get("user-agent") ?? undefined,
    });
    const to = safeRedirectPath(form.get("redirectTo"));
    // An account with a one-time password goes straight to choosing its own.
    const target = user.mustChangePassword
      ? `${CHANGE_PASSWORD_PATH}?${new URLSearchParams({ redirectTo: to })}`
      : to;
    throw redirect(target, { headers: { "Set-Cookie": cookie } });
  } catch (error) {
    if (error instanceof TooManyAttemptsError) {
      return data(
        { fieldErrors: { form: [error.message] } as Record<string, string[]>, email },
        { status: 429, headers: { "Retry-After": String(error.retryAfterSeconds) } },
      );
    }
    if (error instanceof AccountError)
      return data({ fieldErrors: error.fieldErrors, email }, { status: error.status });
    throw error;
  }
}

export default function Login({ loaderData, actionData }: Route.ComponentProps) {
  const navigation = useNavigation();
  const [searchParams] = useSearchParams();
  const redirectTo = searchParams.get("redirectTo") ?? "/";
  const errors = actionData?.fieldErrors;
  const formErrors = errors?.form ?? (loaderData.oauthError ? [loaderData.oauthError] : undefined);
  return (
    <div className="mx-auto max-w-sm">
      <h1 className="mb-6 text-2xl font-semibold">Log in</h1>
      <Form method="post" className="flex flex-col gap-4" noValidate>
        <input type="hidden" name="redirectTo" value={redirectTo} />
        <FormError errors={formErrors} />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          defaultValue={actionData?.email}
          errors={errors?.email}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          errors={errors?.password}
        />
        <SubmitButton pending={navigation.state === "submitting"}>Log in</SubmitButton>
      </Form>
      <OAuthButtons providers={loaderData.providers} redirectTo={redirectTo} />
      <p className="mt-6 text-sm text-zinc-600 dark:text-zinc-400">
        New here?{" "}
        <Link to="/signup" className="text-indigo-600 underline dark:text-indigo-400">
          Create an account
        </Link>
      </p>
    </div>
  );
}
