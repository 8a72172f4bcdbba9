// The OpenID Connect provider the single sign-on tests sign in through: the npm package
// oidc-provider, on a loopback port the system picks, with the people of a JSON file.
//
//   node tests/sso/provider.mjs ACCOUNTS.json CLIENT_ID CLIENT_SECRET REDIRECT_URI
//
// Prints one line, the issuer URL, once it listens. ACCOUNTS.json maps a login to its
// claims ({"alice": {"email": ..., "email_verified": true, "groups": [...]}}); it is read
// on every request, so a test changes someone's groups by rewriting it.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const [accountsFile, clientId, clientSecret, redirectUri] = process.argv.slice(2);

function account(login) {
  const people = JSON.parse(readFileSync(accountsFile, 'utf8'));
  return Object.hasOwn(people, login) ? people[login] : undefined;
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'sso-tests', use: 'sig', alg: 'RS256' };

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      groups: ['groups'],
    },
    async findAccount(_ctx, login) {
      if (!account(login)) return undefined;
      return {
        accountId: login,
        async claims() {
          return { sub: login, preferred_username: login, ...account(login) };
        },
      };
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${issuer}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
