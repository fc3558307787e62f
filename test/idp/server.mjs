// The test IdP: node's oidc-provider with Dynamic Client Registration (RFC 7591)
// and management (RFC 7592), configured the way dcrctl meets real IdPs.
// It listens on 127.0.0.1 only. Everything here beyond the provider's own
// configuration is marked as glue and says which real IdP behaviour it stands for.
//
// Environment:
//   PORT                 TCP port on 127.0.0.1 (0 = pick one; the chosen port is printed)
//   IDP_IAT              the static initial access token registration requires
//   IDP_ADMIN_TOKEN      bearer token for the admin routes (RAT renewal)
//   IDP_IAT_CLIENT_ID / IDP_IAT_CLIENT_SECRET
//                        a client allowed the client-credentials grant with scope
//                        dcr_admin, whose access token is accepted as an IAT (Gravitee APIM style)
import http from 'node:http';
import Provider from 'oidc-provider';

const host = '127.0.0.1';
const port = Number(process.env.PORT ?? 0);
const staticIAT = process.env.IDP_IAT ?? 'demo-initial-access-token';
const adminToken = process.env.IDP_ADMIN_TOKEN ?? 'demo-bootstrap-admin-token';
const iatClientID = process.env.IDP_IAT_CLIENT_ID ?? 'gateway';
const iatClientSecret = process.env.IDP_IAT_CLIENT_SECRET ?? 'gateway-secret-for-tests-only';

// Requests seen, for tests and benchmarks that count what dcrctl sent (the IdP's
// own word, not dcrctl's). Admin routes are not counted.
let requestLog = [];

function startProvider(issuer) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: iatClientID,
      client_secret: iatClientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'dcr_admin',
    }],
    scopes: ['openid', 'offline_access', 'dcr_admin'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      registration: {
        enabled: true,
        initialAccessToken: staticIAT,
        // Honour a requested client_id, as Keycloak and Gravitee AM can.
        idFactory: (ctx) => (typeof ctx.oidc.body?.client_id === 'string' && ctx.oidc.body.client_id)
          || crypto.randomUUID(),
      },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
    },
    extraClientMetadata: { properties: ['client_profile'] },
    cookies: { keys: ['dcrctl-test-idp-cookie-key'] },
  });
  provider.proxy = false;

  // Glue: count requests.
  provider.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/admin/')) {
      requestLog.push({ method: ctx.method, path: ctx.path });
    }
    await next();
  });

  // Glue (Gravitee APIM style): a client-credentials access token with scope
  // dcr_admin is accepted as the initial access token.
  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === '/reg') {
      const token = bearer(ctx);
      if (token && token !== staticIAT) {
        const cc = await provider.ClientCredentials.find(token);
        if (cc && !cc.isExpired && cc.scope?.split(' ').includes('dcr_admin')) {
          ctx.req.headers.authorization = `Bearer ${staticIAT}`;
        }
      }
    }
    await next();
  });

  // Glue (Gravitee AM style PATCH dialect): a partial update on the client URI is
  // merged into the stored metadata and handled as the RFC 7592 PUT it stands for.
  provider.use(async (ctx, next) => {
    const m = ctx.method === 'PATCH' && ctx.path.match(/^\/reg\/([^/]+)$/);
    if (!m) return next();
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    let patch;
    try {
      patch = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'PATCH body must be JSON' };
      return undefined;
    }
    const client = await provider.Client.find(decodeURIComponent(m[1]));
    const merged = { ...(client ? client.metadata() : {}), ...patch };
    for (const f of ['registration_access_token', 'registration_client_uri', 'client_secret',
      'client_secret_expires_at', 'client_id_issued_at']) delete merged[f];
    ctx.method = 'PUT';
    ctx.request.body = merged;
    return next();
  });

  // Glue (the admin recovery real IdPs offer, e.g. Keycloak's registration-access-token
  // endpoint): mint a fresh registration access token for a client.
  provider.use(async (ctx, next) => {
    const m = ctx.path.match(/^\/admin\/clients\/([^/]+)\/registration-access-token$/);
    if (ctx.path === '/admin/requests') {
      if (bearer(ctx) !== adminToken) return deny(ctx);
      if (ctx.method === 'DELETE') requestLog = [];
      ctx.body = requestLog;
      return undefined;
    }
    if (!m) return next();
    if (ctx.method !== 'POST') { ctx.status = 405; return undefined; }
    if (bearer(ctx) !== adminToken) return deny(ctx);
    const clientId = decodeURIComponent(m[1]);
    const client = await provider.Client.find(clientId);
    if (!client) {
      ctx.status = 404;
      ctx.body = { error: 'invalid_client', error_description: 'no such client' };
      return undefined;
    }
    const rat = new provider.RegistrationAccessToken({ clientId });
    ctx.body = { registration_access_token: await rat.save() };
    return undefined;
  });
  return provider;
}

function bearer(ctx) {
  const h = ctx.get('authorization');
  return h.startsWith('Bearer ') ? h.slice(7) : '';
}

function deny(ctx) {
  ctx.status = 401;
  ctx.body = { error: 'invalid_token', error_description: 'admin token required' };
}

// Listen first, so that port 0 can be resolved before the issuer is fixed.
const server = http.createServer();
server.listen(port, host, () => {
  const { port: actual } = server.address();
  const issuer = `http://${host}:${actual}`;
  const provider = startProvider(issuer);
  server.on('request', provider.callback());
  console.log(JSON.stringify({ listening: issuer }));
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
