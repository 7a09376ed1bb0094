/**
 * Serving a grpc-js Server on a TCP listener we own, so every accepted connection gets
 * TCP_NODELAY. grpc-js's own bindAsync leaves Nagle's algorithm on for server sockets (its
 * clients turn it off for theirs): with many small answers multiplexed on one HTTP/2
 * connection, an answer can wait for the peer's delayed ACK, tens of milliseconds, which
 * shows in the tail (the fleet bench's p99). Health, reflection and every service added to
 * the Server work as with bindAsync.
 */
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';

export interface Listener {
  /** The port bound (the one picked when 0 was asked for). */
  readonly port: number;
  /** Stops accepting, lets calls under way finish for up to `graceMs`, then cancels them. */
  close(graceMs?: number): Promise<void>;
  /**
   * The connection (its socket) a call came in on, from the call's peer address: the one open
   * connection of this listener from that address and port; undefined when there is none or,
   * rarely, more than one (a client reusing a port towards two of this host's addresses).
   * What an authenticator may keep per connection.
   */
  connectionOf(peer: string): object | undefined;
}

/**
 * Accepts connections on host:port (0: any free port) with TCP_NODELAY and hands them to
 * `server`, which speaks `credentials` on them (TLS is done by grpc-js on the injected socket).
 */
export async function listenNoDelay(server: grpc.Server, host: string, port: number, credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<Listener> {
  const injector = server.createConnectionInjector(credentials);
  // Open connections by peer, as grpc-js names a call's peer (getPeer: "address:port").
  const open = new Map<string, Set<net.Socket>>();
  const tcp = net.createServer({ noDelay: true }, (socket) => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (socket.remoteAddress !== undefined) {
      const sockets = open.get(peer) ?? new Set<net.Socket>();
      sockets.add(socket);
      open.set(peer, sockets);
      socket.once('close', () => {
        sockets.delete(socket);
        if (sockets.size === 0 && open.get(peer) === sockets) open.delete(peer);
      });
    }
    injector.injectConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  const address = tcp.address();
  if (address === null || typeof address === 'string') throw new Error(`listening on ${host}:${port} gave no TCP address`);
  return {
    port: address.port,
    connectionOf: (peer) => {
      const sockets = open.get(peer);
      return sockets?.size === 1 ? sockets.values().next().value : undefined;
    },
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        tcp.close();
        injector.drain(graceMs);
        const timer = setTimeout(() => {
          injector.destroy();
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          injector.destroy();
          resolve();
        });
      }),
  };
}
