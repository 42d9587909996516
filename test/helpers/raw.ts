// rawRequest: sends bytes exactly as given (one character = one byte, Latin-1) on a new TCP connection and reads one answer (status,
// headers, body by Content-Length), for requests fetch() cannot make (no Host, OPTIONS *, CONNECT).
import net from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection after the answer. */
  closed: boolean;
}

/** Resolves once a complete answer has arrived, or rejects when the connection ends without one. */
export function rawRequest(url: string, text: string): Promise<RawAnswer> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), hostname, () => sock.write(Buffer.from(text, 'latin1')));
    let data = Buffer.alloc(0);
    let answer: RawAnswer | undefined;
    const parse = () => {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const [line, ...rest] = data.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const h of rest) headers[h.slice(0, h.indexOf(':')).toLowerCase()] = h.slice(h.indexOf(':') + 1).trim();
      const length = Number(headers['content-length'] ?? 0);
      if (data.length < end + 4 + length) return undefined;
      return { status: Number(line!.split(' ')[1]), headers, body: data.subarray(end + 4, end + 4 + length).toString('utf8'), closed: false };
    };
    sock.on('data', (d) => {
      data = Buffer.concat([data, d]);
      answer ??= parse();
      // A keep-alive answer is complete without a close: done.
      if (answer && answer.headers.connection !== 'close') (sock.destroy(), resolve(answer));
    });
    sock.on('error', reject);
    sock.on('close', () => (answer ? resolve({ ...answer, closed: true }) : reject(new Error(`no answer: ${JSON.stringify(data.toString('latin1'))}`))));
  });
}
