import { z } from "zod";

/** Forms of /admin/users and /admin/users/:userId; shared by the pages and the server. */
export const USERS_PER_PAGE = 25;

// cuid()s are 25 characters; anything else cannot be one of ours and is refused before a query.
const userId = z
  .string({ message: "Choose a user." })
  .trim()
  .regex(/^[a-z0-9]{10,40}$/, { message: "That is not a user id." });

export const userListQuerySchema = z.object({
  q: z
    .string()
    .trim()
    .max(254)
    .catch("")
    .transform((value) => value.normalize("NFKC").toLowerCase()),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
});

export const roleChangeSchema = z.object({
  userId,
  role: z.enum(["ADMIN", "USER"], { message: "Choose ADMIN or USER." }),
});

export const disableSchema = z.object({
  userId,
  disabled: z
    .enum(["true", "false"], { message: "Say whether to disable or enable." })
    .transform((v) => v === "true"),
});

export const userLimitSchema = z.object({
  userId,
  rateLimitRequests: z
    .string()
    .trim()
    .transform((value) => (value === "" ? null : Number(value)))
    .pipe(
      z
        .number({ message: "Requests per window must be a whole number." })
        .int({ message: "Requests per window must be a whole number." })
        .min(1, { message: "Requests per window must be at least 1." })
        .max(1_000_000, { message: "Requests per window can be at most 1,000,000." })
        .nullable(),
    ),
});

export const deleteUserSchema = z.object({
  userId,
  confirmEmail: z.string().trim().max(254).default(""),
});

export const createUserSchema = z.object({
  email: z
    .string({ message: "Enter an email address." })
    .trim()
    .min(1, { message: "Enter an email address." })
    .max(254, { message: "That email address is too long." })
    .pipe(z.email({ message: "Enter a valid email address, like name@example.com." })),
  name: z.string().trim().max(100, { message: "Keep the name under 100 characters." }).default(""),
});

export const signupSwitchSchema = z.object({
  allowSignup: z
    .enum(["true", "false"], { message: "Say whether sign-up is open." })
    .transform((v) => v === "true"),
});

export const changePasswordSchema = z
  .object({
    currentPassword: z.string().min(1, { message: "Enter your current password." }).max(256),
    newPassword: z
      .string()
      .min(8, { message: "Use at least 8 characters for your password." })
      .max(256, { message: "Use at most 256 characters for your password." }),
    confirmPassword: z.string().max(256),
  })
  .superRefine((value, context) => {
    if (value.newPassword !== value.confirmPassword) {
      context.addIssue({ code: "custom", path: ["confirmPassword"], message: "The two passwords differ." });
    }
    if (value.newPassword === value.currentPassword) {
      context.addIssue({
        code: "custom",
        path: ["newPassword"],
        message: "Choose a password different from the current one.",
      });
    }
  });
