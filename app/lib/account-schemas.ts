import { z } from "zod";

/** Shared by the server (parsing) and the pages (error messages); no server-only imports here. */
export function normaliseEmail(email: string) {
  return email.normalize("NFKC").trim().toLowerCase();
}

const email = z
  .string({ message: "Enter your email address." })
  .trim()
  .min(1, { message: "Enter your email address." })
  .max(254, { message: "That email address is too long." })
  .pipe(z.email({ message: "Enter a valid email address, like name@example.com." }));

export const signupSchema = z.object({
  email,
  name: z.string().trim().max(100, { message: "Keep your name under 100 characters." }).optional(),
  password: z
    .string({ message: "Choose a password." })
    .min(8, { message: "Use at least 8 characters for your password." })
    // argon2 cost grows with input; a bound keeps a huge password from being a denial of service.
    .max(256, { message: "Use at most 256 characters for your password." }),
});
export type SignupInput = z.infer<typeof signupSchema>;

export const loginSchema = z.object({
  email,
  password: z
    .string({ message: "Enter your password." })
    .min(1, { message: "Enter your password." })
    .max(256, { message: "Wrong email or password." }),
});
export type LoginInput = z.infer<typeof loginSchema>;

export type FieldErrors = Partial<Record<string, string[]>>;

export function fieldErrorsOf(error: z.ZodError): FieldErrors {
  return z.flattenError(error).fieldErrors as FieldErrors;
}
