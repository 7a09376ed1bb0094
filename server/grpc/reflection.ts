/**
 * Server reflection, so grpcurl and other tools can list and call the services. It serves
 * the contract as a stock protoc compiled it (proto/gen/descriptor-set.binpb, made by
 * `npm run gen` and checked current by `npm test`): the .proto files' own names, snake_case
 * fields with their json_name, proto3 optional fields as protoc marks them, map entries named
 * as protoc names them. The standard health service is in the same set.
 */
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { descriptorSetPath } from '../../proto/loader.js';

/** protoc's FileDescriptorProtos of the contract and the health service, one encoded buffer per file. */
export function contractFileDescriptors(): Buffer[] {
  const set = descriptor.FileDescriptorSet.decode(fs.readFileSync(descriptorSetPath())) as unknown as { file: unknown[] };
  return set.file.map((f) => Buffer.from(descriptor.FileDescriptorProto.encode(f as Parameters<typeof descriptor.FileDescriptorProto.encode>[0]).finish()));
}

export function addReflection(server: grpc.Server): void {
  // The reflection service reads only the `fileDescriptorProtos` of each entry.
  const files = { 'imprint.v1': { format: 'Protocol Buffer 3 FileDescriptorProto', fileDescriptorProtos: contractFileDescriptors() } };
  new ReflectionService(files as unknown as protoLoader.PackageDefinition).addToServer(server);
}
