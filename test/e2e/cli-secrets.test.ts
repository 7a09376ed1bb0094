/**
 * Backend secrets on the command line (issue 14, "Backends"): taken from a file or an env var,
 * refused as a flag's value, never shown by `--help`. The real logins are in
 * test/backends/cassandra-auth.test.ts and test/backends/elasticsearch-security.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli-process.js';
import { tempDir } from '../helpers.js';

const SECRET = 'cli-secret-never-printed';

describe('backend secrets in the CLI', () => {
  it('--help names the env vars of the secrets, never their values', async () => {
    const env = { IMPRINT_CASSANDRA_PASSWORD: SECRET, IMPRINT_ES_PASSWORD: SECRET, IMPRINT_ES_API_KEY: SECRET, IMPRINT_CASSANDRA_PASSWORD_FILE: `/run/${SECRET}` };
    for (const verb of ['serve', 'janitor']) {
      const help = await runCli([verb, '--help'], env);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('--cassandra-password-file <file>');
      expect(help.stdout).toContain('IMPRINT_CASSANDRA_PASSWORD');
      expect(help.stdout + help.stderr).not.toContain(SECRET);
    }
    const serve = await runCli(['serve', '--help'], env);
    for (const flag of ['--es-api-key-file <file>', '--es-username <user>', '--es-password-file <file>', '--es-ca <file>', '--cassandra-tls-ca <file>']) expect(serve.stdout).toContain(flag);
  });

  for (const flag of ['--cassandra-password', '--es-password', '--es-api-key']) {
    it(`${flag} VALUE on the command line is refused before anything starts, without echoing it`, async () => {
      const r = await runCli(['--data-dir', tempDir(), 'serve', '--port', '0', flag, SECRET]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`invalid argument: ${flag.slice(2)} is never taken on the command line`);
      expect(r.stderr + r.stdout).not.toContain(SECRET);
    });
  }

  it('a password file and its env var both set: refused, naming both', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'pw');
    fs.writeFileSync(file, SECRET);
    const r = await runCli(['--data-dir', dir, 'janitor', '--once', '--store', 'cassandra', '--cassandra-contact-points', '127.0.0.1:1', '--cassandra-local-dc', 'dc1', '--cassandra-username', 'imprint', '--cassandra-password-file', file], { IMPRINT_CASSANDRA_PASSWORD: SECRET });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/invalid argument: cassandra-password-file must not be given with IMPRINT_CASSANDRA_PASSWORD set/);
    expect(r.stderr + r.stdout).not.toContain(SECRET);
  });
});
