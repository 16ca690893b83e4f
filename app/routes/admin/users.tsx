import { data, Form, Link, useFetcher, useNavigation } from "react-router";
import {
  linkClass,
  Notice,
  StatusBadge,
  smallButton,
  UserActionButtons,
  type UserActionData,
  when,
} from "~/components/admin-users";
import { Field, FormError, SubmitButton } from "~/components/form";
import { userListQuerySchema } from "~/lib/admin-user-schemas";
import { requireAdminAction, requireAdminPage } from "~/server/admin/guard.server";
import { signupAllowed } from "~/server/admin/signup-setting.server";
import { runUserAction } from "~/server/admin/user-actions.server";
import { listUsers } from "~/server/admin/users.server";
import { env } from "~/server/env.server";
import type { Route } from "./+types/users";

export const meta: Route.MetaFunction = () => [{ title: "Users · Admin · CustomChatAI" }];

export async function loader({ request }: Route.LoaderArgs) {
  const admin = await requireAdminPage(request);
  const url = new URL(request.url);
  const { q, page } = userListQuerySchema.parse({
    q: url.searchParams.get("q") ?? "",
    page: url.searchParams.get("page") ?? "1",
  });
  const [list, allowSignup] = await Promise.all([listUsers({ query: q, page }), signupAllowed()]);
  return {
    selfId: admin.id,
    q,
    ...list,
    allowSignup,
    signupDefault: env().ALLOW_SIGNUP,
    deleted: url.searchParams.get("deleted")?.slice(0, 254) ?? null,
  };
}

export async function action({ request }: Route.ActionArgs) {
  const admin = await requireAdminAction(request);
  const { status, result } = await runUserAction(admin, await request.formData());
  return data(result, { status });
}

function pageLink(q: string, page: number) {
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (page > 1) params.set("page", String(page));
  const query = params.toString();
  return query ? `/admin/users?${query}` : "/admin/users";
}

