// One side of a call's media and keys: the RTCPeerConnection, the signaling over the call's
// socket topic, and the end-to-end key exchange of the chat.
//
// Signaling frames go out as {"action": "call.signal", "call", "kind", "payload"} and come back
// as `calls.signal` events {call_id, from, kind, payload} to everyone subscribed to
// `calls.call.<id>` (our own frames included: they are ignored by `from`).
//
// The relay delivers at most once, and only to sockets subscribed at that moment, so the two
// sides first find each other with their public keys: each sends its key when its subscription
// is confirmed, and answers a key that is not itself a reply with its own. Once the client
// knows the professional is there (it has their key) and the call is accepted, the client makes
// the offer; the professional answers. An offer without an answer is sent again. After a
// reconnect the client restarts ICE (`createOffer({iceRestart: true})`, kind "restart"); after
// the other side reloaded its page (a new key), it starts a new connection.

import { api } from '../api.js';
import { socket } from '../socket.js';
import { createIdentity, deriveSession, fromBase64, toBase64 } from './e2ee.js';

const MEDIA_STATUSES = new Set(['accepted', 'active']);
const OFFER_RESEND_MS = 4_000;
const OFFER_RESENDS = 6;

// The key pair of each call this page has been in: coming back to the call screen without a
// reload keeps it, so the other side's safety code and the chat's key do not change.
const identities = new Map();

/**
 * @param {{call: object, me: object,
 *          onRemoteStream: (stream: MediaStream) => void,
 *          onIceState: (state: string) => void,
 *          onKeys: (info: {safetyCode: string, keys: CryptoKey[]}) => void}} options
 */
