/**
 * The witness's HTTP listener (node:http, nothing else: a witness is small enough to be
 * audited by its operator). Routes:
 *
 *   POST /add-checkpoint   C2SP tlog-witness (protocol.ts, witness.ts)
 *   GET  /healthz          {"status":"up","name","verifierKey","logs":[{origin,size}]}
 *
 * Refusals are the spec's status codes; a 409 body is the witness's size as
 * text/x.tlog.size, every other refusal is JSON {"code","message"} — never a stack.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADD_CHECKPOINT_PATH, MAX_REQUEST_BYTES, TLOG_SIZE_CONTENT_TYPE, WitnessRequestError, parseAddCheckpointRequest } from './protocol';
import type { Witness, WitnessAnswer } from './witness';

export interface WitnessLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const CODES: Record<number, string> = { 400: 'BAD_REQUEST', 403: 'FORBIDDEN', 404: 'UNKNOWN_LOG', 405: 'METHOD_NOT_ALLOWED', 413: 'TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 422: 'BAD_PROOF', 500: 'INTERNAL' };

class TooLarge extends Error {}

export function createWitnessServer(witness: Witness, log?: WitnessLogger): http.Server {
  const server = http.createServer((req, res) => {
    handle(witness, req, res, log).catch((err: unknown) => {
      log?.error({ err: err instanceof Error ? err.message : String(err) }, 'witness request failed');
      if (!res.headersSent) sendError(res, 500, 'internal error');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000; // longer than clients keep theirs (common/lifecycle.ts)
  server.headersTimeout = 66_000;
  server.requestTimeout = 10_000;
  return server;
}

export function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

async function handle(witness: Witness, req: http.IncomingMessage, res: http.ServerResponse, log?: WitnessLogger): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://witness');
  if (url.pathname === '/healthz' && req.method === 'GET') {
    const logs = witness.origins.map((origin) => ({ origin, size: witness.state(origin)?.size ?? 0 }));
    return sendJson(res, 200, { status: 'up', name: witness.signer.name, verifierKey: witness.signer.verifierKey, logs });
  }
  if (url.pathname !== ADD_CHECKPOINT_PATH) return sendError(res, 404, 'not found', 'NOT_FOUND');
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    return sendError(res, 405, 'use POST');
  }
  let body: string;
  try {
    body = await readBody(req);
  } catch (err) {
    if (err instanceof TooLarge) return sendError(res, 413, `request body over ${MAX_REQUEST_BYTES} bytes`);
    return sendError(res, 400, 'request body is not valid UTF-8');
  }
  let answer: WitnessAnswer;
  try {
    answer = await witness.addCheckpoint(parseAddCheckpointRequest(body));
  } catch (err) {
    if (err instanceof WitnessRequestError) return sendError(res, 400, err.message);
    throw err;
  }
  if (answer.status === 200) {
    log?.info({ size: answer.size, timestamp: answer.timestamp }, 'cosigned');
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(answer.lines.map((line) => `${line}\n`).join(''));
    return;
  }
  log?.warn({ status: answer.status, reason: answer.reason }, 'refused a checkpoint');
  if (answer.status === 409) {
    res.writeHead(409, { 'content-type': TLOG_SIZE_CONTENT_TYPE });
    res.end(`${answer.size}\n`);
    return;
  }
  sendError(res, answer.status, answer.reason);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_REQUEST_BYTES) {
        reject(new TooLarge());
        req.resume(); // drain, so the 413 can be sent on this connection
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
  });
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
}

function sendError(res: http.ServerResponse, status: number, message: string, code = CODES[status] ?? 'ERROR'): void {
  sendJson(res, status, { code, message });
}
