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
//   IDP_ISSUER_PATH      mount the provider under this path: the issuer has a path
//   IDP_EMULATE          keycloak | gravitee | curity | okta: switch on an emulation of that
//                        product's documented registration routes, status codes and
//                        RAT behaviour (see the emulate* functions; sources cited there).
//                        These products cannot run here; the real provider underneath
//                        still does every registration, read, update and token.
import http from 'node:http';
import Provider from 'oidc-provider';

const host = '127.0.0.1';
const port = Number(process.env.PORT ?? 0);
const staticIAT = process.env.IDP_IAT ?? 'demo-initial-access-token';
const adminToken = process.env.IDP_ADMIN_TOKEN ?? 'demo-bootstrap-admin-token';
const iatClientID = process.env.IDP_IAT_CLIENT_ID ?? 'gateway';
const iatClientSecret = process.env.IDP_IAT_CLIENT_SECRET ?? 'gateway-secret-for-tests-only';
const emulate = process.env.IDP_EMULATE ?? '';
// IDP_MANAGEMENT=off: an RFC 7591-only server, as most servers MCP clients
// meet are: registration answers with a client_id and no RAT or
// registration_client_uri, no client configuration endpoint exists, and a
// requested client_id is ignored (oidc-provider's own documented
// features.registrationManagement switch).
const management = process.env.IDP_MANAGEMENT !== 'off';
// IDP_CIMD=on: oidc-provider's own Client ID Metadata Document support
// (features.clientIdMetadataDocument, draft-02), advertised in discovery as
// client_id_metadata_document_supported.
const cimd = process.env.IDP_CIMD === 'on';
// IDP_ISSUER_PATH=/tenants/mcp: an issuer with a path, as hosted and
// multi-tenant servers have; the provider is mounted there (oidc-provider
// builds its URLs from the request's originalUrl, its documented mounting).
const issuerPath = (process.env.IDP_ISSUER_PATH ?? '').replace(/\/+$/, '');
const delays = {}; // method -> ms, set by /admin/delay
const failures = {}; // method -> HTTP status, set by /admin/fail

// Where registration lives: oidc-provider's default, or the emulated product's path.
const registrationPaths = {
  // Keycloak: POST /realms/{realm}/clients-registrations/openid-connect, management on …/{clientId}
  // (Keycloak Server Admin guide, "Client Registration Service").
  keycloak: '/realms/test/clients-registrations/openid-connect',
  // Gravitee AM: POST /{domain}/oidc/register, GET|PUT|PATCH|DELETE …/register/{client_id}
  // (Gravitee AM docs, "Dynamic Client Registration").
  gravitee: '/test/oidc/register',
  // Okta: POST /oauth2/v1/clients, GET|PUT|DELETE …/clients/{clientId} (Okta "OAuth 2.0
  // Clients API", the Client Application API); the org authorization server's discovery
  // lists it as registration_endpoint.
  okta: '/oauth2/v1/clients',
};
const regPath = registrationPaths[emulate] ?? '/reg';
const clientPath = new RegExp(`^${regPath}/([^/]+)$`);

// Requests seen, for tests and benchmarks that count what dcrctl sent (the IdP's
// own word, not dcrctl's). Admin routes are not counted.
let requestLog = [];

