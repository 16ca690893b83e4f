import { redirect } from "react-router";

/** The brief called the keys page /dashboard/keys; it lives at /settings/keys. */
export function loader() {
  return redirect("/settings/keys", 301);
}
