/**
 * Serves and calls protobuf-es v2 services with grpc-js. grpc-js only needs, per method, a path, two
 * streaming flags and four (de)serializers; the generated service descriptor has all of it, so no
 * proto-loader or protobufjs runtime is involved. The typed helpers derive handler and client signatures
 * from the generated `GenService`, so a handler with the wrong message type does not compile.
 */
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type {
  DescMessage,
  DescMethod,
  DescService,
  Message,
  MessageInitShape,
  MessageShape,
} from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';

export interface ServiceAdapterOptions {
  /**
   * Refuse to serialize or deserialize a message larger than this many bytes. A backstop only: also set
   * the channel options (`grpcMessageSizeOptions`) so grpc-js refuses oversized frames before buffering
   * them and answers RESOURCE_EXHAUSTED; a request refused here is answered as undecodable.
   */
  maxMessageBytes?: number;
  /**
   * The status a request that is not a valid message of its type is answered with (the call ends before
   * its handler sees it). Default: INVALID_ARGUMENT naming the message type. grpc-js itself would answer
   * INTERNAL, which tells a client the server is broken rather than its request.
   */
  refuseUndecodable?: (typeName: string, reason: string) => Partial<grpc.StatusObject>;
}

/** grpc-js channel/server options that bound message size in both directions. */
export function grpcMessageSizeOptions(maxMessageBytes: number): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  };
}

/** The grpc-js definition of a protobuf-es service; methods are keyed by their localName (`checkIn`). */
export function toGrpcService(
  desc: DescService,
  options: ServiceAdapterOptions = {},
): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<Message, Message>> = {};
  for (const method of desc.methods) {
    definition[method.localName] = toMethodDefinition(desc, method, options.maxMessageBytes);
  }
  return definition;
}

function toMethodDefinition(
  desc: DescService,
  method: DescMethod,
  maxMessageBytes: number | undefined,
): grpc.MethodDefinition<Message, Message> {
  const kind = method.methodKind;
  return {
    path: `/${desc.typeName}/${method.name}`,
    requestStream: kind === 'client_streaming' || kind === 'bidi_streaming',
    responseStream: kind === 'server_streaming' || kind === 'bidi_streaming',
    requestSerialize: serializer(method.input, maxMessageBytes),
    requestDeserialize: requestDeserializer(method.input, maxMessageBytes),
    responseSerialize: serializer(method.output, maxMessageBytes),
    responseDeserialize: deserializer(method.output, maxMessageBytes),
    originalName: method.name,
  };
}

