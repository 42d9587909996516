// Bounds the parsing work one response of a target or webhook receiver can cost. undici 7's
// HTTP/1.1 parser (llhttp) checks `maxHeaderSize` after each header field and destroys the
// socket when it is passed, but its callbacks still return 0, so llhttp goes on through the
// rest of the read, building one HeadersOverflowError per remaining field: 100,000 header
// lines in one write held the event loop for ~75 ms per response. Newer undici returns -1 from
// that check, which stops llhttp at once; `guardParser` gives undici 7's parser the same stop,
// and a field-count cap. Bodies are bounded in deliver.ts (bytes, and pieces per byte).
import type { Socket } from 'node:net';

/** Bytes of a response's header section (or trailers) parsed at most (undici's maxHeaderSize). */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Header fields (or trailer fields) of one response parsed at most. */
export const MAX_HEADER_FIELDS = 256;

/** Why a connection was dropped while its response headers were parsed; `code` AQ_HEADERS_TOO_LARGE. */
export class HeadersTooLargeError extends Error {
  override name = 'HeadersTooLargeError';
  readonly code = 'AQ_HEADERS_TOO_LARGE';
  constructor() {
    super(`response headers over ${MAX_HEADER_BYTES / 1024} KiB or ${MAX_HEADER_FIELDS} fields; connection dropped`);
  }
}

interface UndiciParser {
  socket: Socket;
  headers: unknown[];
  onHeaderField(buf: Buffer): number;
  onHeaderValue(buf: Buffer): number;
}

const PATCHED = Symbol('aq.parseGuard');

/** Makes a parser stop at once (return -1 to llhttp) once its socket is gone or a cap is passed. */
function patch(proto: UndiciParser & { [PATCHED]?: true }): void {
  if (proto[PATCHED]) return;
  proto[PATCHED] = true;
  const field = proto.onHeaderField;
  const value = proto.onHeaderValue;
  proto.onHeaderField = function (this: UndiciParser, buf: Buffer) {
    const r = field.call(this, buf);
    // `headers` holds name, value, name, value… of the fields parsed so far.
    if (this.headers.length > 2 * MAX_HEADER_FIELDS && !this.socket.destroyed) this.socket.destroy(new HeadersTooLargeError());
    return this.socket.destroyed ? -1 : r;
  };
  proto.onHeaderValue = function (this: UndiciParser, buf: Buffer) {
    const r = value.call(this, buf);
    return this.socket.destroyed ? -1 : r;
  };
}

/**
 * Call on every socket an undici connector hands over. The first time undici reads from it,
 * its parser exists: the parser's class is patched then (once per process). Returns the socket.
 */
export function guardParser<S extends Socket>(socket: S): S {
  const read = socket.read;
  socket.read = function (this: S, size?: number) {
    socket.read = read;
    const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'parser');
    const parser = key && (socket as unknown as Record<symbol, UndiciParser | undefined>)[key];
    const proto = parser && (Object.getPrototypeOf(parser) as UndiciParser);
    if (proto && typeof proto.onHeaderField === 'function' && typeof proto.onHeaderValue === 'function') patch(proto);
    return read.call(this, size);
  } as S['read'];
  return socket;
}
