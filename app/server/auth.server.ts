import { hash, verify } from "@node-rs/argon2";
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import { redirect } from "react-router";
import { FormStrategy } from "remix-auth-form";
import { Prisma } from "~/generated/prisma/client";
import {
  fieldErrorsOf,
  type LoginInput,
  loginSchema,
  normaliseEmail,
  type SignupInput,
} from "~/lib/account-schemas";
import { db } from "./db.server";
import { env } from "./env.server";
import { signInUnavailable } from "./http/unavailable.server";
import { log } from "./log.server";
import { createLimiter, isRateLimited, retryAfterSeconds } from "./rate-limit.server";
import { readSession, revokeAllSessions } from "./session.server";

export type Role = "ADMIN" | "USER";
export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
}
const sessionUserSelect = { id: true, email: true, name: true, role: true, disabledAt: true } as const;

/** Serialises signups so that exactly one of several racing first signups becomes ADMIN. */
const SIGNUP_LOCK_KEY = 7_201_115;

// OWASP's argon2id baseline (19 MiB, 2 passes); @node-rs/argon2 defaults to argon2id.
const hashOptions = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
let dummyHash: Promise<string> | undefined;

export class FormError extends Error {
  constructor(
    public fieldErrors: Record<string, string[]>,
    public status = 400,
  ) {
    super(Object.values(fieldErrors).flat().join(" "));
  }
}

export class TooManyAttemptsError extends Error {
  constructor(public retryAfterSeconds: number) {
    super(`Too many failed sign-in attempts. Try again in ${formatWait(retryAfterSeconds)}.`);
  }
}

export class TooManySignupsError extends Error {
  constructor(public retryAfterSeconds: number) {
    super(`Too many accounts were created from your network. Try again in ${formatWait(retryAfterSeconds)}.`);
  }
}

