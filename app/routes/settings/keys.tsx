import { useEffect, useState } from "react";
import { data, Form, Link, useNavigation } from "react-router";
import { Field, FormError, SubmitButton } from "~/components/form";
import { SettingsNav } from "~/components/settings-nav";
import { type FieldErrors, fieldErrorsOf } from "~/lib/account-schemas";
import { createKeySchema, keyLimitsSchema } from "~/lib/api-key-schemas";
import { recordAdminAccessDenied } from "~/server/admin/audit.server";
import {
  createApiKey,
  keyStatus,
  listAllApiKeys,
  listApiKeys,
  revokeApiKey,
  setApiKeyLimits,
} from "~/server/api/keys.server";
import { requireUser } from "~/server/auth.server";
import { env } from "~/server/env.server";
import { withoutHidden } from "~/server/models/settings.server";
import { cachedModels } from "~/server/ollama/client.server";
import { clientIpContext } from "~/server/request-context.server";
import type { Route } from "./+types/keys";

export const meta: Route.MetaFunction = () => [{ title: "API keys · CustomChatAI" }];

function when(date: Date | null) {
  return date ? `${date.toISOString().slice(0, 16).replace("T", " ")} UTC` : null;
}

export async function loader({ request }: Route.LoaderArgs) {
  const user = await requireUser(request);
  const isAdmin = user.role === "ADMIN";
  const [keys, models, allKeys] = await Promise.all([
    listApiKeys(user.id),
    // Hidden models are not offered: users are not to learn they exist.
    cachedModels()
      .then(withoutHidden)
      .then(
        (list) => list.map((model) => model.name),
        () => null,
      ),
    isAdmin ? listAllApiKeys() : [],
  ]);
  const { RATE_LIMIT_REQUESTS, RATE_LIMIT_WINDOW, RATE_LIMIT_TOKENS_PER_MINUTE } = env();
  return {
    isAdmin,
    models,
    defaults: {
      requests: RATE_LIMIT_REQUESTS,
      windowSeconds: Math.ceil(RATE_LIMIT_WINDOW / 1000),
      tokensPerMinute: RATE_LIMIT_TOKENS_PER_MINUTE || null,
    },
    keys: keys.map((key) => ({
      id: key.id,
      name: key.name,
      prefix: key.prefix,
      created: when(key.createdAt),
      lastUsed: when(key.lastUsedAt),
      expires: when(key.expiresAt),
      status: keyStatus(key),
      allowedModels: key.allowedModels,
    })),
    allKeys: allKeys.map((key) => ({
      id: key.id,
      name: key.name,
      prefix: key.prefix,
      owner: key.user.email,
      rateLimitRequests: key.rateLimitRequests,
      rateLimitTokensPerMinute: key.rateLimitTokensPerMinute,
    })),
  };
}

export async function action({ request, context }: Route.ActionArgs) {
  const user = await requireUser(request);
  const ip = context.get(clientIpContext);
  const form = await request.formData();
  const intent = form.get("intent");
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === "string" ? value : "";
  };

  if (intent === "create") {
    const parsed = createKeySchema.safeParse({
      name: text("name"),
      expiresInDays: text("expiresInDays"),
      expiresOn: text("expiresOn"),
      allowedModels: form.getAll("allowedModels").filter((value) => typeof value === "string"),
      allowedModelsText: text("allowedModelsText"),
    });
    if (!parsed.success) {
      return data(
        { intent, errors: fieldErrorsOf(parsed.error), created: null, notice: null },
        { status: 400 },
      );
    }
    const { key, token } = await createApiKey(user.id, parsed.data, ip);
    return data({ intent, errors: null, created: { name: key.name, token }, notice: null }, { status: 201 });
  }

  if (intent === "revoke") {
    const revoked = await revokeApiKey(user.id, text("keyId"), ip);
    if (!revoked) {
      return data(
        {
          intent,
          errors: { form: ["That key does not exist or is already revoked."] },
          created: null,
          notice: null,
        },
        { status: 404 },
      );
    }
    return data({
      intent,
      errors: null,
      created: null,
      notice: "Key revoked. It stops working within a second.",
    });
  }

  if (intent === "limits") {
    if (user.role !== "ADMIN") {
      await recordAdminAccessDenied(user, request);
      throw new Response("Only administrators can do this.", { status: 403 });
    }
    const parsed = keyLimitsSchema.safeParse({
      keyId: text("keyId"),
      rateLimitRequests: text("rateLimitRequests"),
      rateLimitTokensPerMinute: text("rateLimitTokensPerMinute"),
    });
    if (!parsed.success) {
      return data(
        {
          intent,
          keyId: text("keyId"),
          errors: fieldErrorsOf(parsed.error),
          created: null,
          notice: null,
        },
        { status: 400 },
      );
    }
    const { keyId, ...limits } = parsed.data;
    if (!(await setApiKeyLimits(user.id, keyId, limits, ip)))
      throw new Response("No such key.", { status: 404 });
    return data({ intent, errors: null, created: null, notice: "Limits saved." });
  }

  throw new Response("Unknown action.", { status: 400 });
}

