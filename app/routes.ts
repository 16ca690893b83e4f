import { index, type RouteConfig, route } from "@react-router/dev/routes";

export default [
  index("routes/home.tsx"),
  route("signup", "routes/auth/signup.tsx"),
  route("login", "routes/auth/login.tsx"),
  route("logout", "routes/auth/logout.ts"),
  route("settings", "routes/settings/account.tsx"),
  route("search", "routes/chat/search.tsx"),
  route("chat/export", "routes/chat/export-all.ts"),
  route("chat/:id/export", "routes/chat/export.ts"),
  route("theme", "routes/theme.ts"),
  route("api/health", "routes/api/health.ts"),
  route("*", "routes/not-found.tsx"),
] satisfies RouteConfig;
