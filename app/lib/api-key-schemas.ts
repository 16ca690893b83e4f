import { z } from "zod";

/** Shared by the keys page (error messages) and the server (parsing); no server-only imports. */
export const API_KEY_PREFIX = "ccai-";
export const MAX_KEY_NAME_CHARS = 100;
export const MAX_ALLOWED_MODELS = 50;

const modelName = z.string().trim().min(1).max(200, "Model names can be at most 200 characters.");

const optionalPositiveInt = (what: string, max: number) =>
  z
    .string()
    .trim()
    .transform((value) => (value === "" ? null : Number(value)))
    .pipe(
      z
        .number({ message: `${what} must be a whole number.` })
        .int({ message: `${what} must be a whole number.` })
        .min(1, { message: `${what} must be at least 1.` })
        .max(max, { message: `${what} can be at most ${max.toLocaleString("en")}.` })
        .nullable(),
    );

/**
 * The create-key form. Expiry is either a number of days or a date (YYYY-MM-DD, the key works until
 * the end of that day, UTC); the allow-list comes from checkboxes plus a comma-separated field.
 */
export const createKeySchema = z
  .object({
    name: z
      .string({ message: "Name the key." })
      .trim()
      .min(1, "Name the key, for example after the app that will use it.")
      .max(MAX_KEY_NAME_CHARS, `Names can be at most ${MAX_KEY_NAME_CHARS} characters.`),
    expiresInDays: optionalPositiveInt("Days until expiry", 3650),
    expiresOn: z
      .string()
      .trim()
      .refine((value) => value === "" || /^\d{4}-\d{2}-\d{2}$/.test(value), "Use a date like 2030-12-31.")
      .transform((value) => (value === "" ? null : new Date(`${value}T23:59:59.999Z`)))
      .refine((value) => value === null || !Number.isNaN(value.getTime()), "That date does not exist.")
      .refine((value) => value === null || value.getTime() > Date.now(), "Choose a date in the future."),
    allowedModels: z.array(modelName),
    allowedModelsText: z
      .string()
      .max(4000)
      .transform((value) =>
        value
          .split(",")
          .map((name) => name.trim())
          .filter(Boolean),
      )
      .pipe(z.array(modelName)),
  })
  .superRefine((value, context) => {
    if (value.expiresInDays !== null && value.expiresOn !== null) {
      context.addIssue({
        code: "custom",
        path: ["expiresOn"],
        message: "Give either a number of days or a date, not both.",
      });
    }
    const models = new Set([...value.allowedModels, ...value.allowedModelsText]);
    if (models.size > MAX_ALLOWED_MODELS) {
      context.addIssue({
        code: "custom",
        path: ["allowedModelsText"],
        message: `Allow at most ${MAX_ALLOWED_MODELS} models.`,
      });
    }
  })
  .transform((value) => ({
    name: value.name,
    expiresAt:
      value.expiresOn ??
      (value.expiresInDays === null ? null : new Date(Date.now() + value.expiresInDays * 86_400_000)),
    allowedModels: [...new Set([...value.allowedModels, ...value.allowedModelsText])],
  }));
export type CreateKeyInput = z.output<typeof createKeySchema>;

/** An admin's per-key overrides; blank means the default. */
export const keyLimitsSchema = z.object({
  keyId: z.string().min(1).max(100),
  rateLimitRequests: optionalPositiveInt("Requests per window", 1_000_000),
  rateLimitTokensPerMinute: optionalPositiveInt("Tokens per minute", 1_000_000_000),
});
