import { data, redirect } from "react-router";
import { isTheme } from "~/lib/theme";
import { safeRedirectPath } from "~/server/auth.server";
import { serializeTheme } from "~/server/theme.server";
import type { Route } from "./+types/theme";

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData();
  const theme = form.get("theme");
  if (!isTheme(theme)) return data({ error: "Choose light, dark or system." }, { status: 400 });
  const headers = { "Set-Cookie": await serializeTheme(theme) };
  // A fetcher submission (JavaScript) stays on the page; a plain form post goes back where it came from.
  if (request.headers.get("accept")?.includes("text/html")) {
    throw redirect(safeRedirectPath(form.get("redirectTo")), { headers });
  }
  return data({ theme }, { headers });
}

export function loader() {
  throw redirect("/");
}
