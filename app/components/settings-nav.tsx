import { NavLink } from "react-router";

const sections = [
  { to: "/settings", label: "Account", end: true },
  { to: "/settings/chat", label: "Chat", end: false },
  { to: "/settings/keys", label: "API keys", end: false },
  { to: "/settings/usage", label: "Usage", end: false },
  { to: "/settings/password", label: "Password", end: false },
];

/** The settings pages' own navigation (a row that scrolls sideways on phones), atop each of them. */
export function SettingsNav() {
  return (
    <nav
      aria-label="Settings"
      className="-mx-4 mb-6 flex gap-1 overflow-x-auto border-b border-zinc-200 px-4 text-sm dark:border-zinc-800"
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
  );
}
