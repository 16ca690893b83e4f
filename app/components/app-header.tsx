import { Form, Link, useLocation } from "react-router";
import type { Theme } from "~/lib/theme";
import { ThemeSwitch } from "./theme-switch";

interface HeaderUser {
  email: string;
  name: string | null;
  role: "ADMIN" | "USER";
}

export function AppHeader({ user, theme }: { user: HeaderUser | null; theme: Theme }) {
  const location = useLocation();
  return (
    <header className="border-b border-zinc-200 dark:border-zinc-800">
      <nav
        className="mx-auto flex max-w-5xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3 text-sm"
        aria-label="Main"
      >
        <Link to="/" className="mr-auto text-base font-semibold">
          CustomChatAI
        </Link>
        <ThemeSwitch current={theme} redirectTo={location.pathname + location.search} />
        {user ? (
          <>
            <Link to="/chat" className="hover:underline">
              Chats
            </Link>
            <Link to="/search" className="hover:underline">
              Search
            </Link>
            <Link to="/docs/api" className="hover:underline">
              API
            </Link>
            {user.role === "ADMIN" ? (
              <Link to="/admin" className="hover:underline" data-testid="admin-link">
                Admin
              </Link>
            ) : null}
            <Link
              to="/settings"
              className="flex min-w-0 items-center hover:underline"
              data-testid="account-link"
            >
              {/* A long address is cut with an ellipsis rather than widening the page on a phone. */}
              <span className="max-w-[11rem] truncate sm:max-w-[16rem]" title={user.email}>
                {user.name || user.email}
              </span>
              {user.role === "ADMIN" ? (
                <span className="ml-1 rounded bg-indigo-100 px-1 text-xs text-indigo-800 dark:bg-indigo-900 dark:text-indigo-100">
                  admin
                </span>
              ) : null}
            </Link>
            <Form method="post" action="/logout">
              <button type="submit" className="hover:underline">
                Log out
              </button>
            </Form>
          </>
        ) : (
          <>
            <Link to="/login" className="hover:underline">
              Log in
            </Link>
            <Link
              to="/signup"
              className="rounded bg-indigo-600 px-3 py-1.5 font-medium text-white hover:bg-indigo-500"
            >
              Sign up
            </Link>
          </>
        )}
      </nav>
    </header>
  );
}
