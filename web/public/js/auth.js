// @ts-check
/**
 * Passkeys in the browser, with @simplewebauthn/browser: enrolment with a one-time code
 * (register a passkey, then sign in with it), and sign-in.
 */
import { browserSupportsWebAuthn, startAuthentication, startRegistration, WebAuthnError } from '@simplewebauthn/browser';
import { ApiError, authPost, session } from './api.js';

export { browserSupportsWebAuthn };

/**
 * The browser's own refusals, in words a person understands.
 * @param {unknown} err
 */
function ceremonyError(err) {
  if (err instanceof ApiError) return err;
  if (err instanceof WebAuthnError || (err instanceof Error && err.name === 'NotAllowedError')) {
    const name = err instanceof WebAuthnError ? err.code : err.name;
    if (name === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') return new ApiError('PASSKEY_EXISTS', 'This device already holds a passkey for this account.');
    return new ApiError('CEREMONY', 'The passkey prompt was cancelled or timed out. Please try again.');
  }
  return new ApiError('CEREMONY', 'Your browser could not use a passkey here.');
}

/**
 * Registers a passkey with an enrolment code, then signs in with it.
 * @param {string} code
 * @param {string} username
 */
export async function enrol(code, username) {
  const optionsJSON = await authPost('/auth/webauthn/register/options', { code: code.trim(), username: username.trim() });
  let response;
  try {
    response = await startRegistration({ optionsJSON });
  } catch (err) {
    throw ceremonyError(err);
  }
  await authPost('/auth/webauthn/register/verify', { username: username.trim(), response });
  await signIn(username);
}

/**
 * Signs in with a passkey; keeps the session for this tab. The passkey says who it is
 * (a discoverable credential): the username is optional, and when given the server
 * only checks that the passkey belongs to it.
 * @param {string} [username]
 */
export async function signIn(username = '') {
  const name = username.trim();
  const optionsJSON = await authPost('/auth/webauthn/login/options', {});
  let response;
  try {
    response = await startAuthentication({ optionsJSON });
  } catch (err) {
    throw ceremonyError(err);
  }
  const tokens = await authPost('/auth/webauthn/login/verify', name ? { username: name, response } : { response });
  session.save(tokens, tokens.username ?? name);
}
