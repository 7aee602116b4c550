// A real OpenID Connect provider (the npm package oidc-provider) for the sign-in tests.
//
// It binds 127.0.0.1 on a free port, prints one JSON line {"issuer": ...} once it listens,
// and serves until it is killed. Settings come from the environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET  the one static client
//   OIDC_REDIRECT_URI                   the client's registered redirect URI
//   OIDC_USERS                          JSON {"login": {"password", "email", "name", "groups"}}
//   OIDC_BAD_TOKEN=1                    the token endpoint answers an ID token meant for another client
import http from "node:http";
import Provider from "oidc-provider";

const users = JSON.parse(process.env.OIDC_USERS || "{}");
const badToken = process.env.OIDC_BAD_TOKEN === "1";

function page(title, body) {
  return `<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`;
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginForm(uid, error) {
  return page(
    "Test identity provider",
    `<h1>Sign in to the test identity provider</h1>${error ? `<p class="error">${escape(error)}</p>` : ""}
     <form method="post" action="/interaction/${uid}/login">
       <input name="login" autocomplete="username"><input name="password" type="password">
       <button type="submit">Sign in</button>
     </form>`,
  );
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

const server = http.createServer();
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: process.env.OIDC_CLIENT_ID,
        client_secret: process.env.OIDC_CLIENT_SECRET,
        redirect_uris: [process.env.OIDC_REDIRECT_URI],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username", "groups"],
    },
    pkce: { required: () => false },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ["shipcheck-test-provider-cookie-key"] },
    async findAccount(ctx, sub) {
      const user = users[sub];
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: user.email,
            email_verified: true,
            name: user.name,
            preferred_username: sub,
            groups: user.groups || [],
          };
        },
      };
    },
  });
  provider.proxy = false;

  provider.use(async (ctx, next) => {
    const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (badToken && ctx.method === "POST" && ctx.path === "/token") {
      // A real access token with an ID token issued to another client (wrong audience).
      await next();
      if (ctx.body && ctx.body.id_token) {
        const [header, payload, signature] = ctx.body.id_token.split(".");
        const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
        claims.aud = "another-client";
        const forged = Buffer.from(JSON.stringify(claims)).toString("base64url");
        ctx.body = { ...ctx.body, id_token: `${header}.${forged}.${signature}` };
      }
      return;
    }
    if (!match) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (!match[2]) {
      ctx.type = "html";
      ctx.body = loginForm(details.uid);
      return;
    }
    const form = await readForm(ctx.req);
    const login = form.get("login") || "";
    const user = users[login];
    if (!user || user.password !== form.get("password")) {
      ctx.type = "html";
      ctx.body = loginForm(details.uid, "Wrong login or password.");
      return;
    }
    const grant = new provider.Grant({ accountId: login, clientId: details.params.client_id });
    grant.addOIDCScope(String(details.params.scope || "openid"));
    const grantId = await grant.save();
    const url = await provider.interactionResult(ctx.req, ctx.res, {
      login: { accountId: login },
      consent: { grantId },
    });
    ctx.redirect(url);
  });

  server.on("request", provider.callback());
  process.stdout.write(JSON.stringify({ issuer }) + "\n");
});

for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
