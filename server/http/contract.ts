/**
 * The contract as the REST API sees it: one route per RPC of the three services
 * (`POST /v1/<service>/<Method>`, derived from the loaded .proto files, so a new RPC is served
 * and documented without code here), and the proto3 JSON mapping of their messages.
 *
 * Requests: a JSON object is checked against the message type field by field (unknown fields
 * and values of the wrong type are INVALID_ARGUMENT naming the field by its proto name, as
 * the service's own errors do), then encoded and decoded by the very functions grpc-js uses
 * (proto-loader's `requestDeserialize`, LOADER_OPTIONS), so a handler gets exactly the object
 * it gets over gRPC. Answers: the handler's object through protobufjs's toObject with the
 * proto3 JSON options (64-bit integers as decimal strings, bytes base64, enums by name,
 * defaults emitted).
 */
import path from 'node:path';
import type * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { InvalidArgumentError } from '../../core/index.js';
import { loadImprintProto, PROTO_FILES, PROTO_ROOT, wireType } from '../../proto/loader.js';
import { SERVICE_NAMES, type ServiceName } from '../grpc/index.js';

/** One RPC as a REST route. */
export interface RestMethod {
  /** `/v1/publisher/CreateTopic` */
  readonly path: string;
  /** `publisher` */
  readonly service: string;
  readonly serviceName: ServiceName;
  /** The proto's RPC name, `CreateTopic`. */
  readonly method: string;
  /** gRPC's path of the method, `/imprint.v1.PublisherService/CreateTopic`. */
  readonly grpcPath: string;
  /** The messages, as protobufjs holds them with the proto's own (snake_case) field names and comments. */
  readonly requestType: protobuf.Type;
  readonly responseType: protobuf.Type;
  /** Server streaming (Watch): answered as NDJSON. */
  readonly streaming: boolean;
  /** The method's comment in the .proto, when it has one. */
  readonly comment: string | null;
  /** A checked JSON body as the request object grpc-js would hand the handler. */
  parse(body: unknown): unknown;
  /** A handler's answer (or stream message) in the proto3 JSON mapping. */
  toJson(value: unknown): unknown;
}

/** `imprint.v1.PublisherService` -> `publisher` */
export function restServiceName(serviceName: string): string {
  return serviceName.replace(/^.*\./, '').replace(/Service$/, '').toLowerCase();
}

let commented: protobuf.Root | undefined;

/** The contract with the proto's field names and comments (for the JSON check and OpenAPI). */
export function contractRoot(): protobuf.Root {
  if (!commented) {
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => path.join(PROTO_ROOT, target);
    commented = r.loadSync(PROTO_FILES, { keepCase: true, alternateCommentMode: true });
    commented.resolveAll();
  }
  return commented;
}

/** protobufjs's toObject options for the proto3 JSON mapping. */
const JSON_OPTIONS: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, defaults: true, json: true };

let methods: readonly RestMethod[] | undefined;

/** Every RPC of the three services, as routes. */
export function restMethods(): readonly RestMethod[] {
  if (methods) return methods;
  const { def } = loadImprintProto();
  const root = contractRoot();
  const out: RestMethod[] = [];
  for (const serviceName of SERVICE_NAMES) {
    const svc = root.lookupService(serviceName);
    const grpcDef = def[serviceName] as protoLoader.ServiceDefinition;
    for (const m of svc.methodsArray) {
      const requestType = root.lookupType(m.resolvedRequestType?.fullName ?? m.requestType);
      const responseType = root.lookupType(m.resolvedResponseType?.fullName ?? m.responseType);
      const grpcMethod = grpcDef[m.name];
      if (!grpcMethod) throw new Error(`${serviceName}/${m.name} is in the .proto but not in proto-loader's definition`);
      // The camelCase types grpc-js serializes answers with (proto-loader's, LOADER_OPTIONS).
      const answerType = wireType(responseType.fullName.replace(/^\./, ''));
      const service = restServiceName(serviceName);
      out.push({
        path: `/v1/${service}/${m.name}`,
        service,
        serviceName,
        method: m.name,
        grpcPath: grpcMethod.path,
        requestType,
        responseType,
        streaming: Boolean(m.responseStream),
        comment: m.comment,
        parse: (body) => grpcMethod.requestDeserialize(Buffer.from(requestType.encode(requestType.fromObject(checkMessage(requestType, body, ''))).finish())),
        toJson: (value) => answerType.toObject(answerType.fromObject(value as Record<string, unknown>), JSON_OPTIONS),
      });
    }
  }
  methods = out;
  return out;
}

/** The lowerCamelCase JSON name of a proto field name (protoc's rule, protobufjs's util.camelCase). */
export function jsonName(protoName: string): string {
  return protobuf.util.camelCase(protoName);
}

const fieldsByName = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

