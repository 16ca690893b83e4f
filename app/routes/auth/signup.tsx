import { data, Form, Link, redirect, useNavigation, useSearchParams } from "react-router";
import { Field, FormError, SubmitButton } from "~/components/form";
import { OAuthButtons } from "~/components/oauth-buttons";
import { fieldErrorsOf, signupSchema } from "~/lib/account-schemas";
import { signupOpen } from "~/server/admin/signup-setting.server";
import {
  FormError as AccountError,
  createUserWithPassword,
  requireAnonymous,
  reserveSignup,
  safeRedirectPath,
  TooManySignupsError,
} from "~/server/auth.server";
import { enabledOAuthProviders } from "~/server/oauth.server";
import { clientIpContext } from "~/server/request-context.server";
import { createSession } from "~/server/session.server";
import type { Route } from "./+types/signup";

export const meta: Route.MetaFunction = () => [{ title: "Sign up · CustomChatAI" }];

// A document answer (no JavaScript) keeps the action's Retry-After on the 429.
export const headers: Route.HeadersFunction = ({ actionHeaders }) => {
  const retryAfter = actionHeaders.get("Retry-After");
  return retryAfter ? { "Retry-After": retryAfter } : new Headers();
};

export async function loader({ request }: Route.LoaderArgs) {
  await requireAnonymous(request);
  const open = await signupOpen();
  // Closed: say so with a 403 and offer no form (the action refuses anyway, inside the signup lock).
  return data({ providers: enabledOAuthProviders(), open }, { status: open ? 200 : 403 });
}

export async function action({ request, context }: Route.ActionArgs) {
  await requireAnonymous(request);
  const form = await request.formData();
  const values = { email: String(form.get("email") ?? ""), name: String(form.get("name") ?? "") };
  const parsed = signupSchema.safeParse({
    email: form.get("email") ?? undefined,
    name: form.get("name") || undefined,
    password: form.get("password") ?? undefined,
  });
  if (!parsed.success) return data({ fieldErrors: fieldErrorsOf(parsed.error), values }, { status: 400 });
  try {
    await reserveSignup(context.get(clientIpContext));
    const user = await createUserWithPassword(parsed.data);
    const cookie = await createSession(user.id, {
      ip: context.get(clientIpContext),
      userAgent: request.headers.get("user-agent") ?? undefined,
    });
    throw redirect(safeRedirectPath(form.get("redirectTo")), { headers: { "Set-Cookie": cookie } });
  } catch (error) {
    if (error instanceof TooManySignupsError) {
      return data(
        { fieldErrors: { form: [error.message] } as Record<string, string[]>, values },
        { status: 429, headers: { "Retry-After": String(error.retryAfterSeconds) } },
      );
    }
    if (error instanceof AccountError)
      return data({ fieldErrors: error.fieldErrors, values }, { status: error.status });
    throw error;
  }
}

export default function Signup({ loaderData, actionData }: Route.ComponentProps) {
  const navigation = useNavigation();
  const [searchParams] = useSearchParams();
  const redirectTo = searchParams.get("redirectTo") ?? "/";
  const errors = actionData?.fieldErrors;
  if (!loaderData.open) {
    return (
      <div className="mx-auto max-w-sm">
        <h1 className="mb-6 text-2xl font-semibold">Sign-up is closed</h1>
        <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="signup-closed">
          New accounts on this instance are created by an administrator. If you have one,{" "}
          <Link to="/login" className="text-indigo-600 underline dark:text-indigo-400">
            log in
          </Link>
          .
        </p>
      </div>
    );
  }
  return (
    <div className="mx-auto max-w-sm">
      <h1 className="mb-6 text-2xl font-semibold">Create your account</h1>
      <Form method="post" className="flex flex-col gap-4" noValidate>
        <input type="hidden" name="redirectTo" value={redirectTo} />
        <FormError errors={errors?.form} />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          defaultValue={actionData?.values.email}
          errors={errors?.email}
        />
        <Field
          label="Name (optional)"
          name="name"
          autoComplete="name"
          defaultValue={actionData?.values.name}
          errors={errors?.name}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          errors={errors?.password}
        />
        <SubmitButton pending={navigation.state === "submitting"}>Sign up</SubmitButton>
      </Form>
      <OAuthButtons providers={loaderData.providers} redirectTo={redirectTo} />
      <p className="mt-6 text-sm text-zinc-600 dark:text-zinc-400">
        Already have an account?{" "}
        <Link to="/login" className="text-indigo-600 underline dark:text-indigo-400">
          Log in
        </Link>
      </p>
    </div>
  );
}
