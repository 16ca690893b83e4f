import { data, Form, Link, useNavigation } from "react-router";
import {
  linkClass,
  Notice,
  StatusBadge,
  UserActionButtons,
  type UserActionData,
  when,
} from "~/components/admin-users";
import { Field, FormError } from "~/components/form";
import { requireAdminAction, requireAdminPage } from "~/server/admin/guard.server";
import { runUserAction } from "~/server/admin/user-actions.server";
import { userDetails } from "~/server/admin/users.server";
import { env } from "~/server/env.server";
import type { Route } from "./+types/user";

export const meta: Route.MetaFunction = ({ loaderData }) => [
  { title: `${loaderData?.user.email ?? "User"} · Admin · CustomChatAI` },
];

export async function loader({ request, params }: Route.LoaderArgs) {
  const admin = await requireAdminPage(request);
  // Ids are checked by the lookup itself: anything that is not a user is a 404.
  const details = await userDetails(params.userId.slice(0, 100));
  if (!details) throw new Response("There is no such user.", { status: 404 });
  const { RATE_LIMIT_REQUESTS, RATE_LIMIT_WINDOW } = env();
  return {
    ...details,
    self: details.user.id === admin.id,
    defaults: { requests: RATE_LIMIT_REQUESTS, windowSeconds: Math.ceil(RATE_LIMIT_WINDOW / 1000) },
  };
}

export async function action({ request, params }: Route.ActionArgs) {
  const admin = await requireAdminAction(request);
  const form = await request.formData();
  // The page's own user, whatever the form says.
  form.set("userId", params.userId);
  const { status, result } = await runUserAction(admin, form);
  return data(result, { status });
}

const plural = (count: number, word: string) =>
  `${count.toLocaleString("en")} ${word}${count === 1 ? "" : "s"}`;

export default function AdminUser({ loaderData, actionData }: Route.ComponentProps) {
  const { user, owned, self, defaults } = loaderData;
  const result = actionData as UserActionData | undefined;
  const navigation = useNavigation();
  const busy = navigation.state === "submitting";
  const limitErrors = result?.intent === "limits" ? result.errors : null;
  const deleteErrors = result?.intent === "delete" ? result.errors : null;
  // Limits and delete show their errors in their own forms (delete has none for yourself).
  const ownForm = result?.intent === "limits" || (result?.intent === "delete" && !self);
  const pageErrors = result && !ownForm ? result.errors : null;

  return (
    <div className="flex max-w-3xl flex-col gap-8">
      <div className="flex flex-col gap-1">
        <Link to="/admin/users" className={`${linkClass} text-sm`}>
          ← All users
        </Link>
        <h1 className="text-2xl font-semibold break-all" data-testid="user-email">
          {user.email}
        </h1>
        <StatusBadge role={user.role} disabled={user.disabled} />
      </div>

      {result?.notice ? <Notice>{result.notice}</Notice> : null}
      <FormError
        errors={pageErrors ? Object.values(pageErrors).flatMap((errors) => errors ?? []) : undefined}
      />

      <dl className="grid grid-cols-[10rem_1fr] gap-y-2 text-sm">
        <dt className="text-zinc-500 dark:text-zinc-400">Name</dt>
        <dd>{user.name ?? "—"}</dd>
        <dt className="text-zinc-500 dark:text-zinc-400">Created</dt>
        <dd>{when(user.createdAt)}</dd>
        <dt className="text-zinc-500 dark:text-zinc-400">Last seen</dt>
        <dd>{when(user.lastSeenAt) ?? "never"}</dd>
        <dt className="text-zinc-500 dark:text-zinc-400">Sign-in methods</dt>
        <dd>
          {user.signInMethods.join(", ") || "none"}
          {user.mustChangePassword ? " (one-time password not changed yet)" : ""}
        </dd>
        <dt className="text-zinc-500 dark:text-zinc-400">Tokens this month</dt>
        <dd>{user.tokensThisMonth.toLocaleString("en")}</dd>
        <dt className="text-zinc-500 dark:text-zinc-400">Owns</dt>
        <dd data-testid="owned">
          {plural(owned.chats, "chat")}, {plural(owned.messages, "message")},{" "}
          {plural(owned.apiKeys, "API key")}, {plural(owned.usageRows, "usage row")}
        </dd>
      </dl>

      <section className="flex flex-col gap-3">
        <h2 className="text-lg font-semibold">Role and access</h2>
        {self ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            This is you: you cannot demote, disable or delete yourself.
          </p>
        ) : (
          <UserActionButtons user={user} self={false} />
        )}
      </section>

      <section className="flex flex-col gap-3">
        <h2 className="text-lg font-semibold">API rate limit</h2>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          Requests per {defaults.windowSeconds} s across all of this user's keys (and each key's default).
          Blank uses the default of {defaults.requests}; a key's own override still applies to that key.
        </p>
        <Form method="post" className="flex flex-wrap items-end gap-3">
          <input type="hidden" name="intent" value="limits" />
          <Field
            label="Requests per window"
            name="rateLimitRequests"
            type="number"
            min={1}
            max={1_000_000}
            defaultValue={user.rateLimitRequests ?? ""}
            errors={limitErrors?.rateLimitRequests}
          />
          <button
            type="submit"
            disabled={busy}
            className="rounded bg-indigo-600 px-3 py-2 text-white disabled:opacity-60"
          >
            Save limit
          </button>
        </Form>
        <FormError errors={limitErrors?.form} />
      </section>

      {self ? null : (
        <section
          className="flex flex-col gap-3 rounded border border-red-300 p-4 wrap-anywhere dark:border-red-900"
          aria-labelledby="delete-heading"
        >
          <h2 id="delete-heading" className="text-lg font-semibold text-red-700 dark:text-red-300">
            Delete this user
          </h2>
          <p className="text-sm" data-testid="delete-summary">
            This deletes {user.email} for good, with {plural(owned.chats, "chat")},{" "}
            {plural(owned.messages, "message")}, {plural(owned.apiKeys, "API key")} and{" "}
            {plural(owned.usageRows, "usage row")}. It cannot be undone.
          </p>
          <Form method="post" className="flex max-w-md flex-col gap-3" noValidate>
            <input type="hidden" name="intent" value="delete" />
            <Field
              label={`Type ${user.email} to confirm`}
              name="confirmEmail"
              autoComplete="off"
              errors={deleteErrors?.confirmEmail}
            />
            <button
              type="submit"
              disabled={busy}
              className="self-start rounded bg-red-600 px-3 py-2 font-medium text-white hover:bg-red-500 disabled:opacity-60"
            >
              Delete user and their data
            </button>
          </Form>
          <FormError errors={deleteErrors?.form} />
        </section>
      )}
    </div>
  );
}
