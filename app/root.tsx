import {
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useFetchers,
  useMatches,
  useRouteLoaderData,
} from "react-router";
import type { Route } from "./+types/root";
import "./app.css";
import { AppHeader } from "./components/app-header";
import { ErrorPage } from "./components/error-page";
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
      <body className="min-h-dvh">
        {children}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

/** Routes whose `handle` says `{ fullScreen: true }` (the chat) fill the screen under the header. */
function useFullScreen() {
  return useMatches().some((match) => (match.handle as { fullScreen?: boolean } | undefined)?.fullScreen);
}

export default function App({ loaderData }: Route.ComponentProps) {
  const fullScreen = useFullScreen();
  return (
    <>
      <AppHeader user={loaderData.user} theme={loaderData.theme} />
      {fullScreen ? (
        <Outlet />
      ) : (
        <main className="mx-auto max-w-5xl px-4 py-8">
          <Outlet />
        </main>
      )}
    </>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  const data = useRouteLoaderData<typeof loader>("root");
  return (
    <>
      {data ? <AppHeader user={data.user} theme={data.theme} /> : null}
      <main>
        <ErrorPage error={error} />
      </main>
    </>
  );
}
