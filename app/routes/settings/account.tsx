import { Form, Link, redirect, useNavigation } from "react-router";
import { SubmitButton } from "~/components/form";
import { SettingsNav } from "~/components/settings-nav";
import { requireUser } from "~/server/auth.server";
import { destroySession, revokeAllSessions } from "~/server/session.server";
import type { Route } from "./+types/account";

export const meta: Route.MetaFunction = () => [{ title: "Account · CustomChatAI" }];

export async function loader({ request }: Route.LoaderArgs) {
  const user = await requireUser(request);
  return { user };
}

export async function action({ request }: Route.ActionArgs) {
  const user = await requireUser(request);
  const form = await request.formData();
  if (form.get("intent") !== "sign-out-everywhere") throw new Response("Unknown action.", { status: 400 });
  await revokeAllSessions(user.id);
  throw redirect("/login", { headers: { "Set-Cookie": await destroySession(request) } });
}

export default function AccountSettings({ loaderData }: Route.ComponentProps) {
  const { user } = loaderData;
  const navigation = useNavigation();
  return (
    <div className="flex max-w-xl flex-col gap-8">
      <section>
        <SettingsNav />
        <h1 className="mb-4 text-2xl font-semibold">Account</h1>
        <dl className="grid grid-cols-[8rem_1fr] gap-y-2 text-sm">
          <dt className="text-zinc-500 dark:text-zinc-400">Email</dt>
          <dd className="min-w-0 break-all" data-testid="account-email">
            {user.email}
          </dd>
          <dt className="text-zinc-500 dark:text-zinc-400">Name</dt>
          <dd>{user.name ?? "—"}</dd>
          <dt className="text-zinc-500 dark:text-zinc-400">Role</dt>
          <dd data-testid="account-role">{user.role === "ADMIN" ? "Administrator" : "User"}</dd>
        </dl>
      </section>
      <p>
        <Link to="/settings/chat" className="text-indigo-600 underline dark:text-indigo-400">
          Chat settings
        </Link>{" "}
        (default system prompt{user.role === "ADMIN" ? ", default model" : ""}) ·{" "}
        <Link to="/settings/keys" className="text-indigo-600 underline dark:text-indigo-400">
          API keys
        </Link>{" "}
        ·{" "}
        <Link to="/settings/usage" className="text-indigo-600 underline dark:text-indigo-400">
          API usage
        </Link>{" "}
        ·{" "}
        <Link to="/settings/password" className="text-indigo-600 underline dark:text-indigo-400">
          Change password
        </Link>
      </p>
      <section>
        <h2 className="mb-2 text-lg font-semibold">Your chats</h2>
        <p className="mb-4 text-sm text-zinc-600 dark:text-zinc-400">
          Download every chat with all its messages.
        </p>
        <ul className="flex gap-4 text-sm" data-testid="export-links">
          {(
            [
              ["json", "JSON"],
              ["csv", "CSV"],
              ["md", "Markdown"],
            ] as const
          ).map(([format, label]) => (
            <li key={format}>
              {/* A plain link: the export is a file download, not a page. */}
              <a
                href={`/chat/export?format=${format}`}
                download
                className="text-indigo-600 underline dark:text-indigo-400"
              >
                {label}
              </a>
            </li>
          ))}
        </ul>
      </section>
      <section>
        <h2 className="mb-2 text-lg font-semibold">Sessions</h2>
        <p className="mb-4 text-sm text-zinc-600 dark:text-zinc-400">
          Signs you out on every device and browser, including this one.
        </p>
        <Form method="post">
          <input type="hidden" name="intent" value="sign-out-everywhere" />
          <SubmitButton pending={navigation.state === "submitting"}>Sign out everywhere</SubmitButton>
        </Form>
      </section>
    </div>
  );
}
