import { createCookie } from "react-router";
import { type Theme, themes } from "~/lib/theme";

// Not signed: the theme is a harmless preference and the value is validated on read.
const themeCookie = createCookie("ccai_theme", {
  path: "/",
  sameSite: "lax",
  httpOnly: true,
  maxAge: 31_536_000,
});

export async function getTheme(request: Request): Promise<Theme> {
  const value = await themeCookie.parse(request.headers.get("cookie"));
  return themes.includes(value) ? value : "system";
}

export function serializeTheme(theme: Theme) {
  return themeCookie.serialize(theme);
}