function serializer(schema: DescMessage, maxMessageBytes: number | undefined): (value: Message) => Buffer {
  return (value) => {
    // A handler bug that passes the wrong message would otherwise go out as garbage the peer misreads.
    if (value.$typeName !== schema.typeName) {
      throw new Error(`expected a ${schema.typeName} message, got ${String(value.$typeName)}`);
    }
    const bytes = toBinary(schema, value);
    if (maxMessageBytes !== undefined && bytes.length > maxMessageBytes) {
      throw new Error(`${schema.typeName} is ${bytes.length} bytes; the limit is ${maxMessageBytes}`);
    }
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage, maxMessageBytes: number | undefined): (bytes: Buffer) => Message {
  return (bytes) => {
    if (maxMessageBytes !== undefined && bytes.length > maxMessageBytes) {
      throw new Error(`${schema.typeName} is ${bytes.length} bytes; the limit is ${maxMessageBytes}`);
    }
    return fromBinary(schema, bytes);
  };
}

/**
 * Decodes `bytes` as `schema` within `maxMessageBytes`, as the adapter's request deserializer does: the
 * message, or why it is not one. For requests that reach a handler some other way than grpc-js (relayed
 * from a check-in process).
 */
export function decodeRequest<S extends DescMessage>(
  schema: S,
  bytes: Uint8Array,
  maxMessageBytes: number,
): { ok: MessageShape<S> } | { reason: string } {
  try {
    return {
      ok: deserializer(
        schema,
        maxMessageBytes,
      )(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as MessageShape<S>,
    };
  } catch (err) {
    return { reason: err instanceof Error ? err.message : String(err) };
  }
}

/** Why a request stand-in could not be decoded, keyed by the empty message that stands in for it. */
const undecodableRequests = new WeakMap<Message, string>();

/**
 * Why `message` is the stand-in for request bytes that did not decode, or undefined for a real message.
 * Handlers registered through `addService` never see a stand-in.
 */
export function undecodableReason(message: Message): string | undefined {
  return undecodableRequests.get(message);
}

/**
 * A request deserializer that never throws: grpc-js answers a throwing deserializer with INTERNAL, so bytes
 * that do not decode become an empty stand-in message, marked with the reason, for `addService` to refuse.
 */
function requestDeserializer(
  schema: DescMessage,
  maxMessageBytes: number | undefined,
): (bytes: Buffer) => Message {
  const decode = deserializer(schema, maxMessageBytes);
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (err) {
      const standIn = create(schema);
      undecodableRequests.set(standIn, err instanceof Error ? err.message : String(err));
      return standIn;
    }
  };
}

type MethodSpec = GenServiceMethods[string];
type RequestOf<M extends MethodSpec> = MessageShape<M['input']>;
type ResponseOf<M extends MethodSpec> = MessageShape<M['output']>;

/** The grpc-js handler type of one method, derived from its kind and messages. */
export type MethodHandler<M extends MethodSpec> = M['methodKind'] extends 'unary'
  ? grpc.handleUnaryCall<RequestOf<M>, ResponseOf<M>>
  : M['methodKind'] extends 'server_streaming'
    ? grpc.handleServerStreamingCall<RequestOf<M>, ResponseOf<M>>
    : M['methodKind'] extends 'client_streaming'
      ? grpc.handleClientStreamingCall<RequestOf<M>, ResponseOf<M>>
      : grpc.handleBidiStreamingCall<RequestOf<M>, ResponseOf<M>>;

/** One handler per method of the service, keyed by localName (`checkIn`, `agentStream`). */
export type ServiceImplementation<T extends GenServiceMethods> = { [K in keyof T]: MethodHandler<T[K]> };

/** Registers `implementation` for `service` on a grpc-js server. */
export function addService<T extends GenServiceMethods>(
  server: grpc.Server,
  service: GenService<T>,
  implementation: ServiceImplementation<T>,
  options: ServiceAdapterOptions = {},
): void {
  const desc = service as DescService;
  const refuse = options.refuseUndecodable ?? defaultRefusal;
  const guarded: Record<string, grpc.UntypedHandleCall> = {};
  for (const method of desc.methods) {
    const handler = (implementation as Record<string, grpc.UntypedHandleCall>)[method.localName];
    if (handler === undefined) continue;
    guarded[method.localName] = refusingUndecodable(method, handler, (reason) =>
      refuse(method.input.typeName, reason),
    );
  }
  server.addService(toGrpcService(service, options), guarded);
}

function defaultRefusal(typeName: string, reason: string): Partial<grpc.StatusObject> {
  return { code: grpc.status.INVALID_ARGUMENT, details: `the request is not a valid ${typeName}: ${reason}` };
}

type Refusal = (reason: string) => Partial<grpc.StatusObject>;

/** Wraps a handler so that a request stand-in (see requestDeserializer) ends the call with `refusal`. */
function refusingUndecodable(
  method: DescMethod,
  handler: grpc.UntypedHandleCall,
  refusal: Refusal,
): grpc.UntypedHandleCall {
  switch (method.methodKind) {
    case 'unary':
      return (call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
        const reason = undecodableReason(call.request);
        if (reason === undefined) (handler as grpc.handleUnaryCall<Message, Message>)(call, callback);
        else callback(refusal(reason));
      };
    case 'server_streaming':
      return (call: grpc.ServerWritableStream<Message, Message>) => {
        const reason = undecodableReason(call.request);
        if (reason === undefined) (handler as grpc.handleServerStreamingCall<Message, Message>)(call);
        else call.emit('error', refusal(reason));
      };
    case 'client_streaming':
    case 'bidi_streaming':
      return (call: grpc.ServerReadableStream<Message, Message>, callback?: grpc.sendUnaryData<Message>) => {
        refuseUndecodableMessages(call, refusal, callback);
        (handler as (c: typeof call, cb?: typeof callback) => void)(call, callback);
      };
  }
}

/**
 * grpc-js hands each decoded message of a request stream to `push`; a stand-in ends the call there, before
 * any 'data' listener of the handler sees it.
 */
function refuseUndecodableMessages(
  call: grpc.ServerReadableStream<Message, Message>,
  refusal: Refusal,
  callback: grpc.sendUnaryData<Message> | undefined,
): void {
  const push = call.push.bind(call);
  let refused = false;
  call.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (refused) return false;
    const reason = chunk === null ? undefined : undecodableReason(chunk as Message);
    if (reason === undefined) return push(chunk, encoding);
    refused = true;
    // A client stream answers through its callback; a bidi stream ends with an error event.
    if (callback !== undefined) callback(refusal(reason));
    else call.emit('error', refusal(reason));
    return false;
  };
}

export interface ClientCallOptions extends grpc.CallOptions {
  metadata?: grpc.Metadata;
  /** Cancels the call (it then fails with CANCELLED). */
  signal?: AbortSignal;
}

