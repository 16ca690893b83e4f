import { NavLink } from "react-router";

export interface Section {
  to: string;
  label: string;
  /** Marked only on this exact path (the area's index), not on the pages below it. */
  end?: boolean;
}

/**
 * An area's own row of tabs (settings, administration): the current page marked, and a row that
 * scrolls sideways on phones rather than widening the page.
 */
export function SectionNav({
  label,
  sections,
  className = "",
}: {
  label: string;
  sections: Section[];
  className?: string;
}) {
  return (
    <nav
      aria-label={label}
      className={`-mx-4 flex gap-1 overflow-x-auto border-b border-zinc-200 px-4 text-sm dark:border-zinc-800 ${className}`}
    >
      {sections.map((section) => (
        <NavLink
          key={section.to}
          to={section.to}
          end={section.end ?? false}
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
