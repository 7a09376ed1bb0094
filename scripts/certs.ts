/**
 * Certificates made at test (or bench) time with the openssl CLI: a CA, and certificates it issues with
 * the names a test needs (SAN DNS, IP, URI, a CN), valid now or expired. `openssl ca` rather
 * than `x509 -req`: OpenSSL 3.0's x509 cannot date a certificate in the past.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL = fs.existsSync('/usr/bin/openssl') ? '/usr/bin/openssl' : 'openssl';

export interface IssuedCert {
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM text of the certificate and of its key. */
  readonly cert: string;
  readonly key: string;
}

export interface CertNames {
  readonly cn?: string;
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  readonly uris?: readonly string[];
  /** Valid from 2020-01-01 to 2020-01-02: long expired. @default false */
  readonly expired?: boolean;
  /** Days it is valid from now (when not `expired`). @default 1 */
  readonly days?: number;
}

export interface TestCa {
  readonly dir: string;
  /** The CA certificate (PEM file and text). */
  readonly caFile: string;
  readonly ca: string;
  /** Issues a certificate named `file` (FILE.pem, FILE-key.pem in the CA's dir). */
  issue(file: string, names: CertNames): Promise<IssuedCert>;
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  await run(OPENSSL, args, { cwd });
}

/** A CA in `dir` (created), with CN `name`. */
export async function makeCa(dir: string, name: string): Promise<TestCa> {
  fs.mkdirSync(path.join(dir, 'newcerts'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '01\n');
  fs.writeFileSync(
    path.join(dir, 'ca.cnf'),
    `[ca]
default_ca = test_ca
[test_ca]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = optional
organizationName = optional
`,
  );
  const caKey = path.join(dir, 'ca-key.pem');
  const caFile = path.join(dir, 'ca.pem');
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', `/CN=${name}`], dir);
  // `openssl ca` keeps a database and a serial file: one issue at a time per CA.
  let queue: Promise<unknown> = Promise.resolve();
  const issue = async (file: string, names: CertNames): Promise<IssuedCert> => {
      const keyFile = path.join(dir, `${file}-key.pem`);
      const certFile = path.join(dir, `${file}.pem`);
      const csr = path.join(dir, `${file}.csr`);
      const ext = path.join(dir, `${file}.ext`);
      const san = [...(names.dns ?? []).map((d) => `DNS:${d}`), ...(names.ips ?? []).map((i) => `IP:${i}`), ...(names.uris ?? []).map((u) => `URI:${u}`)];
      fs.writeFileSync(ext, `[v3]\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = serverAuth, clientAuth\n${san.length ? `subjectAltName = ${san.join(',')}\n` : ''}`);
      const subject = names.cn === undefined ? '/O=imprint-test' : `/O=imprint-test/CN=${names.cn}`;
      await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', subject], dir);
      const dates = names.expired ? ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z'] : ['-days', String(names.days ?? 1)];
      await openssl(['ca', '-batch', '-config', path.join(dir, 'ca.cnf'), '-rand_serial', '-notext', '-cert', caFile, '-keyfile', caKey, '-in', csr, '-out', certFile, '-extfile', ext, '-extensions', 'v3', ...dates], dir);
      return { certFile, keyFile, cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
  };
  return {
    dir,
    caFile,
    ca: fs.readFileSync(caFile, 'utf8'),
    issue(file, names) {
      const next = queue.then(() => issue(file, names));
      queue = next.catch(() => undefined);
      return next;
    },
  };
}

/** What most TLS tests use: a CA, a server certificate for localhost/127.0.0.1, and another CA. */
export interface TestPki {
  readonly ca: TestCa;
  readonly server: IssuedCert;
  /** A CA the server does not trust. */
  readonly otherCa: TestCa;
}

export async function makePki(dir: string): Promise<TestPki> {
  const [ca, otherCa] = await Promise.all([makeCa(path.join(dir, 'ca'), 'Imprint Test CA'), makeCa(path.join(dir, 'other-ca'), 'Other CA')]);
  const server = await ca.issue('server', { cn: 'imprint.test', dns: ['imprint.test', 'localhost'], ips: ['127.0.0.1'] });
  return { ca, server, otherCa };
}
