/**
 * The REST API as an OpenAPI 3.1 document, made at start from the loaded contract
 * (contract.ts): one path per route, every message reached from them a schema in components
 * in the proto3 JSON mapping (64-bit integers as decimal strings with a pattern, bytes as
 * base64 strings, enums as string enums, maps as objects with additionalProperties, a oneof
 * said in its message's description), the .proto comments as descriptions, the error body, and
 * bearer authentication when the server authenticates.
 */
import protobuf from 'protobufjs';
import { jsonName, restMethods } from './contract.js';

/** A JSON Schema (OpenAPI 3.1's dialect), as far as this document uses it. */
export type Schema = Record<string, unknown>;

export interface OpenApiOptions {
  /** Document `Authorization: Bearer <JWT>` on every route. @default false */
  readonly bearer?: boolean;
}

const ERROR_SCHEMA = 'imprint.rest.Error';

const INTEGER: Record<string, Schema> = {
  int32: { type: 'integer', format: 'int32' },
  sint32: { type: 'integer', format: 'int32' },
  sfixed32: { type: 'integer', format: 'int32' },
  uint32: { type: 'integer', format: 'int64', minimum: 0, maximum: 4294967295 },
  fixed32: { type: 'integer', format: 'int64', minimum: 0, maximum: 4294967295 },
  int64: { type: 'string', format: 'int64', pattern: '^-?[0-9]{1,19}$', description: 'a 64-bit integer as a decimal string (a JSON number is accepted in requests)' },
  sint64: { type: 'string', format: 'int64', pattern: '^-?[0-9]{1,19}$', description: 'a 64-bit integer as a decimal string (a JSON number is accepted in requests)' },
  sfixed64: { type: 'string', format: 'int64', pattern: '^-?[0-9]{1,19}$', description: 'a 64-bit integer as a decimal string (a JSON number is accepted in requests)' },
  uint64: { type: 'string', pattern: '^[0-9]{1,20}$', description: 'an unsigned 64-bit integer as a decimal string (a JSON number is accepted in requests)' },
  fixed64: { type: 'string', pattern: '^[0-9]{1,20}$', description: 'an unsigned 64-bit integer as a decimal string (a JSON number is accepted in requests)' },
};

function scalarSchema(type: string): Schema {
  switch (type) {
    case 'string':
      return { type: 'string' };
    case 'bool':
      return { type: 'boolean' };
    case 'bytes':
      return { type: 'string', contentEncoding: 'base64' };
    case 'double':
    case 'float':
      return { type: 'number' };
  }
  return INTEGER[type] ?? {};
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const schemaName = (t: protobuf.ReflectionObject) => t.fullName.replace(/^\./, '');
const describe = (comment: string | null | undefined, s: Schema): Schema => (comment ? { ...s, description: s.description ? `${comment}\n\n(${String(s.description)})` : comment } : s);

/** The document. */
export function openApiDocument(o: OpenApiOptions = {}): Record<string, unknown> {
  const schemas: Record<string, Schema> = {};

  const valueSchema = (field: protobuf.Field): Schema => {
    const t = field.resolvedType;
    if (t instanceof protobuf.Type) return messageRef(t);
    if (t instanceof protobuf.Enum) return { type: 'string', enum: Object.keys(t.values) };
    return scalarSchema(field.type);
  };

  function messageRef(type: protobuf.Type): Schema {
    const name = schemaName(type);
    if (schemas[name]) return ref(name);
    const props: Record<string, Schema> = {};
    schemas[name] = { type: 'object' }; // placeholder: recursive messages refer to it
    for (const f of type.fieldsArray) {
      let s: Schema;
      if (f instanceof protobuf.MapField) s = { type: 'object', additionalProperties: valueSchema(f) };
      else if (f.repeated) s = { type: 'array', items: valueSchema(f) };
      else s = valueSchema(f);
      props[jsonName(f.name)] = describe(f.comment, s);
    }
    // proto3 `optional` fields are synthetic oneofs of one field (`_owner`): not a choice.
    const choices = type.oneofsArray.filter((one) => one.fieldsArray.length > 1 || !one.name.startsWith('_'));
    const oneofs = choices.map((one) => `oneof ${one.name}: at most one of ${one.fieldsArray.map((f) => jsonName(f.name)).join(', ')}`);
    const text = [type.comment, ...oneofs].filter(Boolean).join('\n\n');
    schemas[name] = {
      type: 'object',
      ...(text && { description: text }),
      properties: props,
      additionalProperties: false,
      ...(oneofs.length > 0 && { 'x-oneofs': Object.fromEntries(choices.map((one) => [one.name, one.fieldsArray.map((f) => jsonName(f.name))])) }),
    };
    return ref(name);
  }

  schemas[ERROR_SCHEMA] = {
    type: 'object',
    description: 'An error answer. The HTTP status follows the gRPC code (see the README).',
    required: ['code', 'message'],
    properties: {
      code: { type: 'string', description: "the gRPC status code's name: INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, ..." },
      message: { type: 'string' },
      field: { type: 'string', description: 'the request field the error names (proto field names with paths), when it names one' },
    },
  };
  const errors = { description: 'An error: the HTTP status of its gRPC code', content: { 'application/json': { schema: ref(ERROR_SCHEMA) } } };

  const paths: Record<string, unknown> = {};
  for (const m of restMethods()) {
    const answer = m.streaming
      ? { description: `A stream of ${m.responseType.name} messages, one JSON object per line, sent as they come until the client closes the connection; an error after the first line is the last line, {"error": Error}`, content: { 'application/x-ndjson': { schema: messageRef(m.responseType) } } }
      : { description: m.responseType.name, content: { 'application/json': { schema: messageRef(m.responseType) } } };
    paths[m.path] = {
      post: {
        operationId: `${m.service}.${m.method}`,
        tags: [m.service],
        summary: `${m.serviceName.replace(/^.*\./, '')}.${m.method}`,
        ...(m.comment && { description: m.comment }),
        requestBody: { required: false, description: `${m.requestType.name} (no body: the empty message)`, content: { 'application/json': { schema: messageRef(m.requestType) } } },
        responses: { '200': answer, default: errors },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Imprint REST/JSON API',
      version: 'v1',
      description: 'Every RPC of imprint.v1 PublisherService, ConsumerService and OperatorService as POST /v1/<service>/<Method>, the messages in the proto3 JSON mapping.',
    },
    paths,
    components: {
      schemas,
      ...(o.bearer && { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } }),
    },
    ...(o.bearer && { security: [{ bearer: [] }] }),
  };
}
