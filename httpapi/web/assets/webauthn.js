// WebAuthn in the browser: the server's options JSON turned into what
// navigator.credentials takes, and the credential it gives back turned into
// JSON for the server. Binary fields travel as base64url without padding;
// the conversion is done here by hand (PublicKeyCredential's own JSON
// helpers are missing from many browsers still in use).

import { LatchkeyError, SessionEndedError } from './latchkey.js';

// passkeysSupported tells whether this browser can make and use passkeys.
export function passkeysSupported() {
  return typeof window.PublicKeyCredential === 'function' &&
    Boolean(navigator.credentials) && typeof navigator.credentials.create === 'function';
}

/** fromB64u decodes base64url (padded or not) to an ArrayBuffer. */
export function fromB64u(s) {
  const b64 = String(s).replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

/** toB64u encodes an ArrayBuffer or a view as base64url without padding. */
export function toB64u(buf) {
  const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function descriptors(list) {
  return (list || []).map((d) => ({ ...d, id: fromB64u(d.id) }));
}

/** creationOptions turns PublicKeyCredentialCreationOptions JSON into the API's form. */
export function creationOptions(o) {
  const pk = { ...o, challenge: fromB64u(o.challenge), user: { ...o.user, id: fromB64u(o.user.id) } };
  if (o.excludeCredentials) pk.excludeCredentials = descriptors(o.excludeCredentials);
  return pk;
}

/** requestOptions turns PublicKeyCredentialRequestOptions JSON into the API's form. */
export function requestOptions(o) {
  const pk = { ...o, challenge: fromB64u(o.challenge) };
  if (o.allowCredentials) pk.allowCredentials = descriptors(o.allowCredentials);
  return pk;
}

/** credentialJSON is a PublicKeyCredential (new or an assertion) as the server reads it. */
export function credentialJSON(cred) {
  const r = cred.response;
  const response = { clientDataJSON: toB64u(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toB64u(r.attestationObject);
    if (typeof r.getTransports === 'function') response.transports = r.getTransports();
  } else {
    response.authenticatorData = toB64u(r.authenticatorData);
    response.signature = toB64u(r.signature);
    if (r.userHandle) response.userHandle = toB64u(r.userHandle);
  }
  const out = {
    id: cred.id,
    rawId: toB64u(cred.rawId),
    type: cred.type,
    response,
    clientExtensionResults: typeof cred.getClientExtensionResults === 'function' ? cred.getClientExtensionResults() : {},
  };
  if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
  return out;
}

/**
 * PasskeyError is a ceremony the browser or the person ended: cancelled,
 * timed out, not verified, or a passkey already on this device. Its
 * message is for the person.
 */
export class PasskeyError extends Error {}

function ceremonyError(err, creating) {
  switch (err && err.name) {
    case 'NotAllowedError':
      return new PasskeyError(creating
        ? 'No passkey was made: it was cancelled, timed out, or your device could not verify you.'
        : 'No passkey was used: it was cancelled, timed out, or your device could not verify you.');
    case 'InvalidStateError':
      return new PasskeyError('This device already holds a passkey for your account.');
    case 'SecurityError':
      return new PasskeyError('Passkeys cannot be used on this address of Latchkey.');
    case 'NotSupportedError':
      return new PasskeyError('This device cannot make a passkey that Latchkey accepts.');
    case 'AbortError':
      return new PasskeyError('The passkey request was cancelled.');
    default:
      return new PasskeyError('Your browser could not use a passkey. Please try again.');
  }
}

/** create runs the registration ceremony; resolves to the credential JSON. */
export async function create(options) {
  let cred;
  try {
    cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
  } catch (err) {
    throw ceremonyError(err, true);
  }
  if (!cred) throw new PasskeyError('No passkey was made.');
  return credentialJSON(cred);
}

/** get runs the authentication ceremony; resolves to the assertion JSON. */
export async function get(options) {
  let cred;
  try {
    cred = await navigator.credentials.get({ publicKey: requestOptions(options) });
  } catch (err) {
    throw ceremonyError(err, false);
  }
  if (!cred) throw new PasskeyError('No passkey was used.');
  return credentialJSON(cred);
}

/** passkeyMessage says what went wrong in a passkey ceremony or its requests. */
export function passkeyMessage(err, describe) {
  if (err instanceof PasskeyError) return err.message;
  if (err instanceof SessionEndedError) return describe(err);
  if (err instanceof LatchkeyError && err.code === 'invalid_credentials') {
    return 'Latchkey did not accept this passkey. It may have been removed, or your device did not verify you.';
  }
  if (err instanceof LatchkeyError && err.code === 'invalid_token') {
    return 'The passkey request expired. Please try again.';
  }
  if (err instanceof LatchkeyError && err.code === 'forbidden') {
    return 'Passkeys are not available on this Latchkey server.';
  }
  return describe(err);
}
