import { redirect } from "react-router";
import { getUser, pageOf, requirePasswordChosen, type SessionUser } from "../auth.server";
import { recordAdminAccessDenied } from "./audit.server";

/**
 * Guards for everything under /admin, called on the first line of every admin loader and action
 * (not only the layout's: a POST or a data request reaches a child route without the layout's
 * loader). The role is read from the database on each request, so a demoted or disabled admin
 * loses access at once on every replica.
 *
 * Pages answer a USER with 404, so the admin area is not even confirmed to exist; actions answer 403.
 * Anonymous visitors are sent to sign in. A signed-in user who is refused is written to the audit log
 * (once per request), with the user as the actor; anonymous visitors are not (no one to name).
 */
export async function requireAdminPage(request: Request): Promise<SessionUser> {
  const user = await signedIn(request);
  if (user.role !== "ADMIN") {
    await recordAdminAccessDenied(user, request);
    throw new Response("There is nothing at this address.", { status: 404 });
  }
  return user;
}

export async function requireAdminAction(request: Request): Promise<SessionUser> {
  const user = await signedIn(request);
  if (user.role !== "ADMIN") {
    await recordAdminAccessDenied(user, request);
    throw new Response("Only administrators can do this.", { status: 403 });
  }
  return user;
}

async function signedIn(request: Request) {
  const user = await getUser(request);
  if (!user) throw redirect(`/login?${new URLSearchParams({ redirectTo: pageOf(request).href })}`);
  requirePasswordChosen(user, request);
  return user;
}
