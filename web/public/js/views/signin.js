// @ts-check
/** Sign in with a passkey, or enrol a first passkey with an enrolment code. */
import { readable } from '../api.js';
import { browserSupportsWebAuthn, enrol, signIn } from '../auth.js';
import { busy, field, h, notice, replace } from '../dom.js';

/**
 * @param {HTMLElement} main
 * @param {() => void} signedIn
 */
export function renderSignIn(main, signedIn) {
  if (!browserSupportsWebAuthn()) {
    replace(main, h('h1', {}, 'Sign in'), notice('error', 'This browser cannot use passkeys. Please use a current browser.'));
    return;
  }
  // Optional: the passkey itself says who you are; a username only narrows it down.
  const loginName = h('input', { name: 'username', autocomplete: 'username webauthn', autocapitalize: 'none', spellcheck: 'false' });
  const loginStatus = h('div', { class: 'form-status' });
  const loginButton = h('button', { type: 'submit', class: 'primary' }, 'Sign in with a passkey');
  const login = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'signin-title',
      onsubmit: (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        busy(loginButton, async () => {
          replace(loginStatus, notice('info', 'Waiting for your passkey…'));
          try {
            await signIn(loginName.value);
            signedIn();
          } catch (err) {
            replace(loginStatus, notice('error', readable(err)));
          }
        });
      },
    },
    h('h2', { id: 'signin-title' }, 'Sign in'),
    field('Username', loginName, 'Optional: your passkey knows who you are.'),
    loginButton,
    loginStatus,
  );

  const code = h('input', { name: 'code', autocomplete: 'one-time-code', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const newName = h('input', { name: 'new-username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false', minlength: 3 });
  const enrolStatus = h('div', { class: 'form-status' });
  const enrolButton = h('button', { type: 'submit' }, 'Create my passkey');
  const enrolment = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'enrol-title',
      onsubmit: (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        busy(enrolButton, async () => {
          replace(enrolStatus, notice('info', 'Follow your browser’s prompt to create a passkey…'));
          try {
            await enrol(code.value, newName.value);
            signedIn();
          } catch (err) {
            replace(enrolStatus, notice('error', readable(err)));
          }
        });
      },
    },
    h('h2', { id: 'enrol-title' }, 'First time here?'),
    h('p', {}, 'Enter the enrolment code you were given and choose a username. Your device then creates a passkey: no password to remember.'),
    field('Enrolment code', code),
    field('Choose a username', newName, '3 to 64 characters: lower-case letters, digits, dots, dashes or underscores.'),
    enrolButton,
    enrolStatus,
  );
  replace(main, h('h1', {}, 'Welcome to Custodian'), h('div', { class: 'two-up' }, login, enrolment));
  loginName.focus();
}
