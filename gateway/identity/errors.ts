/** Refusals of the sign-in endpoints: an HTTP status, a stable code, a sentence. */
export class AuthError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 410 | 429,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
