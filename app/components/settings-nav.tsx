import { type Section, SectionNav } from "./section-nav";

const sections: Section[] = [
  { to: "/settings", label: "Account", end: true },
  { to: "/settings/chat", label: "Chat" },
  { to: "/settings/keys", label: "API keys" },
  { to: "/settings/usage", label: "Usage" },
  { to: "/settings/password", label: "Password" },
];

/** The settings pages' own navigation, atop each of them (they are flat routes, not a layout). */
export function SettingsNav() {
  return <SectionNav label="Settings" sections={sections} className="mb-6" />;
}