function formatWait(seconds: number) {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/**
 * Runs `work` in a transaction holding the signup lock. Every path that creates users goes through
 * here (password signup, OAuth), so `newUserRole` — ADMIN only while no user exists — is decided
 * with no other signup in flight, and exactly one of several racing first signups becomes ADMIN.
 */
function withSignupLock<T>(
  work: (tx: Prisma.TransactionClient, newUserRole: () => Promise<Role>) => Promise<T>,
): Promise<T> {
  return db().$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SIGNUP_LOCK_KEY})`;
    const newUserRole = async () => ((await tx.user.findFirst({ select: { id: true } })) ? "USER" : "ADMIN");
    return work(tx, newUserRole);
  });
}

export async function createUserWithPassword(input: SignupInput): Promise<SessionUser> {
  const passwordHash = await hash(input.password, hashOptions);
  try {
    return await withSignupLock(async (tx, newUserRole) =>
      tx.user.create({
        data: {
          email: normaliseEmail(input.email),
          name: input.name || null,
          passwordHash,
          role: await newUserRole(),
        },
        select: { id: true, email: true, name: true, role: true },
      }),
    );
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      throw new FormError({ email: ["An account with this email already exists. Sign in instead."] }, 409);
    }
    throw error;
  }
}

/** Who an OAuth provider says signed in; `email` as the provider reported it. */
export interface OAuthIdentity {
  provider: string;
  providerId: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

export type OAuthRefusal = "disabled" | "email-unverified" | "no-verified-email";

/** The identity was fine but our account rules refuse it; nothing was written. */
export class OAuthSignInError extends Error {
  constructor(public reason: OAuthRefusal) {
    super(`OAuth sign-in refused: ${reason}`);
  }
}

/**
 * The user an OAuth identity signs in as (docs/decisions/0003-oauth-linking.md):
 * 1. a user already connected to this provider account;
 * 2. else, if the provider verified the email, the user with that email, linked from now on;
 * 3. else a new user without a password (ADMIN if it is the very first account).
 * An unverified email never links to nor creates an account: whoever controls the provider account
 * does not necessarily own the address, and a squatted account would later be linked to its owner.
 */
export async function signInWithOAuth(identity: OAuthIdentity): Promise<SessionUser> {
  const { provider, providerId } = identity;
  const connectionWhere = { provider_providerId: { provider, providerId } };
  const connected = await db().connection.findUnique({
    where: connectionWhere,
    select: { user: { select: sessionUserSelect } },
  });
  if (connected) return enabledUser(connected.user);

  const email = identity.email ? normaliseEmail(identity.email) : null;
  const { user, outcome } = await withSignupLock(async (tx, newUserRole) => {
    // Checked again under the lock: a concurrent callback for the same identity may have won.
    const raced = await tx.connection.findUnique({
      where: connectionWhere,
      select: { user: { select: sessionUserSelect } },
    });
    if (raced) return { user: raced.user, outcome: "connected" };
    const existing = email ? await tx.user.findUnique({ where: { email }, select: sessionUserSelect }) : null;
    if (existing) {
      if (!identity.emailVerified) throw new OAuthSignInError("email-unverified");
      if (existing.disabledAt) throw new OAuthSignInError("disabled");
      await tx.connection.create({ data: { provider, providerId, userId: existing.id } });
      return { user: existing, outcome: "linked" };
    }
    if (!email || !identity.emailVerified) throw new OAuthSignInError("no-verified-email");
    const created = await tx.user.create({
      data: {
        email,
        name: identity.name?.trim().slice(0, 100) || null,
        role: await newUserRole(),
        connections: { create: { provider, providerId } },
      },
      select: sessionUserSelect,
    });
    return { user: created, outcome: "created" };
  });
  if (outcome !== "connected") log.info(`oauth account ${outcome}`, { provider, userId: user.id });
  return enabledUser(user);
}

function enabledUser(user: SessionUser & { disabledAt: Date | null }): SessionUser {
  if (user.disabledAt) throw new OAuthSignInError("disabled");
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

let limiters: ReturnType<typeof createLoginLimiters> | undefined;
function createLoginLimiters() {
  const { LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_IP, LOGIN_BLOCK_SECONDS } = env();
  return {
    // Guessing one account's password from one address.
    byEmailAndIp: createLimiter({
      keyPrefix: "login-fail:email-ip",
      points: LOGIN_MAX_FAILURES,
      duration: LOGIN_BLOCK_SECONDS,
      unavailable: signInUnavailable,
    }),
    // Spraying many accounts from one address.
    byIp: createLimiter({
      keyPrefix: "login-fail:ip",
      points: LOGIN_MAX_FAILURES_PER_IP,
      duration: 3600,
      unavailable: signInUnavailable,
    }),
  };
}

/**
 * Verifies email + password, counting attempts per email+IP and per IP.
 *
 * Each attempt reserves its point atomically before the password is checked (consume first), and a
 * successful sign-in gives it back: reading the counter first and counting after the (slow) argon2
 * check let a burst of parallel guesses all pass the read before any was counted.
 */
export async function verifyLogin(input: LoginInput, ip: string): Promise<SessionUser> {
  limiters ??= createLoginLimiters();
  const email = normaliseEmail(input.email);
  const emailIpKey = `${email}|${ip}`;
  await reserveAttempt([
    [limiters.byEmailAndIp, emailIpKey],
    [limiters.byIp, ip],
  ]);

  const user = await db().user.findUnique({
    where: { email },
    select: { ...sessionUserSelect, passwordHash: true },
  });
  // Verify against a dummy hash for unknown emails so timing does not reveal which emails exist.
  dummyHash ??= hash("not-a-real-password", hashOptions);
  const passwordOk = await verify(user?.passwordHash ?? (await dummyHash), input.password);

  if (!user?.passwordHash || !passwordOk) throw new FormError({ form: ["Wrong email or password."] }, 401);
  if (user.disabledAt)
    throw new FormError({ form: ["This account is disabled. Ask an administrator."] }, 403);
  // The right password: this account's failures from here are forgiven, and the address gets its
  // reserved point back (its earlier failures still count against spraying).
  await Promise.all([limiters.byEmailAndIp.delete(emailIpKey), limiters.byIp.reward(ip, 1)]);
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

/**
 * Takes one point from every limiter, all or nothing as far as the caller can tell: if any refuses,
 * the points taken from the others are given back and TooManyAttemptsError says how long to wait.
 */
async function reserveAttempt(targets: Array<[RateLimiterAbstract, string]>) {
  const outcomes = await Promise.allSettled(targets.map(([limiter, key]) => limiter.consume(key)));
  const refused = outcomes.find((outcome) => outcome.status === "rejected");
  if (!refused) return;
  await Promise.all(
    outcomes.map((outcome, index) =>
      outcome.status === "fulfilled" ? targets[index][0].reward(targets[index][1], 1).catch(() => {}) : null,
    ),
  );
  const reason = refused.reason;
  if (isRateLimited(reason)) {
    // The longest wait among the limiters that refused.
    const waits = outcomes.flatMap((outcome) =>
      outcome.status === "rejected" && isRateLimited(outcome.reason)
        ? [retryAfterSeconds(outcome.reason)]
        : [],
    );
    throw new TooManyAttemptsError(Math.max(...waits));
  }
  throw reason;
}

let signupLimiter: RateLimiterAbstract | undefined;

/**
 * Every sign-up costs an argon2 hash (19 MiB, tens of milliseconds), so one address may only try
 * SIGNUP_MAX_PER_IP of them per hour, whatever their outcome.
 */
export async function reserveSignup(ip: string) {
  signupLimiter ??= createLimiter({
    keyPrefix: "signup:ip",
    points: env().SIGNUP_MAX_PER_IP,
    duration: 3600,
    unavailable: signInUnavailable,
  });
  try {
    await signupLimiter.consume(ip);
  } catch (rejection) {
    if (isRateLimited(rejection)) throw new TooManySignupsError(retryAfterSeconds(rejection));
    throw rejection;
  }
}

const userByRequest = new WeakMap<Request, Promise<SessionUser | null>>();

/** The signed-in, enabled user for this request, looked up once per request. */
export function getUser(request: Request): Promise<SessionUser | null> {
  let pending = userByRequest.get(request);
  if (!pending) {
    pending = lookUpUser(request);
    userByRequest.set(request, pending);
  }
  return pending;
}

async function lookUpUser(request: Request): Promise<SessionUser | null> {
  const session = await readSession(request);
  if (!session) return null;
  const user = await db().user.findUnique({ where: { id: session.userId }, select: sessionUserSelect });
  // Checked on every request, so disabling a user locks them out at once on every replica.
  if (!user || user.disabledAt) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

export { safeRedirectPath } from "./http/redirect.server";

export async function requireUser(request: Request): Promise<SessionUser> {
  const user = await getUser(request);
  if (user) return user;
  const url = new URL(request.url);
  throw redirect(`/login?${new URLSearchParams({ redirectTo: url.pathname + url.search })}`);
}

export async function requireAdmin(request: Request): Promise<SessionUser> {
  const user = await requireUser(request);
  if (user.role !== "ADMIN") throw new Response("Only administrators can open this page.", { status: 403 });
  return user;
}

export async function requireAnonymous(request: Request) {
  if (await getUser(request)) throw redirect("/");
}

export async function setUserRole(email: string, role: Role) {
  const updated = await db().user.updateMany({ where: { email: normaliseEmail(email) }, data: { role } });
  return updated.count === 1;
}

export async function setUserDisabled(userId: string, disabled: boolean) {
  await db().user.update({ where: { id: userId }, data: { disabledAt: disabled ? new Date() : null } });
  if (disabled) await revokeAllSessions(userId);
}

/**
 * Reads the login form from the request and returns the user, or throws FormError / TooManyAttemptsError.
 * remix-auth's form strategy reads the form; the client IP comes from the router context, so the
 * strategy is built per request with the IP in its closure (it is a plain object, cheap to make).
 * Authenticator.authenticate would copy the Request, so nothing keyed by the request survives it.
 */
export async function authenticateWithPassword(request: Request, ip: string): Promise<SessionUser> {
  const strategy = new FormStrategy<SessionUser>(async ({ form }) => {
    const parsed = loginSchema.safeParse({
      email: form.get("email") ?? undefined,
      password: form.get("password") ?? undefined,
    });
    if (!parsed.success) throw new FormError(fieldErrorsOf(parsed.error) as Record<string, string[]>);
    return verifyLogin(parsed.data, ip);
  });
  return strategy.authenticate(request);
}
