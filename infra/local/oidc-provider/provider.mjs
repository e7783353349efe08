// A local OpenID provider for exitus: panva's certified `oidc-provider`, one confidential client, and JWT access
// tokens (RFC 9068) for the exitus resource, issued by the client-credentials grant, and optionally a public client
// that logs a person in through a browser (authorization code with PKCE). Used by docker-compose for local login and
// by tests/interop to check exitus against a real provider. Depends on oidc-provider and node
// built-ins only. Settings come from the environment; see README.md beside this file.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

// Every scope openapi/exitus.yaml declares (tests/interop checks this list against the spec).
const EXITUS_SCOPES = [
  'exitus/customer.admin',
  'exitus/customer.read',
  'exitus/customer.write',
  'exitus/project.read',
  'exitus/project.write',
  'exitus/issue.read',
  'exitus/issue.write',
  'exitus/comment.read',
  'exitus/comment.write',
  'exitus/user.read',
  'exitus/audit.read',
];

function setting(name, fallback) {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    if (fallback === undefined) {
      console.error(`oidc-provider: ${name} is required`);
      process.exit(2);
    }
    return fallback;
  }
  return value.trim();
}

const port = Number(setting('OIDC_PORT', '9400'));
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('oidc-provider: OIDC_PORT must be a port number');
  process.exit(2);
}
const host = setting('OIDC_HOST', '0.0.0.0'); // all interfaces inside a container; tests pass 127.0.0.1
const issuer = setting('OIDC_ISSUER', `http://localhost:${port}`); // exitus compares `iss` with it exactly
const clientId = setting('OIDC_CLIENT_ID', 'exitus-local');
const clientSecret = setting('OIDC_CLIENT_SECRET');
// The resource indicator (RFC 8707) naming exitus: it becomes the token's `aud`. The token also carries
// `client_id`, so exitus accepts it with OAUTH_CLIENT_ID set to either the client id or this resource.
const resource = setting('OIDC_RESOURCE', 'urn:exitus');
const scopes = setting('OIDC_SCOPES', EXITUS_SCOPES.join(' ')).split(/\s+/);
const customerId = process.env.OIDC_CUSTOMER_ID?.trim() ?? ''; // put in tokens as `customer_id`; may be empty
// Optional: a public client (no secret) for a person's login in a browser, e.g. exitus's Swagger UI: authorization
// code with PKCE, at the provider's development login and consent pages (any user name and password are accepted:
// for local use only). Its redirect URIs are space-separated, e.g. http://localhost:8080/ui/oauth2-redirect.html.
const publicClientId = process.env.OIDC_PUBLIC_CLIENT_ID?.trim() ?? '';
const publicRedirectUris = (process.env.OIDC_PUBLIC_REDIRECT_URIS ?? '').split(/\s+/).filter(Boolean);
if (publicClientId && publicRedirectUris.length === 0) {
  console.error('oidc-provider: OIDC_PUBLIC_REDIRECT_URIS is required with OIDC_PUBLIC_CLIENT_ID');
  process.exit(2);
}
// The browser calls the token endpoint from the redirect pages' origins (cross-origin requests): allowed only there.
const publicOrigins = new Set(publicRedirectUris.map((uri) => new URL(uri).origin));
const jwksFile = process.env.OIDC_JWKS_FILE?.trim() ?? '';

function signingKeys() {
  if (jwksFile) {
    return JSON.parse(fs.readFileSync(jwksFile, 'utf8'));
  }
  const jwk = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' }] };
}

// Built at start and again on SIGHUP: oidc-provider reads its keys only when constructed.
function buildProvider() {
  const jwks = signingKeys();
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: scopes.join(' '),
      },
      ...(publicClientId
        ? [
            {
              client_id: publicClientId,
              token_endpoint_auth_method: 'none', // public: PKCE stands in for the secret (required for it)
              grant_types: ['authorization_code'],
              response_types: ['code'],
              redirect_uris: publicRedirectUris,
              scope: scopes.join(' '),
            },
          ]
        : []),
    ],
    clientBasedCORS: (ctx, origin, client) => client.clientId === publicClientId && publicOrigins.has(origin),
    scopes: ['openid', 'offline_access', ...scopes], // published as scopes_supported; a client may only hold these
    jwks,
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    ttl: { ClientCredentials: 3600 },
    features: {
      devInteractions: { enabled: Boolean(publicClientId) }, // the login pages, only for the public client's flow
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // A token request without `resource=` is for exitus.
        defaultResource: async () => resource,
        getResourceServerInfo: async (ctx, indicator) => {
          if (indicator !== resource) {
            throw new errors.InvalidTarget(`unknown resource ${indicator}; this provider serves ${resource}`);
          }
          return {
            scope: scopes.join(' '),
            audience: resource,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    extraTokenClaims: async () => (customerId ? { customer_id: customerId } : undefined),
  });
  return { handle: provider.callback(), kids: jwks.keys.map((key) => key.kid).join(' ') };
}

let current = buildProvider();
const server = http.createServer((request, response) => current.handle(request, response));
server.listen(port, host, () => {
  console.log(`oidc-provider: issuer ${issuer} on ${host}:${port}, client ${clientId}, resource ${resource}`);
  console.log(`oidc-provider: signing keys ${current.kids}`);
});

// Key rotation without a restart: re-read OIDC_JWKS_FILE (or generate a new key) and serve only those keys.
// Tokens signed with a withdrawn key stop verifying once a resource server refetches the JWKS.
process.on('SIGHUP', () => {
  try {
    current = buildProvider();
    console.log(`oidc-provider: reloaded, signing keys ${current.kids}`);
  } catch (error) {
    console.error(`oidc-provider: reload failed, keeping the previous keys: ${error.message}`);
  }
});

// Exit promptly on `docker compose stop` and when a test stops the process (node as PID 1 ignores SIGTERM).
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
