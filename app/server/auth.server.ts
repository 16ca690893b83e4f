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
import { signupAllowed } from "./admin/signup-setting.server";
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
  /** Created by an administrator with a one-time password that has not been replaced yet. */
  mustChangePassword: boolean;
}
const sessionUserSelect = {
  id: true,
  email: true,
  name: true,
  role: true,
  disabledAt: true,
  mustChangePassword: true,
} as const;

/** Serialises signups so that exactly one of several racing first signups becomes ADMIN. */
const SIGNUP_LOCK_KEY = 7_201_115;

// OWASP's argon2id baseline (19 MiB, 2 passes); @node-rs/argon2 defaults to argon2id.
export const PASSWORD_HASH_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
const hashOptions = PASSWORD_HASH_OPTIONS;
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

/** Open sign-up is off (ALLOW_SIGNUP or the admin switch) and this would have created an account. */
export class SignupClosedError extends Error {
  constructor() {
    super("Sign-up is closed on this instance. Ask an administrator for an account.");
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
 * here (password signup, OAuth, an administrator), so `newUserRole` — ADMIN only while no user
 * exists — is decided with no other signup in flight, and exactly one of several racing first
 * signups becomes ADMIN. For a self-service sign-up it throws SignupClosedError while sign-up is
 * switched off, except for the very first account.
 */
export function withSignupLock<T>(
  work: (tx: Prisma.TransactionClient, newUserRole: () => Promise<Role>) => Promise<T>,
  { selfService }: { selfService: boolean },
): Promise<T> {
  return db().$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SIGNUP_LOCK_KEY})`;
    const newUserRole = async (): Promise<Role> => {
      if (!(await tx.user.findFirst({ select: { id: true } }))) return "ADMIN";
      if (selfService && !(await signupAllowed(tx))) throw new SignupClosedError();
      return "USER";
    };
    return work(tx, newUserRole);
  });
}

export async function createUserWithPassword(input: SignupInput): Promise<SessionUser> {
  const passwordHash = await hash(input.password, hashOptions);
  try {
    return await withSignupLock(
      async (tx, newUserRole) =>
        tx.user.create({
          data: {
            email: normaliseEmail(input.email),
            name: input.name || null,
            passwordHash,
            role: await newUserRole(),
          },
          select: { id: true, email: true, name: true, role: true, mustChangePassword: true },
        }),
      { selfService: true },
    );
  } catch (error) {
    if (error instanceof SignupClosedError) throw new FormError({ form: [error.message] }, 403);
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

export type OAuthRefusal = "disabled" | "email-unverified" | "no-verified-email" | "signup-closed";

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
  const { user, outcome } = await withSignupLock(
    async (tx, newUserRole) => {
      // Checked again under the lock: a concurrent callback for the same identity may have won.
      const raced = await tx.connection.findUnique({
        where: connectionWhere,
        select: { user: { select: sessionUserSelect } },
      });
      if (raced) return { user: raced.user, outcome: "connected" };
      const existing = email
        ? await tx.user.findUnique({ where: { email }, select: sessionUserSelect })
        : null;
      if (existing) {
        if (!identity.emailVerified) throw new OAuthSignInError("email-unverified");
        if (existing.disabledAt) throw new OAuthSignInError("disabled");
        await tx.connection.create({ data: { provider, providerId, userId: existing.id } });
        return { user: existing, outcome: "linked" };
      }
      if (!email || !identity.emailVerified) throw new OAuthSignInError("no-verified-email");
      let role: Role;
      try {
        // A first OAuth sign-in that creates an account is a sign-up.
        role = await newUserRole();
      } catch (error) {
        throw error instanceof SignupClosedError ? new OAuthSignInError("signup-closed") : error;
      }
      const created = await tx.user.create({
        data: {
          email,
          name: identity.name?.trim().slice(0, 100) || null,
          role,
          connections: { create: { provider, providerId } },
        },
        select: sessionUserSelect,
      });
      return { user: created, outcome: "created" };
    },
    { selfService: true },
  );
  if (outcome !== "connected") log.info(`oauth account ${outcome}`, { provider, userId: user.id });
  return enabledUser(user);
}

function enabledUser(user: SessionUser & { disabledAt: Date | null }): SessionUser {
  if (user.disabledAt) throw new OAuthSignInError("disabled");
  return sessionUserOf(user);
}

function sessionUserOf(user: SessionUser): SessionUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    mustChangePassword: user.mustChangePassword,
  };
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
  return sessionUserOf(user);
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
  touchLastSeen(user.id);
  return sessionUserOf(user);
}

/**
 * "Last seen" for the admin user list: written at most once per LAST_SEEN_EVERY_MS per user per
 * process, and the update itself skips rows another replica touched recently, so a busy user costs
 * one small write every few minutes, never one per request.
 */
const LAST_SEEN_EVERY_MS = 5 * 60_000;
const lastSeenWritten = new Map<string, number>();

function touchLastSeen(userId: string) {
  const now = Date.now();
  if (now - (lastSeenWritten.get(userId) ?? 0) < LAST_SEEN_EVERY_MS) return;
  lastSeenWritten.set(userId, now);
  if (lastSeenWritten.size > 10_000) {
    for (const [id, at] of lastSeenWritten) if (now - at >= LAST_SEEN_EVERY_MS) lastSeenWritten.delete(id);
  }
  const threshold = new Date(now - LAST_SEEN_EVERY_MS);
  db()
    .user.updateMany({
      where: { id: userId, OR: [{ lastSeenAt: null }, { lastSeenAt: { lt: threshold } }] },
      data: { lastSeenAt: new Date(now) },
    })
    .catch((error) => log.warn("could not record last seen", { userId, error: String(error) }));
}

export { safeRedirectPath } from "./http/redirect.server";

export const CHANGE_PASSWORD_PATH = "/settings/password";

export async function requireUser(request: Request): Promise<SessionUser> {
  const user = await getUser(request);
  if (!user) throw redirect(`/login?${new URLSearchParams({ redirectTo: pageOf(request).href })}`);
  requirePasswordChosen(user, request);
  return user;
}

/**
 * The page a request is for: loaders see data requests as `/path.data?…&_routes=…` (or
 * `/_root.data`), which must neither be compared with page paths nor end up in a redirectTo.
 */
export function pageOf(request: Request) {
  const url = new URL(request.url);
  const pathname = url.pathname === "/_root.data" ? "/" : url.pathname.replace(/\.data$/, "");
  url.searchParams.delete("_routes");
  const search = url.searchParams.toString();
  return { pathname, href: pathname + (search ? `?${search}` : "") };
}

/**
 * An account an administrator created with a one-time password can do nothing but choose its own
 * password (the admin saw the one-time password, so it is not the user's secret yet).
 */
export function requirePasswordChosen(user: SessionUser, request: Request) {
  if (!user.mustChangePassword) return;
  const page = pageOf(request);
  if (page.pathname === CHANGE_PASSWORD_PATH) return;
  throw redirect(`${CHANGE_PASSWORD_PATH}?${new URLSearchParams({ redirectTo: page.href })}`);
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

/**
 * Replaces the user's password after checking the current one, clears the one-time-password flag
 * and signs them out everywhere (the caller starts a fresh session for this browser).
 */
let passwordChangeLimiter: RateLimiterAbstract | undefined;

export async function changePassword(userId: string, currentPassword: string, newPassword: string) {
  const user = await db().user.findUnique({ where: { id: userId }, select: { passwordHash: true } });
  if (!user?.passwordHash) {
    throw new FormError({ form: ["This account signs in with an OAuth provider and has no password."] }, 409);
  }
  // A stolen session must not become a way to guess the password: the same budget as sign-in.
  passwordChangeLimiter ??= createLimiter({
    keyPrefix: "password-change-fail:user",
    points: env().LOGIN_MAX_FAILURES,
    duration: env().LOGIN_BLOCK_SECONDS,
    unavailable: signInUnavailable,
  });
  await reserveAttempt([[passwordChangeLimiter, userId]]);
  if (!(await verify(user.passwordHash, currentPassword))) {
    throw new FormError({ currentPassword: ["That is not your current password."] }, 400);
  }
  await passwordChangeLimiter.delete(userId);
  const passwordHash = await hash(newPassword, hashOptions);
  await db().user.update({
    where: { id: userId },
    data: { passwordHash, mustChangePassword: false },
    select: { id: true },
  });
  await revokeAllSessions(userId);
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
