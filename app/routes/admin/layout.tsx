import { Outlet } from "react-router";
import { type Section, SectionNav } from "~/components/section-nav";
import { requireAdminPage } from "~/server/admin/guard.server";
import type { Route } from "./+types/layout";

export async function loader({ request }: Route.LoaderArgs) {
  await requireAdminPage(request);
  return null;
}

const sections: Section[] = [
  { to: "/admin", label: "Overview", end: true },
  { to: "/admin/models", label: "Models" },
  { to: "/admin/users", label: "Users" },
  { to: "/admin/usage", label: "Usage" },
  { to: "/admin/audit", label: "Audit log" },
];

/** The admin area's frame: its section tabs above the page. */
export default function AdminLayout() {
  return (
    <div className="flex flex-col gap-6">
      <SectionNav label="Administration" sections={sections} />
      <Outlet />
    </div>
  );
}
