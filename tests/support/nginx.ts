import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort, ROOT, tempDir } from "./app";

export interface RunningNginx {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Debian's nginx running the shipped docker/nginx.conf, changed only where this machine differs
 * from Compose: the upstream servers (the given app ports instead of `app:3000`), the listening
 * port, and, with `tls`, a self-signed certificate on that port, as a TLS-terminating front end.
 */
export async function startNginx(upstreamPorts: number[], { tls = false } = {}): Promise<RunningNginx> {
  const port = await freePort();
  const dir = tempDir("nginx");
  let config = readFileSync(path.join(ROOT, "docker/nginx.conf"), "utf8");
  if (!config.includes("server app:3000")) throw new Error("docker/nginx.conf no longer names app:3000");
  config = config.replace(
    /server app:3000([^;]*);/,
    upstreamPorts.map((upstream) => `server 127.0.0.1:${upstream}$1;`).join("\n    "),
  );
  if (!/listen 80;/.test(config)) throw new Error("docker/nginx.conf no longer listens on 80");
  if (tls) {
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
    ]);
    config = config.replace(
      "listen 80;",
      `listen 127.0.0.1:${port} ssl;\n    ssl_certificate ${dir}/cert.pem;\n    ssl_certificate_key ${dir}/key.pem;`,
    );
  } else {
    config = config.replace("listen 80;", `listen 127.0.0.1:${port};`);
  }
  writeFileSync(`${dir}/nginx.conf`, config);
  const child: ChildProcess = spawn(
    "/usr/sbin/nginx",
    [
      "-p",
      dir,
      "-c",
      `${dir}/nginx.conf`,
      "-e",
      `${dir}/error.log`,
      "-g",
      `daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `${tls ? "https" : "http"}://localhost:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${output}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    port,
    async stop() {
      if (child.exitCode === null) child.kill("SIGQUIT");
      await exited;
    },
  };
}

function run(command: string, args: string[]) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
  });
}