export default function AdminUsers({ loaderData, actionData }: Route.ComponentProps) {
  const { users, total, page, pages, q, selfId, allowSignup, deleted } = loaderData;
  const navigation = useNavigation();
  const result = actionData as UserActionData | undefined;
  // Without JavaScript every action answers here; the create form shows its own errors. With
  // JavaScript the row buttons' fetchers show theirs in the row.
  const pageErrors = result && result.intent !== "create" ? result.errors : null;
  const createErrors = result?.intent === "create" ? result.errors : null;

  return (
    <div className="flex flex-col gap-8">
      <div className="flex flex-col gap-3">
        <h1 className="text-2xl font-semibold">Users</h1>
        <Form method="get" className="flex flex-wrap items-end gap-2" role="search">
          <label className="flex flex-col gap-1 text-sm font-medium">
            Search by email
            <input
              type="search"
              name="q"
              defaultValue={q}
              maxLength={254}
              placeholder="name@example.com"
              className="w-72 max-w-full rounded border border-zinc-300 bg-white px-3 py-2 font-normal text-zinc-900 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
            />
          </label>
          <button
            type="submit"
            className="rounded border border-zinc-300 px-4 py-2 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
          >
            Search
          </button>
          {q ? (
            <Link to="/admin/users" className={`${linkClass} py-2 text-sm`}>
              Show everyone
            </Link>
          ) : null}
        </Form>
      </div>

      {deleted ? <Notice>{deleted} and everything they owned were deleted.</Notice> : null}
      {result?.notice ? <Notice>{result.notice}</Notice> : null}
      <FormError
        errors={pageErrors ? Object.values(pageErrors).flatMap((errors) => errors ?? []) : undefined}
      />
      {result?.created ? <CreatedUser created={result.created} /> : null}

      <section className="flex flex-col gap-2">
        <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="user-count">
          {total === 0
            ? q
              ? `No user's email contains “${q}”.`
              : "No users."
            : `${total} user${total === 1 ? "" : "s"}${q ? ` with “${q}” in their email` : ""} · page ${page} of ${pages}`}
        </p>
        {users.length ? (
          <div className="overflow-x-auto rounded border border-zinc-200 dark:border-zinc-800">
            <table className="w-full text-left text-sm" data-testid="users-table">
              <thead className="bg-zinc-50 text-zinc-500 dark:text-zinc-400 dark:bg-zinc-900">
                <tr>
                  <th className="px-3 py-2">Email / name</th>
                  <th className="px-3 py-2">Role · status</th>
                  <th className="px-3 py-2">Created</th>
                  <th className="px-3 py-2">Last seen (UTC)</th>
                  <th className="px-3 py-2">Sign-in</th>
                  <th className="px-3 py-2 text-right">Chats</th>
                  <th className="px-3 py-2 text-right">Tokens (month)</th>
                  <th className="px-3 py-2">Actions</th>
                </tr>
              </thead>
              <tbody>
                {users.map((user) => (
                  <tr
                    key={user.id}
                    className="border-t border-zinc-200 align-top dark:border-zinc-800"
                    data-testid="user-row"
                    data-email={user.email}
                  >
                    <td className="min-w-48 px-3 py-2">
                      <Link to={`/admin/users/${user.id}`} className={`${linkClass} break-all`}>
                        {user.email}
                      </Link>
                      <div className="text-zinc-500 dark:text-zinc-400">{user.name ?? "—"}</div>
                    </td>
                    <td className="min-w-28 px-3 py-2">
                      <StatusBadge role={user.role} disabled={user.disabled} />
                      {user.mustChangePassword ? (
                        <div className="mt-1 text-xs text-amber-700 dark:text-amber-300">
                          one-time password
                        </div>
                      ) : null}
                    </td>
                    <td className="whitespace-nowrap px-3 py-2" title={when(user.createdAt) ?? undefined}>
                      {when(user.createdAt)?.slice(0, 10)}
                    </td>
                    <td className="whitespace-nowrap px-3 py-2">
                      {when(user.lastSeenAt)?.replace(" UTC", "") ?? "never"}
                    </td>
                    <td className="px-3 py-2" data-testid="sign-in-methods">
                      {user.signInMethods.join(", ") || "none"}
                    </td>
                    <td className="px-3 py-2 text-right tabular-nums">{user.chats.toLocaleString("en")}</td>
                    <td className="px-3 py-2 text-right tabular-nums" data-testid="tokens-month">
                      {user.tokensThisMonth.toLocaleString("en")}
                    </td>
                    <td className="px-3 py-2">
                      <div className="flex flex-col gap-1">
                        <UserActionButtons user={user} self={user.id === selfId} />
                        <Link to={`/admin/users/${user.id}`} className={`${linkClass} text-xs`}>
                          Limits, delete…
                        </Link>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {pages > 1 ? (
          <nav aria-label="Pages" className="flex items-center gap-3 text-sm">
            {page > 1 ? (
              <Link to={pageLink(q, page - 1)} className={linkClass} rel="prev">
                ← Previous
              </Link>
            ) : (
              <span className="text-zinc-500 dark:text-zinc-400">← Previous</span>
            )}
            <span>
              Page {page} of {pages}
            </span>
            {page < pages ? (
              <Link to={pageLink(q, page + 1)} className={linkClass} rel="next">
                Next →
              </Link>
            ) : (
              <span className="text-zinc-500 dark:text-zinc-400">Next →</span>
            )}
          </nav>
        ) : null}
      </section>

      <div className="grid gap-8 md:grid-cols-2">
        <section className="flex flex-col gap-3">
          <h2 className="text-lg font-semibold">Create a user</h2>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            They get a one-time password, shown once here, and choose their own at first sign-in.
          </p>
          <Form method="post" className="flex flex-col gap-3" noValidate>
            <input type="hidden" name="intent" value="create" />
            <Field
              label="Email"
              name="email"
              type="email"
              required
              maxLength={254}
              errors={createErrors?.email}
            />
            <Field label="Name (optional)" name="name" maxLength={100} errors={createErrors?.name} />
            <FormError errors={createErrors?.form} />
            <div>
              <SubmitButton pending={navigation.state === "submitting"}>Create user</SubmitButton>
            </div>
          </Form>
        </section>
        <SignupSwitch allowSignup={allowSignup} signupDefault={loaderData.signupDefault} />
      </div>
    </div>
  );
}

function CreatedUser({ created }: { created: { email: string; password: string } }) {
  return (
    <section
      className="flex flex-col gap-2 rounded border border-emerald-300 bg-emerald-50 p-4 dark:border-emerald-900 dark:bg-emerald-950"
      data-testid="created-user"
    >
      <h2 className="font-semibold">Account created for {created.email}</h2>
      <p className="text-sm">
        Hand this one-time password over now: it is shown only once. They must choose a new password when they
        first sign in.
      </p>
      <input
        readOnly
        aria-label="One-time password"
        value={created.password}
        data-testid="one-time-password"
        className="w-full max-w-sm rounded border border-zinc-300 bg-white px-2 py-1 font-mono text-sm text-zinc-900 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
        onFocus={(event) => event.currentTarget.select()}
      />
    </section>
  );
}

function SignupSwitch({ allowSignup, signupDefault }: { allowSignup: boolean; signupDefault: boolean }) {
  const fetcher = useFetcher<UserActionData>();
  // Shown as already switched while the request is on its way.
  const shown = fetcher.formData ? fetcher.formData.get("allowSignup") === "true" : allowSignup;
  return (
    <section className="flex flex-col gap-3">
      <h2 className="text-lg font-semibold">Sign-up</h2>
      <p className="text-sm" data-testid="signup-state">
        {shown
          ? "Open: anyone can create an account with a password or OAuth."
          : "Closed: only administrators can create accounts."}
      </p>
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        The very first account can always be created. Until switched here, ALLOW_SIGNUP decides (now{" "}
        {signupDefault ? "on" : "off"}).
      </p>
      <fetcher.Form method="post">
        <input type="hidden" name="intent" value="signup" />
        <input type="hidden" name="allowSignup" value={shown ? "false" : "true"} />
        <button type="submit" className={smallButton} disabled={fetcher.state !== "idle"}>
          {shown ? "Close sign-up" : "Open sign-up"}
        </button>
      </fetcher.Form>
    </section>
  );
}