/** A type's fields by both names a JSON body may use: the proto's and the lowerCamelCase one. */
function fieldsOf(type: protobuf.Type): Map<string, protobuf.Field> {
  let m = fieldsByName.get(type);
  if (!m) {
    m = new Map();
    for (const f of type.fieldsArray) {
      m.set(f.name, f);
      m.set(jsonName(f.name), f);
    }
    fieldsByName.set(type, m);
  }
  return m;
}

const at = (where: string, name: string) => (where ? `${where}.${name}` : name);

/** What was sent, for errors: a scalar itself, else what JSON kind it is. */
function jsonKind(v: unknown): unknown {
  return Array.isArray(v) ? 'an array' : typeof v === 'object' && v !== null ? 'an object' : v;
}

/**
 * A JSON message checked against `type`: the same object with the proto's field names and
 * each value in the form protobufjs's fromObject takes (64-bit integers as decimal strings,
 * bytes as Buffers, enums by name). Throws InvalidArgumentError naming the field (its proto
 * path) on an unknown field, a field given twice (both names), two members of a oneof, or a
 * value of the wrong type or out of range. `null` is the field's default.
 */
export function checkMessage(type: protobuf.Type, value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError(where || 'body', `must be a JSON object (a ${type.name})`, jsonKind(value));
  const fields = fieldsOf(type);
  const out: Record<string, unknown> = {};
  const oneofSet = new Map<string, string>();
  for (const [key, v] of Object.entries(value)) {
    const field = fields.get(key);
    if (!field) throw new InvalidArgumentError(at(where, key), `is not a field of ${type.name}`);
    const name = at(where, field.name);
    if (Object.hasOwn(out, field.name)) throw new InvalidArgumentError(name, `is given twice (as ${field.name} and ${jsonName(field.name)})`);
    if (v === null) continue;
    const oneof = field.partOf;
    if (oneof) {
      const other = oneofSet.get(oneof.name);
      if (other !== undefined) throw new InvalidArgumentError(name, `is one of ${oneof.name} and so is ${other}: set only one`);
      oneofSet.set(oneof.name, field.name);
    }
    out[field.name] = checkField(field, v, name);
  }
  return out;
}

function checkField(field: protobuf.Field, v: unknown, name: string): unknown {
  if (field instanceof protobuf.MapField) {
    if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(name, 'must be a JSON object (a map)', jsonKind(v));
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
      if (field.keyType !== 'string') checkScalar(field.keyType, k, `${name}["${k}"]`);
      out[k] = checkValue(field, e, `${name}["${k}"]`);
    }
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(v)) throw new InvalidArgumentError(name, 'must be a JSON array', jsonKind(v));
    return v.map((e, i) => checkValue(field, e, `${name}[${i}]`));
  }
  return checkValue(field, v, name);
}

function checkValue(field: protobuf.Field, v: unknown, name: string): unknown {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) return checkMessage(t, v, name);
  if (t instanceof protobuf.Enum) {
    if (typeof v === 'string' && Object.hasOwn(t.values, v)) return v;
    if (typeof v === 'number' && Number.isInteger(v) && Object.hasOwn(t.valuesById, v)) return t.valuesById[v];
    throw new InvalidArgumentError(name, `must be one of ${Object.keys(t.values).join(', ')}`, v);
  }
  return checkScalar(field.type, v, name);
}

const INT_RANGES: Record<string, readonly [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

/** Standard or URL-safe base64, padded or not (proto3 JSON takes either). */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function checkScalar(type: string, v: unknown, name: string): unknown {
  switch (type) {
    case 'string':
      if (typeof v !== 'string') throw new InvalidArgumentError(name, 'must be a JSON string', jsonKind(v));
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw new InvalidArgumentError(name, 'must be true or false', v);
      return v;
    case 'bytes':
      if (typeof v !== 'string' || !BASE64.test(v) || v.replace(/=+$/, '').length % 4 === 1) throw new InvalidArgumentError(name, 'must be base64 bytes (a JSON string)', typeof v === 'string' ? v.slice(0, 64) : jsonKind(v));
      return Buffer.from(v, 'base64');
    case 'double':
    case 'float':
      if (typeof v === 'number') return v;
      if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      throw new InvalidArgumentError(name, 'must be a number', v);
  }
  const range = INT_RANGES[type];
  if (!range) throw new InvalidArgumentError(name, `has a type this server cannot read from JSON (${type})`);
  const [min, max] = range;
  const rule = `must be a whole number from ${min} to ${max} (a JSON number or decimal string)`;
  let n: bigint;
  if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && /^-?[0-9]{1,20}$/.test(v)) n = BigInt(v);
  else throw new InvalidArgumentError(name, rule, v);
  if (n < min || n > max) throw new InvalidArgumentError(name, rule, v);
  // fromObject takes 64-bit values as strings (Long.fromValue), 32-bit ones as numbers.
  return max > 2n ** 32n ? n.toString() : Number(n);
}