function startProvider(issuer) {
  const provider = new Provider(issuer, {
    // TEST-ONLY glue: oidc-provider refuses to fetch a client metadata
    // document from a special-use address (its SSRF guard, fetch_request.js),
    // and the documents of the tests are served on 127.0.0.1. With IDP_CIMD
    // on, fetch without that dispatcher; TLS is still verified (the test's CA
    // comes in through NODE_EXTRA_CA_CERTS). Never a production setting.
    ...(cimd ? { fetch: (url, options) => { const { dispatcher, ...rest } = options; return fetch(url, rest); } } : {}),
    clients: [{
      client_id: iatClientID,
      client_secret: iatClientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'dcr_admin dcrm',
    }],
    scopes: ['openid', 'offline_access', 'dcr_admin', 'dcrm'],
    routes: { registration: regPath },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      registration: {
        enabled: true,
        initialAccessToken: staticIAT,
        // Honour a requested client_id, as Keycloak and Gravitee AM can.
        idFactory: (ctx) => (management && typeof ctx.oidc.body?.client_id === 'string' && ctx.oidc.body.client_id)
          || crypto.randomUUID(),
      },
      registrationManagement: { enabled: management, rotateRegistrationAccessToken: true },
      // A short cache (30 s minimum by default) keeps the rotation test brief.
      clientIdMetadataDocument: { enabled: cimd, ack: 'draft-02', cacheDuration: { min: 1, max: 2 } },
    },
    extraClientMetadata: { properties: ['client_profile'] },
    cookies: { keys: ['dcrctl-test-idp-cookie-key'] },
  });
  provider.proxy = false;

  // Glue: count requests, with when each was answered (ms since the epoch:
  // the TUI benchmark measures its first frame after the GET's answer).
  provider.use(async (ctx, next) => {
    const seen = ctx.path.startsWith('/admin/') ? null : { method: ctx.method, path: ctx.path };
    if (seen) requestLog.push(seen);
    await next();
    if (seen) { seen.answered_at = Date.now(); seen.status = ctx.status; }
  });

  // Glue (a failing IdP, as behind an overloaded proxy): POST
  // /admin/fail?method=GET&status=503 answers every later request of that
  // method with that status, before the provider sees it; status=0 ends it.
  provider.use(async (ctx, next) => {
    if (ctx.path === '/admin/fail') {
      if (bearer(ctx) !== adminToken) return deny(ctx);
      failures[String(ctx.query.method ?? '').toUpperCase()] = Number(ctx.query.status ?? 0);
      ctx.body = failures;
      return undefined;
    }
    const status = failures[ctx.method];
    if (status && !ctx.path.startsWith('/admin/')) {
      ctx.status = status;
      ctx.body = { error: 'temporarily_unavailable', error_description: 'test glue: failing on purpose' };
      return undefined;
    }
    return next();
  });

  // Glue (a slow IdP): POST /admin/delay?method=PUT&ms=3000 holds the answer
  // to every later request of that method for ms milliseconds, *after* the
  // provider has handled it, so the change (and a RAT rotation) is applied
  // while the client still waits, as with a slow network or a loaded IdP.
  // ms=0 ends it.
  provider.use(async (ctx, next) => {
    if (ctx.path === '/admin/delay') {
      if (bearer(ctx) !== adminToken) return deny(ctx);
      const ms = Number(ctx.query.ms ?? 0);
      delays[String(ctx.query.method ?? '').toUpperCase()] = Math.min(Math.max(ms, 0), 60000);
      ctx.body = delays;
      return undefined;
    }
    await next();
    const ms = delays[ctx.method];
    if (ms && !ctx.path.startsWith('/admin/')) await new Promise((resolve) => { setTimeout(resolve, ms); });
    return undefined;
  });

  // Glue (Keycloak's registration refuses a taken clientId with 400
  // invalid_client_metadata "Client Identifier in use", AbstractClientRegistrationProvider;
  // oidc-provider's idFactory would silently replace the existing client):
  // a requested client_id that is taken is refused.
  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === regPath) {
      const chunks = [];
      for await (const chunk of ctx.req) chunks.push(chunk);
      const raw = Buffer.concat(chunks);
      let requested;
      try { requested = JSON.parse(raw.toString('utf8'))?.client_id; } catch { requested = undefined; }
      if (management && typeof requested === 'string' && requested && await provider.Client.find(requested)) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_client_metadata', error_description: `client_id ${requested} is already registered` };
        return undefined;
      }
      // The stream is read: the provider parses this text instead
      // (lib/shared/selective_body.js falls back to ctx.request.body).
      ctx.request.body = raw.toString('utf8');
    }
    await next();
  });

  // Glue (Gravitee APIM style): a client-credentials access token with scope
  // dcr_admin is accepted as the initial access token.
  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === regPath) {
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
    const m = ctx.method === 'PATCH' && ctx.path.match(clientPath);
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

  if (!management) registrationOnly(provider);
  if (emulate === 'keycloak') emulateKeycloak(provider);
  if (emulate === 'gravitee') emulateManagementToken(provider, 'dcr_admin');
  if (emulate === 'gravitee') emulateGraviteeForbidden(provider);
  if (emulate === 'curity') emulateManagementToken(provider, 'dcrm');
  if (emulate === 'curity') emulateCurityRotationOnRead(provider);
  if (emulate === 'okta') emulateOktaAdminAPI(provider);

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

// Keycloak's admin REST API recovery, as `kcreg update-token` uses it
// (Keycloak admin REST API: GET /admin/realms/{realm}/clients?clientId=…,
// POST /admin/realms/{realm}/clients/{id}/registration-access-token, whose
// answer is a ClientRepresentation carrying registrationAccessToken). The
// internal id is a UUID distinct from the clientId, as in Keycloak.
function emulateKeycloak(provider) {
  const internalIds = new Map(); // clientId -> internal id
  const idFor = (clientId) => {
    if (!internalIds.has(clientId)) internalIds.set(clientId, crypto.randomUUID());
    return internalIds.get(clientId);
  };
  provider.use(async (ctx, next) => {
    if (ctx.path === '/admin/realms/test/clients' && ctx.method === 'GET') {
      if (bearer(ctx) !== adminToken) return deny(ctx);
      const clientId = ctx.query.clientId;
      const client = clientId && await provider.Client.find(clientId);
      ctx.body = client ? [{ id: idFor(clientId), clientId }] : [];
      return undefined;
    }
    const m = ctx.path.match(/^\/admin\/realms\/test\/clients\/([^/]+)\/registration-access-token$/);
    if (!m) return next();
    if (ctx.method !== 'POST') { ctx.status = 405; return undefined; }
    if (bearer(ctx) !== adminToken) return deny(ctx);
    const clientId = [...internalIds].find(([, id]) => id === m[1])?.[0];
    if (!clientId || !await provider.Client.find(clientId)) {
      ctx.status = 404;
      ctx.body = { error: 'Could not find client' };
      return undefined;
    }
    const rat = new provider.RegistrationAccessToken({ clientId });
    ctx.body = { id: m[1], clientId, registrationAccessToken: await rat.save() };
    return undefined;
  });
}

// A token with the management scope (Gravitee AM: dcr_admin; Curity: dcrm),
// from the client-credentials grant, manages any client on its
// registration_client_uri without that client's RAT (Gravitee AM DCR docs;
// Curity "Dynamic Client Registration Management"). Emulated by presenting
// a freshly minted RAT for the client in its place; the provider then
// answers as it does to any RAT (an update rotates it and returns the new one).
function emulateManagementToken(provider, scope) {
  provider.use(async (ctx, next) => {
    const m = ctx.path.match(clientPath);
    const token = m && bearer(ctx);
    if (token) {
      const cc = await provider.ClientCredentials.find(token);
      if (cc && !cc.isExpired && cc.scope?.split(' ').includes(scope)) {
        const clientId = decodeURIComponent(m[1]);
        if (await provider.Client.find(clientId)) {
          const rat = await new provider.RegistrationAccessToken({ clientId }).save();
          ctx.req.headers.authorization = `Bearer ${rat}`;
        }
      }
    }
    return next();
  });
}

// Gravitee AM answers a wrong or dead RAT with 403 registration_forbidden,
// not RFC 7592's 401 (REFERENCES.md; Gravitee AM DCR endpoint source).
function emulateGraviteeForbidden(provider) {
  provider.use(async (ctx, next) => {
    await next();
    if (clientPath.test(ctx.path) && ctx.status === 401) {
      ctx.status = 403;
      ctx.body = { error: 'registration_forbidden', error_description: 'Not allowed to access this client' };
      ctx.remove('WWW-Authenticate');
    }
  });
}

// Glue (an RFC 7591-only server): oidc-provider 9.x with
// registrationManagement off still answers a registration with a RAT and a
// registration_client_uri, and serves RFC 7592 reads with them (its
// `registration` feature includes the read; seen on this machine). Servers
// that implement RFC 7591 alone give neither (RFC 7591 §3.2.1: both belong
// to RFC 7592): strip them from the answer, and answer 404 on the client
// configuration endpoint.
function registrationOnly(provider) {
  provider.use(async (ctx, next) => {
    if (clientPath.test(ctx.path)) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: 'no client configuration endpoint (RFC 7591 only)' };
      return undefined;
    }
    await next();
    if (ctx.method === 'POST' && ctx.path === regPath && ctx.status === 201 && ctx.body && typeof ctx.body === 'object') {
      const { registration_access_token: rat, registration_client_uri: uri, ...rest } = ctx.body;
      ctx.body = rest;
    }
    return undefined;
  });
}

