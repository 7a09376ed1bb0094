/**
 * Loads the Imprint contract from proto/imprint/v1 at run time. The options here are the
 * ones the type generator (scripts/gen-proto.ts) is given, so the generated types under
 * proto/gen describe exactly the objects grpc-js hands us.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type { ProtoGrpcType as PublisherProto } from './gen/publisher.js';
import type { ProtoGrpcType as ConsumerProto } from './gen/consumer.js';
import type { ProtoGrpcType as OperatorProto } from './gen/operator.js';

/** Where the .proto files live, whether we run from source or from dist/. */
export const PROTO_ROOT = findProtoRoot();

export const PROTO_FILES = ['imprint/v1/publisher.proto', 'imprint/v1/consumer.proto', 'imprint/v1/operator.proto'];

/**
 * protoc's compilation of PROTO_FILES and the standard health service (with their imports),
 * under proto/gen: what server reflection serves.
 */
export const DESCRIPTOR_SET = 'descriptor-set.binpb';

/** The descriptor set's path. */
export function descriptorSetPath(): string {
  return path.join(PROTO_ROOT, 'gen', DESCRIPTOR_SET);
}

/** protoc's arguments that write the descriptor set to `out` (run in any directory). */
export function descriptorSetArgs(out: string): string[] {
  // grpc-health-check ships .../proto/health/v1/health.proto, imported as "health/v1/health.proto".
  const healthRoot = path.resolve(path.dirname(healthProtoPath), '..', '..');
  return ['-I', PROTO_ROOT, '-I', healthRoot, '--include_imports', `--descriptor_set_out=${out}`, ...PROTO_FILES, path.relative(healthRoot, healthProtoPath)];
}

export const LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
} satisfies protoLoader.Options;

export type ImprintProto = PublisherProto & ConsumerProto & OperatorProto;

let cached: { def: protoLoader.PackageDefinition; proto: ImprintProto } | undefined;

/** The package definition (for reflection) and the typed grpc-js object tree. */
export function loadImprintProto(): { def: protoLoader.PackageDefinition; proto: ImprintProto } {
  if (!cached) {
    const def = protoLoader.loadSync(PROTO_FILES, LOADER_OPTIONS);
    cached = { def, proto: grpc.loadPackageDefinition(def) as unknown as ImprintProto };
  }
  return cached;
}

let root: protobuf.Root | undefined;

/**
 * A message type of the contract as protobufjs holds it: the encoder grpc-js serializes with
 * (through proto-loader), so `encode(fromObject(x)).len` is the exact size `x` takes on the wire.
 */
export function wireType(name: string): protobuf.Type {
  if (!root) {
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => path.join(PROTO_ROOT, target);
    root = r.loadSync(PROTO_FILES);
  }
  return root.lookupType(name);
}

function findProtoRoot(): string {
  // Source: <repo>/proto/loader.ts; built: <repo>/dist/proto/loader.js. The .proto files
  // stay in <repo>/proto either way.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const parts = here.split(path.sep);
  const distAt = parts.lastIndexOf('dist');
  const repo = distAt >= 0 ? parts.slice(0, distAt).join(path.sep) : path.dirname(here);
  return path.join(repo, 'proto');
}