export function callSession({ call, me, onRemoteStream, onIceState, onKeys }) {
  const callId = call.id;
  const role = call.client.id === me.id ? 'client' : 'professional';
  const topic = `calls.call.${callId}`;
  let status = call.status;
  let identityPromise = identities.get(callId);
  if (!identityPromise) {
    identityPromise = createIdentity();
    identities.set(callId, identityPromise);
  }
  let localStream = null;
  let localReady = null; // resolves when the camera was asked for (granted or not)
  let resolveLocal;
  localReady = new Promise((resolve) => (resolveLocal = resolve));
  let pc = null;
  let pendingCandidates = [];
  let peerRaw = null; // base64 of the other side's current public key
  const keys = []; // derived keys, newest first
  let subscribed = false;
  let restartWanted = false;
  let negotiating = false;
  let offerTimer = null;
  let offerResends = 0;
  let lastReported = null;
  let closed = false;

  const send = (kind, payload) => socket.send({ action: 'call.signal', call: callId, kind, payload });

  const sendKey = async (reply) => {
    const identity = await identityPromise;
    send('key', { public: toBase64(identity.publicRaw), reply });
  };

  const report = (connected) => {
    if (lastReported === connected || closed) return;
    lastReported = connected;
    api.post(`/calls/${callId}/media/`, { connected }).catch(() => {
      lastReported = null; // the next change tries again; a finished call simply refuses
    });
  };

  async function iceServers() {
    try {
      const answer = await api.get(`/calls/${callId}/ice-servers/`);
      return answer.ice_servers || [];
    } catch {
      return [];
    }
  }

  async function newConnection() {
    closeConnection();
    const servers = await iceServers();
    const connection = new RTCPeerConnection({ iceServers: servers });
    pc = connection;
    pendingCandidates = [];
    connection.onicecandidate = (event) => {
      if (event.candidate && pc === connection) send('ice', event.candidate.toJSON());
    };
    connection.ontrack = (event) => {
      if (pc !== connection) return;
      const stream = event.streams[0] || new MediaStream([event.track]);
      onRemoteStream(stream);
    };
    connection.oniceconnectionstatechange = () => {
      if (pc !== connection) return;
      const state = connection.iceConnectionState;
      onIceState(state);
      if (state === 'connected' || state === 'completed') report(true);
      else if (state === 'disconnected' || state === 'failed') report(false);
      if (state === 'failed' && role === 'client') {
        restartWanted = true;
        negotiate();
      }
    };
    return connection;
  }

  function addLocalTracks(connection) {
    if (localStream) {
      for (const track of localStream.getTracks()) connection.addTrack(track, localStream);
    }
    // Without a camera or microphone the call still receives the other side.
    for (const kind of ['audio', 'video']) {
      const sending = connection.getTransceivers().some((t) => t.sender.track && t.sender.track.kind === kind);
      const any = connection.getTransceivers().some((t) => (t.receiver.track && t.receiver.track.kind === kind));
      if (!sending && !any) connection.addTransceiver(kind, { direction: 'recvonly' });
    }
  }

  function closeConnection() {
    clearTimeout(offerTimer);
    if (pc) {
      pc.onicecandidate = pc.ontrack = pc.oniceconnectionstatechange = null;
      pc.close();
    }
    pc = null;
  }

  async function flushCandidates() {
    const waiting = pendingCandidates;
    pendingCandidates = [];
    for (const candidate of waiting) {
      try {
        await pc.addIceCandidate(candidate);
      } catch {
        // A candidate of an older negotiation: harmless.
      }
    }
  }

  // --- the client's side: the offer -----------------------------------------------------------

  async function negotiate() {
    if (closed || role !== 'client' || negotiating) return;
    if (!peerRaw || !subscribed || !MEDIA_STATUSES.has(status)) return;
    negotiating = true;
    try {
      await localReady;
      const fresh = !pc || pc.connectionState === 'closed' || pc.signalingState === 'closed';
      if (!fresh && !restartWanted) return;
      let kind = 'restart';
      if (fresh) {
        kind = 'offer';
        const connection = await newConnection();
        addLocalTracks(connection);
      }
      restartWanted = false;
      const offer = await pc.createOffer(kind === 'restart' ? { iceRestart: true } : {});
      await pc.setLocalDescription(offer);
      sendOffer(kind, 0);
    } catch (error) {
      console.error(error);
    } finally {
      negotiating = false;
    }
  }

  function sendOffer(kind, resends) {
    if (!pc || !pc.localDescription) return;
    offerResends = resends;
    send(kind, { type: pc.localDescription.type, sdp: pc.localDescription.sdp });
    clearTimeout(offerTimer);
    offerTimer = setTimeout(() => {
      if (pc && pc.signalingState === 'have-local-offer' && offerResends < OFFER_RESENDS) sendOffer(kind, offerResends + 1);
    }, OFFER_RESEND_MS);
  }

  // --- the professional's side: the answer ----------------------------------------------------

  async function answer(kind, description) {
    await localReady;
    if (pc && pc.remoteDescription && pc.remoteDescription.sdp === description.sdp && pc.localDescription) {
      // The same offer again (our answer was lost): answer again.
      send('answer', { type: pc.localDescription.type, sdp: pc.localDescription.sdp });
      return;
    }
    const fresh = kind === 'offer' || !pc || pc.signalingState === 'closed';
    if (fresh) await newConnection();
    await pc.setRemoteDescription(description);
    if (fresh) addLocalTracks(pc);
    const created = await pc.createAnswer();
    await pc.setLocalDescription(created);
    send('answer', { type: pc.localDescription.type, sdp: pc.localDescription.sdp });
    await flushCandidates();
  }

  // --- frames ---------------------------------------------------------------------------------

  async function onKey(payload) {
    if (!payload || typeof payload.public !== 'string') return;
    const changed = payload.public !== peerRaw;
    const reloaded = changed && peerRaw !== null;
    if (changed) {
      const identity = await identityPromise;
      const session = await deriveSession(identity, fromBase64(payload.public), callId);
      peerRaw = payload.public;
      keys.unshift(session.key);
      onKeys({ safetyCode: session.safetyCode, keys: [...keys] });
    }
    if (!payload.reply) sendKey(true);
    if (role === 'client') {
      // The other side reloaded: its connection is gone; or it reconnected: restart ICE.
      if (reloaded) closeConnection();
      else if (!payload.reply && pc) restartWanted = true;
      negotiate();
    }
  }

  async function onSignal(data) {
    if (closed || !data || data.call_id !== callId || data.from === me.id) return;
    try {
      switch (data.kind) {
        case 'key':
          await onKey(data.payload);
          break;
        case 'offer':
        case 'restart':
          if (role === 'professional') await answer(data.kind, data.payload);
          break;
        case 'answer':
          if (role === 'client' && pc && pc.signalingState === 'have-local-offer') {
            clearTimeout(offerTimer);
            await pc.setRemoteDescription(data.payload);
            await flushCandidates();
          }
          break;
        case 'ice':
          if (pc && pc.remoteDescription) {
            await pc.addIceCandidate(data.payload).catch(() => {});
          } else {
            pendingCandidates.push(data.payload);
          }
          break;
        default:
          break;
      }
    } catch (error) {
      console.error(error);
    }
  }

  const stops = [
    socket.on('calls.signal', onSignal),
    socket.on('realtime.subscribed', (data) => {
      if (data.topic !== topic || closed) return;
      subscribed = true;
      sendKey(false);
      negotiate();
    }),
  ];
  const release = socket.subscribe(topic);

  return {
    role,
    /** Ask for the camera and microphone; the call goes on without them if refused. */
    async startLocal() {
      try {
        localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      } catch {
        try {
          localStream = await navigator.mediaDevices.getUserMedia({ audio: true });
        } catch {
          localStream = null;
        }
      }
      if (closed && localStream) localStream.getTracks().forEach((track) => track.stop());
      resolveLocal();
      return localStream;
    },
    /** The call's status changed (from the server). */
    setStatus(next) {
      status = next;
      if (MEDIA_STATUSES.has(status)) negotiate();
    },
    /** After a socket reconnect (subscriptions confirmed): find each other again, restart ICE. */
    resync() {
      subscribed = true;
      if (pc) restartWanted = true;
      sendKey(false);
      negotiate();
    },
    /** For tests and benchmarks: the current connection. */
    connection: () => pc,
    keys: () => [...keys],
    close() {
      if (closed) return;
      closed = true;
      stops.forEach((stop) => stop());
      release();
      closeConnection();
      if (localStream) localStream.getTracks().forEach((track) => track.stop());
    },
    forget() {
      identities.delete(callId);
    },
  };
}
