/**
 * Server reflection, so grpcurl can list and call the service. Two repairs on the way:
 * protobufjs names a map field's entry type after the field ("Metadata") where protoc and
 * Go's descriptor checks require "MetadataEntry" (grpcurl refuses such descriptors;
 * fullstorydev/grpcurl#519), and the health service is described alongside ours.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import descriptor from 'protobufjs/ext/descriptor/index.js';

interface DescriptorMessage {
  name: string;
  field?: { name: string; typeName?: string }[];
  nestedType?: DescriptorMessage[];
  options?: { mapEntry?: boolean };
}

function camel(fieldName: string): string {
  return fieldName.replace(/(?:^|_)([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Renames map entry types to protoc's `<Field>Entry` and points their fields at the new names. */
function fixMessage(m: DescriptorMessage): void {
  const nested = m.nestedType ?? [];
  for (const n of nested) fixMessage(n);
  for (const f of m.field ?? []) {
    if (!f.typeName) continue;
    const last = f.typeName.split('.').pop() ?? '';
    const entry = nested.find((n) => n.options?.mapEntry && n.name === last);
    if (!entry) continue;
    const fixed = `${camel(f.name)}Entry`;
    entry.name = fixed;
    f.typeName = f.typeName.slice(0, f.typeName.length - last.length) + fixed;
  }
}

function fixFile(buf: Buffer): Buffer {
  const fd = descriptor.FileDescriptorProto.decode(buf) as unknown as { messageType?: DescriptorMessage[] };
  for (const m of fd.messageType ?? []) fixMessage(m);
  return Buffer.from(descriptor.FileDescriptorProto.encode(fd as unknown as Parameters<typeof descriptor.FileDescriptorProto.encode>[0]).finish());
}

/** A copy of the package definition whose file descriptors pass protoc's (and grpcurl's) checks. */
function repaired(def: protoLoader.PackageDefinition): protoLoader.PackageDefinition {
  const cache = new Map<Buffer, Buffer>();
  const fix = (b: Buffer) => {
    let f = cache.get(b);
    if (!f) {
      f = fixFile(b);
      cache.set(b, f);
    }
    return f;
  };
  const out: protoLoader.PackageDefinition = {};
  for (const [name, entry] of Object.entries(def)) {
    if ('fileDescriptorProtos' in entry && Array.isArray(entry.fileDescriptorProtos)) {
      out[name] = { ...entry, fileDescriptorProtos: entry.fileDescriptorProtos.map(fix) } as typeof entry;
    } else {
      out[name] = entry;
    }
  }
  return out;
}

export function addReflection(server: grpc.Server, def: protoLoader.PackageDefinition): void {
  const health = protoLoader.loadSync(healthProtoPath, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  new ReflectionService(repaired({ ...def, ...health })).addToServer(server);
}
