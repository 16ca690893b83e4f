import { NavLink, Outlet } from "react-router";
import { requireAdminPage } from "~/server/admin/guard.server";
import type { Route } from "./+types/layout";

export async function loader({ request }: Route.LoaderArgs) {
  await requireAdminPage(request);
  return null;
}

const sections = [
  { to: "/admin", label: "Overview", end: true },
  { to: "/admin/models", label: "Models", end: false },
  { to: "/admin/users", label: "Users", end: false },
  { to: "/admin/usage", label: "Usage", end: false },
  { to: "/admin/audit", label: "Audit log", end: false },
];

/** The admin area's frame: a section menu (a row that scrolls sideways on phones) above the page. */
export default function AdminLayout() {
  return (
    <div className="flex flex-col gap-6">
      <nav
        aria-label="Administration"
        className="-mx-4 flex gap-1 overflow-x-auto border-b border-zinc-200 px-4 text-sm dark:border-zinc-800"
      >
        {sections.map((section) => (
          <NavLink
            key={section.to}
            to={section.to}
            end={section.end}
            className={({ isActive }) =>
              `whitespace-nowrap border-b-2 px-3 py-2 ${
                isActive
                  ? "border-indigo-600 font-medium text-indigo-700 dark:text-indigo-300"
                  : "border-transparent text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100"
              }`
            }
          >
            {section.label}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </div>
  );
}