function CopyButton({ value }: { value: string }) {
  // Rendered only once hydrated: without JavaScript the token is simply selectable in the page.
  const [hydrated, setHydrated] = useState(false);
  const [copied, setCopied] = useState(false);
  useEffect(() => setHydrated(true), []);
  if (!hydrated) return null;
  return (
    <button
      type="button"
      className="rounded border border-zinc-300 px-3 py-1.5 text-sm dark:border-zinc-700"
      onClick={() => {
        void navigator.clipboard?.writeText(value).then(() => setCopied(true));
      }}
    >
      {copied ? "Copied" : "Copy"}
    </button>
  );
}

const inputClass =
  "rounded border border-zinc-300 bg-white px-2 py-1 text-zinc-900 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100";

export default function ApiKeys({ loaderData, actionData }: Route.ComponentProps) {
  const { keys, models, isAdmin, allKeys, defaults } = loaderData;
  const navigation = useNavigation();
  const pending = navigation.state === "submitting";
  const errors: FieldErrors | null = actionData?.intent === "create" ? actionData.errors : null;
  const created = actionData?.created ?? null;

  return (
    <div className="flex max-w-3xl flex-col gap-8">
      <div>
        <SettingsNav />
        <h1 className="text-2xl font-semibold">API keys</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          Use a key with any OpenAI client: base URL <code>/api/v1</code>,{" "}
          <code>Authorization: Bearer &lt;key&gt;</code>. Each key allows {defaults.requests} requests per{" "}
          {defaults.windowSeconds} s unless an administrator changed it. See also your{" "}
          <Link to="/settings/usage" className="text-indigo-600 underline dark:text-indigo-400">
            API usage
          </Link>{" "}
          and the{" "}
          <Link to="/docs/api" className="text-indigo-600 underline dark:text-indigo-400">
            API documentation
          </Link>{" "}
          with examples for curl, Python and Node.
        </p>
      </div>

      {created ? (
        <section
          className="flex flex-col gap-2 rounded border border-emerald-300 bg-emerald-50 p-4 dark:border-emerald-900 dark:bg-emerald-950"
          data-testid="new-key"
        >
          <h2 className="font-semibold">Your new key “{created.name}”</h2>
          <p className="text-sm">Copy it now: it is shown only once and cannot be recovered.</p>
          <div className="flex items-center gap-2">
            <input
              readOnly
              aria-label="New API key"
              value={created.token}
              data-testid="new-key-token"
              className={`${inputClass} w-full font-mono text-sm`}
              onFocus={(event) => event.currentTarget.select()}
            />
            <CopyButton value={created.token} />
          </div>
        </section>
      ) : null}
      {actionData?.notice ? (
        <p role="status" className="text-sm" data-testid="notice">
          {actionData.notice}
        </p>
      ) : null}
      {actionData?.intent === "revoke" ? <FormError errors={actionData.errors?.form} /> : null}

      <section className="flex flex-col gap-3">
        <h2 className="text-lg font-semibold">Create a key</h2>
        <Form method="post" className="flex flex-col gap-3">
          <input type="hidden" name="intent" value="create" />
          <Field label="Name" name="name" maxLength={100} errors={errors?.name} placeholder="My script" />
          <fieldset className="flex flex-col gap-2">
            <legend className="text-sm font-medium">Expiry (optional; leave both blank for none)</legend>
            <div className="grid gap-3 sm:grid-cols-2">
              <Field
                label="Expires in days"
                name="expiresInDays"
                type="number"
                min={1}
                max={3650}
                errors={errors?.expiresInDays}
              />
              <Field label="Or expires on (UTC)" name="expiresOn" type="date" errors={errors?.expiresOn} />
            </div>
          </fieldset>
          <fieldset className="flex flex-col gap-2">
            <legend className="text-sm font-medium">
              Allowed models (optional; none ticked = every model)
            </legend>
            {models === null ? (
              <p className="text-sm text-zinc-600 dark:text-zinc-400">
                Ollama is not reachable, so its models cannot be listed; type model names below.
              </p>
            ) : models.length ? (
              <div className="flex flex-wrap gap-x-4 gap-y-1">
                {models.map((model) => (
                  <label key={model} className="flex items-center gap-1 text-sm">
                    <input type="checkbox" name="allowedModels" value={model} />
                    {model}
                  </label>
                ))}
              </div>
            ) : null}
            <Field
              label="Other models, comma-separated"
              name="allowedModelsText"
              placeholder="llama3.2, qwen2.5:7b"
              errors={errors?.allowedModelsText ?? errors?.allowedModels}
            />
          </fieldset>
          <FormError errors={errors?.form} />
          <div>
            <SubmitButton pending={pending}>Create key</SubmitButton>
          </div>
        </Form>
      </section>

      <section className="flex flex-col gap-3">
        <h2 className="text-lg font-semibold">Your keys</h2>
        {keys.length === 0 ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">No keys yet.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid="keys-table">
              <thead className="text-zinc-500 dark:text-zinc-400">
                <tr>
                  <th className="py-1 pr-3">Name</th>
                  <th className="py-1 pr-3">Key</th>
                  <th className="py-1 pr-3">Created</th>
                  <th className="py-1 pr-3">Last used</th>
                  <th className="py-1 pr-3">Expires</th>
                  <th className="py-1 pr-3">Models</th>
                  <th className="py-1 pr-3">Status</th>
                  <th className="py-1" />
                </tr>
              </thead>
              <tbody>
                {keys.map((key) => (
                  <tr
                    key={key.id}
                    className="border-t border-zinc-200 dark:border-zinc-800"
                    data-key-id={key.id}
                  >
                    <td className="py-1 pr-3">{key.name}</td>
                    <td className="py-1 pr-3 font-mono">{key.prefix}…</td>
                    <td className="py-1 pr-3">{key.created}</td>
                    <td className="py-1 pr-3">{key.lastUsed ?? "never"}</td>
                    <td className="py-1 pr-3">{key.expires ?? "never"}</td>
                    <td className="py-1 pr-3">
                      {key.allowedModels.length ? key.allowedModels.join(", ") : "all"}
                    </td>
                    <td className="py-1 pr-3" data-testid="key-status">
                      {key.status}
                    </td>
                    <td className="py-1">
                      {key.status === "active" ? (
                        <Form method="post">
                          <input type="hidden" name="intent" value="revoke" />
                          <input type="hidden" name="keyId" value={key.id} />
                          <button
                            type="submit"
                            className="text-red-700 underline dark:text-red-400"
                            aria-label={`Revoke ${key.name}`}
                          >
                            Revoke
                          </button>
                        </Form>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {isAdmin ? (
        <section className="flex flex-col gap-3">
          <h2 className="text-lg font-semibold">Limits per key (administrators)</h2>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            Blank uses the default: {defaults.requests} requests per {defaults.windowSeconds} s
            {defaults.tokensPerMinute
              ? `, ${defaults.tokensPerMinute} tokens per minute`
              : ", no token limit"}
            .
          </p>
          {allKeys.map((key) => {
            const limitErrors: FieldErrors | null =
              actionData?.intent === "limits" && "keyId" in actionData && actionData.keyId === key.id
                ? actionData.errors
                : null;
            return (
              <Form
                method="post"
                key={key.id}
                className="flex flex-wrap items-end gap-3 border-t border-zinc-200 pt-2 dark:border-zinc-800"
              >
                <input type="hidden" name="intent" value="limits" />
                <input type="hidden" name="keyId" value={key.id} />
                <div className="min-w-48 text-sm">
                  <div>{key.name}</div>
                  <div className="font-mono text-zinc-500 dark:text-zinc-400">
                    {key.prefix}… · {key.owner}
                  </div>
                </div>
                <Field
                  label="Requests per window"
                  name="rateLimitRequests"
                  type="number"
                  min={1}
                  defaultValue={key.rateLimitRequests ?? ""}
                  errors={limitErrors?.rateLimitRequests}
                />
                <Field
                  label="Tokens per minute"
                  name="rateLimitTokensPerMinute"
                  type="number"
                  min={1}
                  defaultValue={key.rateLimitTokensPerMinute ?? ""}
                  errors={limitErrors?.rateLimitTokensPerMinute}
                />
                <button type="submit" className="rounded bg-indigo-600 px-3 py-1.5 text-white">
                  Save limits
                </button>
              </Form>
            );
          })}
        </section>
      ) : null}
    </div>
  );
}
