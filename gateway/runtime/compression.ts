/**
 * Compressed answers when the client asks (Accept-Encoding: gzip, deflate, br): GraphQL
 * and FHIR JSON, the ledger's JSON and the portal's files. A list page of patients with
 * their lab results is hundreds of kilobytes of repetitive JSON, and shrinks several-fold.
 *
 * Not compressed: bodies under THRESHOLD_BYTES (the headers would cost more than they
 * save), and /auth, whose answers are small and carry tokens — secrets are kept out of
 * compressed bodies that might also reflect caller input (BREACH).
 */
import compression from 'compression';
import type { Request, RequestHandler, Response } from 'express';

export const THRESHOLD_BYTES = 1024;

const exempt = (req: Request) => req.path === '/auth' || req.path.startsWith('/auth/');

export function compressAnswers(): RequestHandler {
  return compression({
    threshold: THRESHOLD_BYTES,
    filter: (req: Request, res: Response) => !exempt(req) && compression.filter(req, res),
  });
}
