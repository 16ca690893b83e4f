import type { Config } from "@react-router/dev/config";

export default {
  ssr: true,
  // v8 behaviour switched on now, so moving to React Router 8 (Node 22+) is a version bump.
  future: {
    v8_middleware: true,
    v8_splitRouteModules: true,
    v8_viteEnvironmentApi: true,
    v8_passThroughRequests: true,
    v8_trailingSlashAwareDataRequests: true,
  },
} satisfies Config;
