import { redirect } from "react-router";
import { destroySession } from "~/server/session.server";
import type { Route } from "./+types/logout";

export async function action({ request }: Route.ActionArgs) {
  throw redirect("/login", { headers: { "Set-Cookie": await destroySession(request) } });
}

// Logging out changes state, so it is POST only; a stray GET just goes home.
export function loader() {
  throw redirect("/");
}
