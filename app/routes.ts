import { index, type RouteConfig, route } from "@react-router/dev/routes";

export default [
  index("routes/home.tsx"),
  route("signup", "routes/auth/signup.tsx"),
  route("login", "routes/auth/login.tsx"),
  route("logout", "routes/auth/logout.ts"),
  route("auth/:provider", "routes/auth/oauth.tsx"),
  route("auth/:provider/callback", "routes/auth/oauth-callback.tsx"),
  // Flat, not nested under a layout: forms and scripts post to /settings itself (an index route would
  // need ?index). Each page renders the shared SettingsNav.
  route("settings", "routes/settings/account.tsx"),
  route("settings/password", "routes/settings/password.tsx"),
  route("settings/chat", "routes/settings/chat.tsx"),
  route("settings/keys", "routes/settings/keys.tsx"),
  route("settings/usage", "routes/settings/usage.tsx"),
  route("dashboard/keys", "routes/settings/dashboard-keys.ts"),
  route("chat", "routes/chat/layout.tsx", [
    index("routes/chat/new.tsx"),
    route(":chatId", "routes/chat/chat.tsx"),
  ]),
  route("chat/:chatId/live/:messageId", "routes/chat/live.ts"),
  route("chat/:chatId/images/:imageId", "routes/chat/image.ts"),
  // Administration: every loader and action calls requireAdminPage / requireAdminAction itself.
  route("admin", "routes/admin/layout.tsx", [
    index("routes/admin/overview.tsx"),
    route("users", "routes/admin/users.tsx"),
    route("users/:userId", "routes/admin/user.tsx"),
    route("models", "routes/admin/models.tsx"),
    route("models/pull-events", "routes/admin/pull-events.ts"),
    // The rest of the path is the model's name, which may contain "/" (hf.co/user/repo:tag).
    route("models/*", "routes/admin/model.tsx"),
    route("usage", "routes/admin/usage.tsx"),
    route("usage.csv", "routes/admin/usage-csv.ts"),
    route("audit", "routes/admin/audit.tsx"),
  ]),
  route("search", "routes/chat/search.tsx"),
  route("chat/export", "routes/chat/export-all.ts"),
  route("chat/:id/export", "routes/chat/export.ts"),
  route("theme", "routes/theme.ts"),
  route("docs/api", "routes/docs/api.tsx"),
  route("api/health", "routes/api/health.ts"),
  // Every endpoint of the OpenAI-compatible API; app/server/openai/router.server.ts dispatches.
  route("api/v1/*", "routes/api/v1.ts"),
  // Ollama's own API behind the same keys (app/server/ollama/native-api.server.ts), same handler table.
  route("ollama/api/*", "routes/api/v1.ts", { id: "ollama-api" }),
  route("*", "routes/not-found.tsx"),
] satisfies RouteConfig;
