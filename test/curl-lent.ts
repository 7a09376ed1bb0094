/**
 * The "any language" proof, shared by test/e2e/curl-lent.test.ts (the embedded store) and
 * test/backends/s3-lent-urls.test.ts (MinIO): grpcurl for the RPCs, curl for the bytes, and
 * nothing of this repository's client.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureGrpcurl } from '../scripts/tools.js';

const run = promisify(execFile);

interface Begun {
  uploadId: string;
  pointer: Record<string, unknown>;
  targets: { region: string; multipart?: boolean; parts: { url: string; headers?: Record<string, string> }[] }[];
}

/** A grpcurl call (plaintext, reflection) with `body`; its answer as JSON. */
export async function grpcurl<T>(address: string, method: string, body: object): Promise<T> {
  const bin = await ensureGrpcurl();
  return JSON.parse((await run(bin, ['-plaintext', '-d', JSON.stringify(body), address, method])).stdout) as T;
}

/** curl, failing on an HTTP error; its stdout. */
export async function curl(...args: string[]): Promise<string> {
  return (await run('curl', ['-sS', '--fail-with-body', ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

/**
 * Publishes `file` to `topic` and downloads it again to `dir`, with grpcurl and curl only:
 * 1. size and sha256 (sha256sum); 2. BeginUpload; 3. curl -T to every region's URL with its
 * headers; 4. Publish the pointer as given; 5. GetDownload; 6. curl -o of the first URL, and a
 * range of it. Returns the downloaded file, the range's bytes and the version.
 */
export async function curlRoundTrip(address: string, topic: string, file: string, dir: string): Promise<{ downloaded: string; range: Buffer; version: string; regions: string[] }> {
  // 1.
  const size = fs.statSync(file).size;
  const sha256 = (await run('sha256sum', [file])).stdout.split(' ')[0] ?? '';
  // 2.
  const begun = await grpcurl<Begun>(address, 'imprint.v1.PublisherService/BeginUpload', { topic, size: String(size), sha256 });
  // 3.
  for (const target of begun.targets) {
    if (target.multipart) throw new Error('curlRoundTrip sends single PUTs: keep the payload under the part size');
    for (const part of target.parts) {
      const headers = Object.entries(part.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
      await curl('-X', 'PUT', '-T', file, ...headers, part.url);
    }
  }
  // 4.
  const published = await grpcurl<{ record: { version: string } }>(address, 'imprint.v1.PublisherService/Publish', { topic, pointer: begun.pointer });
  // 5.
  const down = await grpcurl<{ urls: { region: string; url: string }[]; size: string; sha256: string }>(address, 'imprint.v1.ConsumerService/GetDownload', { topic, version: published.record.version });
  // 6.
  const downloaded = path.join(dir, 'downloaded.bin');
  const first = down.urls[0]?.url ?? '';
  await curl('-o', downloaded, first);
  const range = path.join(dir, 'range.bin');
  await curl('-r', '100-115', '-o', range, first);
  return { downloaded, range: fs.readFileSync(range), version: published.record.version, regions: down.urls.map((u) => u.region) };
}
