import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mintToken } from '../adapters/http/auth.ts';
import { idProblem } from '../domain/shared.ts';
import { ConfigError, maxTokenTtlSeconds } from './config.ts';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    roles: { type: 'string', default: 'customer' },
    name: { type: 'string' },
    email: { type: 'string' },
    ttl: { type: 'string' },
  },
});

const fail = (message: string): never => {
  process.stderr.write(
    `${message}\nusage: npm run token -- --sub ID --roles customer[,instructor,admin,auditor] [--name N] [--email E] [--ttl SECONDS: default 86400, at most AUTH_MAX_TOKEN_TTL_SECONDS]\n`,
  );
  process.exit(2);
};

const sub = values.sub ?? fail('--sub is required');
const subProblem = idProblem(sub);
if (subProblem !== undefined) fail(`--sub ${subProblem}`);
const roles = (values.roles ?? '')
  .split(',')
  .map((r) => r.trim())
  .filter(Boolean);
const bad = roles.filter((r) => !['admin', 'instructor', 'customer', 'auditor'].includes(r));
if (roles.length === 0 || bad.length > 0) fail(`unknown role(s): ${bad.join(', ') || '(none given)'}`);
// The server refuses tokens that live longer than AUTH_MAX_TOKEN_TTL_SECONDS (24 hours unless set): never mint one.
const maxTtl = (() => {
  try {
    return maxTokenTtlSeconds(process.env);
  } catch (error) {
    return fail(error instanceof ConfigError ? error.message : String(error));
  }
})();
const ttl = values.ttl === undefined ? Math.min(24 * 3600, maxTtl) : Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) fail('--ttl must be a positive whole number of seconds');
if (ttl > maxTtl) fail(`--ttl ${ttl} is longer than the server accepts (AUTH_MAX_TOKEN_TTL_SECONDS=${maxTtl})`);

const configured = process.env.AUTH_JWT_SECRET?.trim();
const devFile = join(resolve(process.env.DATA_DIR?.trim() || './data'), 'dev-jwt-secret');
const secret =
  configured ||
  (existsSync(devFile)
    ? readFileSync(devFile, 'utf8').trim()
    : fail(`AUTH_JWT_SECRET is not set and there is no dev secret at ${devFile} (start the server once)`));

const token = await mintToken(
  new TextEncoder().encode(secret),
  {
    sub,
    roles,
    name: values.name,
    email: values.email,
  },
  ttl,
);
process.stdout.write(`${token}\n`);
