/** A tiny browser stand-in for HTTP tests: keeps cookies, posts forms, never follows redirects. */
export class Browser {
  cookies = new Map<string, string>();

  constructor(
    public baseUrl: string,
    public headers: Record<string, string> = {},
  ) {}

  cookieHeader() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  private remember(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const index = pair.indexOf("=");
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      const expired = attributes.some((attribute) => /max-age=0\b/i.test(attribute.trim())) || value === "";
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string, init: RequestInit = {}) {
    const response = await fetch(this.baseUrl + path, {
      ...init,
      redirect: "manual",
      headers: { accept: "text/html", cookie: this.cookieHeader(), ...this.headers, ...init.headers },
    });
    this.remember(response);
    return response;
  }

  async post(path: string, fields: Record<string, string>, init: RequestInit = {}) {
    const response = await fetch(this.baseUrl + path, {
      ...init,
      method: "POST",
      redirect: "manual",
      body: new URLSearchParams(fields),
      headers: {
        accept: "text/html",
        "content-type": "application/x-www-form-urlencoded",
        cookie: this.cookieHeader(),
        ...this.headers,
        ...init.headers,
      },
    });
    this.remember(response);
    return response;
  }

  async signup(email: string, password = "correct horse battery", name?: string) {
    return this.post("/signup", { email, password, ...(name ? { name } : {}) });
  }

  async login(email: string, password = "correct horse battery") {
    return this.post("/login", { email, password });
  }

  /**
   * Creates an API key through /settings/keys, as a user does; the token is only in that response.
   * Throws unless the page answered 201 with a token.
   */
  async createApiKey(fields: Record<string, string> = {}) {
    const response = await this.post("/settings/keys", {
      intent: "create",
      name: "test key",
      expiresInDays: "",
      expiresOn: "",
      allowedModelsText: "",
      ...fields,
    });
    const html = await response.text();
    const token = html.match(/value="(ccai-[\w-]+)"/)?.[1];
    if (response.status !== 201 || !token) {
      throw new Error(`no API key created (${response.status}): ${html.slice(0, 300)}`);
    }
    return { token, html };
  }

  /** The signed-in user's email according to the settings page, or null when redirected to login. */
  async whoAmI(): Promise<{ email: string; role: string } | null> {
    const response = await this.get("/settings");
    if (response.status === 302) return null;
    const html = await response.text();
    const email = html.match(/data-testid="account-email">([^<]*)</)?.[1];
    const role = html.match(/data-testid="account-role">([^<]*)</)?.[1];
    if (!email || !role) throw new Error(`unexpected settings page (${response.status})`);
    return { email, role };
  }
}