// Curity rotates the RAT on every read too, not only on updates (Curity
// "DCR management": each GET response carries a new
// registration_access_token and the old one is revoked).
function emulateCurityRotationOnRead(provider) {
  provider.use(async (ctx, next) => {
    const m = ctx.method === 'GET' && ctx.path.match(clientPath);
    const presented = m && bearer(ctx);
    await next();
    if (!m || ctx.status !== 200 || !ctx.body || typeof ctx.body !== 'object') return;
    const clientId = decodeURIComponent(m[1]);
    const old = await provider.RegistrationAccessToken.find(presented);
    if (old) await old.destroy();
    const rat = await new provider.RegistrationAccessToken({ clientId }).save();
    ctx.body = { ...ctx.body, registration_access_token: rat };
  });
}

// Okta's Client Application API (developer.okta.com, "OAuth 2.0 Clients API";
// it "largely follows RFC 7591"): every call carries "Authorization: SSWS
// {api_token}", never a registration access token; POST answers 201 with the
// client, GET and PUT (all settings; "partial updates are not supported")
// answer the client, DELETE answers 204; a bad token is 401 with Okta's error
// object (errorCode E0000011 "Invalid token provided"), an unknown client 404
// (E0000007 "Not found: Resource not found"). Emulated on the provider's own
// registration and RFC 7592 routes: the API token stands in for the IAT on
// POST and for a freshly minted RAT on the client's path, and the RAT and
// registration_client_uri are stripped from every answer.
function emulateOktaAdminAPI(provider) {
  const oktaError = (ctx, status, code, summary) => {
    ctx.status = status;
    ctx.body = { errorCode: code, errorSummary: summary, errorLink: code, errorId: crypto.randomUUID(), errorCauses: [] };
  };
  provider.use(async (ctx, next) => {
    const m = ctx.path.match(clientPath);
    if (ctx.path !== regPath && !m) return next();
    const h = ctx.get('authorization');
    if (h !== `SSWS ${adminToken}`) return oktaError(ctx, 401, 'E0000011', 'Invalid token provided');
    if (m) {
      const clientId = decodeURIComponent(m[1]);
      if (!await provider.Client.find(clientId)) {
        return oktaError(ctx, 404, 'E0000007', `Not found: Resource not found: ${clientId} (OAuth2Client)`);
      }
      const rat = await new provider.RegistrationAccessToken({ clientId }).save();
      ctx.req.headers.authorization = `Bearer ${rat}`;
    } else {
      ctx.req.headers.authorization = `Bearer ${staticIAT}`;
    }
    await next();
    if (ctx.body && typeof ctx.body === 'object') {
      const { registration_access_token: rat, registration_client_uri: uri, ...rest } = ctx.body;
      ctx.body = rest;
    }
    return undefined;
  });
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
  const issuer = `http://${host}:${actual}${issuerPath}`;
  const provider = startProvider(issuer);
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (!issuerPath) return callback(req, res);
    if (req.url !== issuerPath && !req.url.startsWith(`${issuerPath}/`) && !req.url.startsWith(`${issuerPath}?`)) {
      res.statusCode = 404; // nothing lives outside the issuer's path
      return res.end();
    }
    req.originalUrl = req.url;
    req.url = req.url.slice(issuerPath.length) || '/';
    return callback(req, res);
  });
  console.log(JSON.stringify({ listening: issuer }));
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
