import { Form, Link, NavLink, useLocation } from "react-router";
import type { Theme } from "~/lib/theme";
import { useCloseOnNavigation } from "./disclosure";
import { ThemeSwitch } from "./theme-switch";

interface HeaderUser {
  email: string;
  name: string | null;
  role: "ADMIN" | "USER";
}

/** The header's height, and the height of what fills the rest of the screen under it (the chat). */
const HEADER_HEIGHT_CLASS = "h-14";
export const BELOW_HEADER_HEIGHT_CLASS = "h-[calc(100dvh-3.5rem)]";

const linkClass = ({ isActive }: { isActive: boolean }) =>
  `rounded px-2 py-1.5 hover:bg-zinc-100 dark:hover:bg-zinc-800 ${isActive ? "font-semibold" : ""}`;

/**
 * One row at every width. Below 1024 px (phones, tablets) the links fold behind a Menu button: a <details> placed before
 * the links, whose open state shows them (CSS `peer-open`), so it works without JavaScript and the
 * links exist once in the page.
 */
export function AppHeader({ user, theme }: { user: HeaderUser | null; theme: Theme }) {
  const location = useLocation();
  const menu = useCloseOnNavigation<HTMLDetailsElement>();
  return (
    <header
      className={`${HEADER_HEIGHT_CLASS} relative z-30 border-b border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-950`}
    >
      <nav className="flex h-full items-center gap-2 px-4 text-sm" aria-label="Main">
        <Link to="/" className="mr-auto shrink-0 text-base font-semibold">
          CustomChatAI
        </Link>
        {user ? (
          <>
            <details ref={menu} className="peer lg:hidden">
              <summary
                className="cursor-pointer list-none rounded border border-zinc-300 px-3 py-1.5 dark:border-zinc-700 [&::-webkit-details-marker]:hidden"
                aria-label="Menu"
              >
                Menu
              </summary>
            </details>
            <div
              className="absolute inset-x-0 top-full hidden flex-col gap-1 border-b border-zinc-200 bg-white p-3 shadow-lg peer-open:flex lg:static lg:flex lg:flex-row lg:items-center lg:gap-1 lg:border-0 lg:bg-transparent lg:p-0 lg:shadow-none dark:border-zinc-800 dark:bg-zinc-950 lg:dark:bg-transparent"
              data-testid="main-links"
            >
              <NavLink to="/chat" className={linkClass} end={false}>
                Chats
              </NavLink>
              <NavLink to="/search" className={linkClass}>
                Search
              </NavLink>
              <NavLink to="/docs/api" className={linkClass}>
                API
              </NavLink>
              {user.role === "ADMIN" ? (
                <NavLink to="/admin" className={linkClass} data-testid="admin-link">
                  Admin
                </NavLink>
              ) : null}
              <ThemeSwitch current={theme} redirectTo={location.pathname + location.search} />
              <NavLink
                to="/settings"
                className={(state) => `flex min-w-0 items-center ${linkClass(state)}`}
                data-testid="account-link"
              >
                {/* A long address is cut with an ellipsis rather than widening the page on a phone. */}
                <span className="max-w-[16rem] truncate lg:max-w-[12rem] xl:max-w-[16rem]" title={user.email}>
                  {user.name || user.email}
                </span>
                {user.role === "ADMIN" ? (
                  <span className="ml-1 rounded bg-indigo-100 px-1 text-xs text-indigo-800 dark:bg-indigo-900 dark:text-indigo-100">
                    admin
                  </span>
                ) : null}
              </NavLink>
              <Form method="post" action="/logout">
                <button
                  type="submit"
                  className="w-full rounded px-2 py-1.5 text-left whitespace-nowrap hover:bg-zinc-100 dark:hover:bg-zinc-800"
                >
                  Log out
                </button>
              </Form>
            </div>
          </>
        ) : (
          <>
            {/* Hidden on phones, where the row has room for the two links only. */}
            <div className="hidden sm:block">
              <ThemeSwitch current={theme} redirectTo={location.pathname + location.search} />
            </div>
            <Link to="/login" className="rounded px-2 py-1.5 hover:underline">
              Log in
            </Link>
            <Link
              to="/signup"
              className="shrink-0 rounded bg-indigo-600 px-3 py-1.5 font-medium text-white hover:bg-indigo-500"
            >
              Sign up
            </Link>
          </>
        )}
      </nav>
    </header>
  );
}
