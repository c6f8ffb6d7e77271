// End-to-end encryption of the in-call chat, with WebCrypto only.
//
// Each side makes an ECDH P-256 key pair for the call (the private key cannot be exported) and
// sends the raw public key to the other over the call's signaling topic. Both derive the same
// AES-GCM 256 key (ECDH bits -> HKDF-SHA-256, salted with both public keys and bound to the
// call id). Every message is encrypted with a fresh random 12-byte IV; the additional data
// binds it to the call and its sender, so the server cannot replay it elsewhere or as someone
// else. The server stores and relays ciphertext only: the plaintext never leaves the browser.
//
// The safety code: SHA-256 over the two raw public keys (sorted, so both sides agree), shown as
// three groups of four digits. If both people read the same code, nobody sits in the middle.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** @param {ArrayBuffer|Uint8Array} buffer */
export function toBase64(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  let binary = '';
  for (let index = 0; index < bytes.length; index += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(binary);
}

/** @param {string} text @returns {Uint8Array} */
export function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

function compareBytes(a, b) {
  for (let index = 0; index < Math.min(a.length, b.length); index += 1) {
    if (a[index] !== b[index]) return a[index] - b[index];
  }
  return a.length - b.length;
}

function sorted(a, b) {
  const [first, second] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined;
}

/** This side's key pair for a call. @returns {Promise<{keyPair: CryptoKeyPair, publicRaw: Uint8Array}>} */
export async function createIdentity() {
  const keyPair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey('raw', keyPair.publicKey));
  return { keyPair, publicRaw };
}

/**
 * The shared message key and the safety code, from my identity and the other side's raw key.
 * @param {{keyPair: CryptoKeyPair, publicRaw: Uint8Array}} identity
 * @param {Uint8Array} peerRaw @param {number} callId
 * @returns {Promise<{key: CryptoKey, safetyCode: string, peerRaw: Uint8Array}>}
 */
export async function deriveSession(identity, peerRaw, callId) {
  const peerKey = await crypto.subtle.importKey('raw', peerRaw, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const bits = await crypto.subtle.deriveBits({ name: 'ECDH', public: peerKey }, identity.keyPair.privateKey, 256);
  const both = sorted(identity.publicRaw, peerRaw);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', both));
  const material = await crypto.subtle.importKey('raw', bits, 'HKDF', false, ['deriveKey']);
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: digest, info: encoder.encode(`atende call ${callId} chat`) },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
  return { key, safetyCode: safetyCodeOf(digest), peerRaw };
}

/** Three groups of four digits from the first 12 bytes of the digest. @param {Uint8Array} digest */
function safetyCodeOf(digest) {
  const view = new DataView(digest.buffer, digest.byteOffset, digest.byteLength);
  const groups = [0, 4, 8].map((offset) => String(view.getUint32(offset) % 10_000).padStart(4, '0'));
  return groups.join(' ');
}

function additionalData(callId, senderId) {
  return encoder.encode(`atende call ${callId} from ${senderId}`);
}

/**
 * @param {CryptoKey} key @param {string} text @param {{callId: number, senderId: number}} context
 * @returns {Promise<{ciphertext: string, iv: string}>} both base64
 */
export async function encryptText(key, text, { callId, senderId }) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: additionalData(callId, senderId) },
    key,
    encoder.encode(text),
  );
  return { ciphertext: toBase64(sealed), iv: toBase64(iv) };
}

/**
 * Try each key (the current one first: a side that reloaded made a new key pair, and older
 * messages were sealed with the keys before it). Null when none opens it.
 * @param {CryptoKey[]} keys @param {{ciphertext: string, iv: string}} message
 * @param {{callId: number, senderId: number}} context
 */
export async function decryptText(keys, { ciphertext, iv }, { callId, senderId }) {
  let sealed;
  let nonce;
  try {
    sealed = fromBase64(ciphertext);
    nonce = fromBase64(iv);
  } catch {
    return null;
  }
  for (const key of keys) {
    try {
      const opened = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonce, additionalData: additionalData(callId, senderId) },
        key,
        sealed,
      );
      return decoder.decode(opened);
    } catch {
      // Not this key; try the next.
    }
  }
  return null;
}