/** The client-side call of one method: unary calls return a promise, streams the grpc-js stream. */
export type ClientMethod<M extends MethodSpec> = M['methodKind'] extends 'unary'
  ? (request: MessageInitShape<M['input']>, options?: ClientCallOptions) => Promise<ResponseOf<M>>
  : M['methodKind'] extends 'server_streaming'
    ? (
        request: MessageInitShape<M['input']>,
        options?: ClientCallOptions,
      ) => grpc.ClientReadableStream<ResponseOf<M>>
    : M['methodKind'] extends 'client_streaming'
      ? (options?: ClientCallOptions) => {
          call: grpc.ClientWritableStream<RequestOf<M>>;
          response: Promise<ResponseOf<M>>;
        }
      : (options?: ClientCallOptions) => grpc.ClientDuplexStream<RequestOf<M>, ResponseOf<M>>;

export interface ServiceClient<T extends GenServiceMethods> {
  /** One call per method, keyed by localName. */
  readonly methods: { [K in keyof T]: ClientMethod<T[K]> };
  /** The underlying grpc-js client (waitForReady, getChannel). */
  readonly client: grpc.Client;
  close(): void;
}

export interface ServiceClientOptions extends ServiceAdapterOptions {
  channelOptions?: grpc.ChannelOptions;
}

/** A typed client for `service` at `address` (host:port). */
export function createServiceClient<T extends GenServiceMethods>(
  service: GenService<T>,
  address: string,
  credentials: grpc.ChannelCredentials,
  options: ServiceClientOptions = {},
): ServiceClient<T> {
  const sizeOptions =
    options.maxMessageBytes === undefined ? {} : grpcMessageSizeOptions(options.maxMessageBytes);
  const client = new grpc.Client(address, credentials, { ...sizeOptions, ...options.channelOptions });
  const desc = service as DescService;
  const methods: Record<string, unknown> = {};
  for (const method of desc.methods) {
    methods[method.localName] = clientMethod(
      client,
      toMethodDefinition(desc, method, options.maxMessageBytes),
      method,
    );
  }
  return {
    methods: methods as ServiceClient<T>['methods'],
    client,
    close: () => client.close(),
  };
}

type Def = grpc.MethodDefinition<Message, Message>;

function clientMethod(client: grpc.Client, def: Def, method: DescMethod): (...args: never[]) => unknown {
  switch (method.methodKind) {
    case 'unary':
      return unaryCaller(client, def, method.input);
    case 'server_streaming':
      return serverStreamCaller(client, def, method.input);
    case 'client_streaming':
      return clientStreamCaller(client, def);
    case 'bidi_streaming':
      return (options: ClientCallOptions = {}) => {
        const { metadata = new grpc.Metadata(), signal, ...callOptions } = options;
        const call = client.makeBidiStreamRequest(
          def.path,
          def.requestSerialize,
          def.responseDeserialize,
          metadata,
          callOptions,
        );
        return cancelOnAbort(call, signal);
      };
  }
}

function unaryCaller(client: grpc.Client, def: Def, input: DescMessage) {
  return (init: MessageInitShape<DescMessage>, options: ClientCallOptions = {}): Promise<Message> => {
    const { metadata = new grpc.Metadata(), signal, ...callOptions } = options;
    return new Promise<Message>((resolve, reject) => {
      const call = client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        create(input, init),
        metadata,
        callOptions,
        (err, response) =>
          err || response === undefined ? reject(err ?? noResponse(def.path)) : resolve(response),
      );
      cancelOnAbort(call, signal);
    });
  };
}

function serverStreamCaller(client: grpc.Client, def: Def, input: DescMessage) {
  return (init: MessageInitShape<DescMessage>, options: ClientCallOptions = {}) => {
    const { metadata = new grpc.Metadata(), signal, ...callOptions } = options;
    const call = client.makeServerStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      create(input, init),
      metadata,
      callOptions,
    );
    return cancelOnAbort(call, signal);
  };
}

function clientStreamCaller(client: grpc.Client, def: Def) {
  return (options: ClientCallOptions = {}) => {
    const { metadata = new grpc.Metadata(), signal, ...callOptions } = options;
    let settle: grpc.requestCallback<Message> = () => undefined;
    const response = new Promise<Message>((resolve, reject) => {
      settle = (err, value) =>
        err || value === undefined ? reject(err ?? noResponse(def.path)) : resolve(value);
    });
    const call = client.makeClientStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      metadata,
      callOptions,
      settle,
    );
    return { call: cancelOnAbort(call, signal), response };
  };
}

function cancelOnAbort<C extends grpc.Call>(call: C, signal: AbortSignal | undefined): C {
  if (signal === undefined) return call;
  if (signal.aborted) {
    call.cancel();
    return call;
  }
  // Callers often share one signal across many calls; drop the listener once this call is over.
  const onAbort = (): void => call.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  call.on('status', () => signal.removeEventListener('abort', onAbort));
  return call;
}

function noResponse(path: string): Error {
  return new Error(`${path} finished without a response message`);
}
