import {
  isRouteErrorResponse,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useFetchers,
  useRouteLoaderData,
} from "react-router";
import type { Route } from "./+types/root";
import "./app.css";
import { AppHeader } from "./components/app-header";
import { useNonce } from "./components/nonce";
import { isTheme, type Theme } from "./lib/theme";
import { getUser, requirePasswordChosen } from "./server/auth.server";
import { boot } from "./server/boot.server";
import { guardRequest } from "./server/http/request-guard.server";
import { clientIpContext, runInRequestScope } from "./server/request-context.server";
import { getTheme } from "./server/theme.server";

// A resolved promise after start-up; in `react-router dev` (no server.ts) it performs the boot.
export const middleware: Route.MiddlewareFunction[] = [
  async (_args, next) => {
    await boot();
    return next();
  },
  async ({ request }, next) => {
    await guardRequest(request);
    return next();
  },
  ({ context }, next) => runInRequestScope(context.get(clientIpContext), next),
];

export async function loader({ request }: Route.LoaderArgs) {
  const [user, theme] = await Promise.all([getUser(request), getTheme(request)]);
  // Pages that only look at the user (the start page) must not skip choosing a password either.
  if (user) requirePasswordChosen(user, request);
  return { user, theme };
}

export const meta: Route.MetaFunction = () => [{ title: "CustomChatAI" }];

export const links: Route.LinksFunction = () => [
  { rel: "icon", href: "/favicon.svg", type: "image/svg+xml" },
  { rel: "manifest", href: "/manifest.webmanifest" },
];

/** The theme to render: the one being submitted right now (optimistic), else the cookie's. */
function useTheme(): Theme {
  const data = useRouteLoaderData<typeof loader>("root");
  const pending = useFetchers()
    .find((fetcher) => fetcher.formAction === "/theme")
    ?.formData?.get("theme");
  return isTheme(pending) ? pending : (data?.theme ?? "system");
}

export function Layout({ children }: { children: React.ReactNode }) {
  const theme = useTheme();
  const nonce = useNonce();
  return (
    <html lang="en" data-theme={theme}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body className="min-h-screen">
        {children}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App({ loaderData }: Route.ComponentProps) {
  return (
    <>
      <AppHeader user={loaderData.user} theme={loaderData.theme} />
      <main className="mx-auto max-w-5xl px-4 py-8">
        <Outlet />
      </main>
    </>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  let title = "Something went wrong";
  let detail = "An unexpected error occurred. Try again in a moment.";
  if (isRouteErrorResponse(error)) {
    title =
      error.status === 404
        ? "Page not found"
        : error.status === 403
          ? "Not allowed"
          : `Error ${error.status}`;
    detail = typeof error.data === "string" && error.data ? error.data : error.statusText || detail;
  }
  return (
    <main className="mx-auto max-w-xl px-4 py-16">
      <h1 className="mb-4 text-2xl font-semibold">{title}</h1>
      <p className="text-zinc-600 dark:text-zinc-400">{detail}</p>
      <a href="/" className="mt-6 inline-block text-indigo-600 underline dark:text-indigo-400">
        Back to the start page
      </a>
    </main>
  );
}
