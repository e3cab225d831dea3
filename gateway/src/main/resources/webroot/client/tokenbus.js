// tokenbus browser client: streams jobs over the SockJS event-bus bridge (SSE as fallback), exactly once, resumable.
// ES module, no build step. Needs window.SockJS and window.EventBus (served by the gateway under /vendor) for the
// bridge transport; the SSE transport needs nothing. Types: tokenbus.d.ts.

import { TERMINAL, backoff, streamingTracker, perf, sseEvents } from './streams.js';
import { BridgeRequests } from './requests.js';
import { followSse } from './sse.js';

export { streamingTracker, createStreamingHandler, wrapFetchStream, perf } from './streams.js';

const STORE_PREFIX = 'tokenbus.job.';
// A bridge socket silent this long while jobs stream is probed over HTTP (PROBE_MS); offline is then shown within 2 s.
const IDLE_MS = 1000;
const PROBE_MS = 800;
// Failure codes after which following a job cannot succeed (no token, wrong token, unknown job, history lost).
const PERMANENT = [400, 401, 403, 404, 410];
/** Reconnect delay (jittered ±50 %) after a draining gateway closed the socket: prompt, yet not all tabs at once. */
const DRAIN_RECONNECT_MS = 500;
/** How long a submission refused with 503 is tried again by default (a rolling update, a worker restarting). */
const SUBMIT_RETRY_MS = 15000;

/**
 * Async iterator of {chunk, index, isComplete} over a job's stream. source: a fetch Response (SSE), a URL string of
 * the events endpoint, or a TokenbusClient (then jobId and its stored token are used).
 */
export async function* streamText(source, { jobId } = {}) {
  if (source instanceof TokenbusClient) {
    const queue = [];
    let wake = null;
    const push = (x) => { queue.push(x); if (wake) { wake(); wake = null; } };
    const stop = source.follow(jobId, {
      onChunk: (c) => push({ chunk: c.chunk, index: c.sequence - 1, isComplete: false }),
      onStatus: () => push({ chunk: '', index: -1, isComplete: true }),
    });
    try {
      for (;;) {
        while (!queue.length) await new Promise((r) => { wake = r; });
        const item = queue.shift();
        yield item;
        if (item.isComplete) return;
      }
    } finally {
      stop();
    }
  }
  const res = typeof source === 'string' ? await fetch(source) : source;
  let index = 0;
  for await (const e of sseEvents(res.body)) {
    if (e.event === 'model:chunk') yield { chunk: JSON.parse(e.data).chunk, index: index++, isComplete: false };
    else if (TERMINAL.includes(e.event)) { yield { chunk: '', index, isComplete: true }; return; }
  }
}

/**
 * Submits, follows and cancels jobs. Follows over the SockJS bridge (register job.<id>.*, then job.replay from the
 * last sequence it has), reconnecting with backoff; falls back to SSE. Keeps each job's token, request and final state
 * in sessionStorage (written on submit and at the end, never per chunk) so a reloaded page finds its jobs again.
 */
export class TokenbusClient {
  constructor({ url = location.origin, transport = 'sockjs', storage = window.sessionStorage, submitRetryMs = SUBMIT_RETRY_MS } = {}) {
    this.url = url.replace(/\/$/, '');
    this.submitRetryMs = submitRetryMs;
    this.transport = transport === 'sse' || typeof window.EventBus !== 'function' ? 'sse' : 'sockjs';
    this.storage = storage;
    this.state = 'offline';
    this.jobs = new Map(); // jobId -> follow record
    this.listeners = new Set();
    this.eb = null;
    this.retry = 0;
    this.requests = new BridgeRequests(() => this.eb);
    this.lastFrameAt = performance.now();
    // Offline is shown at once and the socket dropped (it would only stall); back online, reconnect now and replay.
    window.addEventListener('offline', () => {
      this.setState('offline');
      if (this.eb && this.eb.state === window.EventBus.OPEN) this.eb.close();
      for (const j of this.jobs.values()) j.sse?.close();
    });
    window.addEventListener('online', () => {
      if (this.reconnectTimer) { clearTimeout(this.reconnectTimer); this.reconnectTimer = null; this.retry = 0; this.open(); }
    });
  }

  /**
   * While jobs stream over the bridge, a socket silent for IDLE_MS is checked with a quick HTTP probe; if that fails
   * too, the connection is given up (reconnecting) instead of showing `streaming` over a dead socket.
   */
  watch(eb) {
    const timer = setInterval(async () => {
      if (this.eb !== eb || eb.state === window.EventBus.CLOSED) { clearInterval(timer); return; }
      if (this.state !== 'streaming' || this.probing || performance.now() - this.lastFrameAt < IDLE_MS) return;
      this.probing = true;
      const ac = new AbortController();
      const t = setTimeout(() => ac.abort(), PROBE_MS);
      let alive = false;
      try { alive = (await fetch(`${this.url}/api/ping`, { cache: 'no-store', signal: ac.signal })).ok; } catch { alive = false; }
      clearTimeout(t);
      this.probing = false;
      if (alive) this.lastFrameAt = performance.now();
      else if (this.eb === eb && eb.state === window.EventBus.OPEN) eb.close();
    }, 250);
  }

  /** Connection state changes: connected | streaming | reconnecting | offline. */
  onState(fn) { this.listeners.add(fn); fn(this.state); return () => this.listeners.delete(fn); }

  setState(s) {
    const active = [...this.jobs.values()].some((j) => !j.done);
    const next = s === 'connected' && active ? 'streaming' : s;
    if (next !== this.state) { this.state = next; this.listeners.forEach((fn) => fn(next)); }
  }

  connect() {
    if (this.transport === 'sse') { this.setState(navigator.onLine === false ? 'offline' : 'connected'); return Promise.resolve(); }
    if (this.eb) return this.opened;
    this.opened = new Promise((resolve) => { this.resolveOpen = resolve; });
    this.open();
    return this.opened;
  }

  open() {
    const eb = new window.EventBus(`${this.url}/eventbus`, { vertxbus_ping_interval: 5000 });
    this.eb = eb;
    this.reconnectTimer = null;
    const conn = eb.sockJSConn;
    const onmessage = conn.onmessage;
    conn.onmessage = (e) => { this.lastFrameAt = performance.now(); onmessage(e); };
    conn.addEventListener?.('heartbeat', () => { this.lastFrameAt = performance.now(); });
    this.lastFrameAt = performance.now();
    this.watch(eb);
    eb.onopen = () => {
      this.retry = 0;
      this.setState('connected');
      this.resolveOpen?.();
      for (const j of this.jobs.values()) if (!j.done) this.subscribe(j);
      this.requests.pump();
    };
    eb.onclose = () => {
      if (this.eb !== eb) return;
      this.requests.dropAll(new Error('connection lost'));
      if (this.draining) {
        // The gateway is shutting down (err 503 draining, then the close): nothing is wrong, so no backoff. A new
        // socket goes where the load balancer sends it, and every job re-registers and replays from its last chunk.
        this.draining = false;
        this.setState('reconnecting');
        this.reconnectTimer = setTimeout(() => { if (this.eb === eb) this.open(); }, DRAIN_RECONNECT_MS * (0.5 + Math.random()));
        return;
      }
      if (this.dismissed) {
        // The gateway closes a socket that follows no job within its register deadline (err 401 first). Nothing is
        // lost: a new socket is opened when there is something to send or follow.
        this.dismissed = false;
        this.eb = null;
        return;
      }
      this.setState(navigator.onLine === false ? 'offline' : 'reconnecting');
      // Our own backoff (rather than the client's) so every reconnect re-subscribes and replays.
      const delay = backoff(++this.retry);
      this.reconnectTimer = setTimeout(() => { if (this.eb === eb) this.open(); }, delay);
    };
    eb.onerror = (e) => {
      if (e && e.failureCode === 401 && !e.address) this.dismissed = true;
      else if (e && e.failureCode === 503 && !e.address && String(e.message).startsWith('draining')) this.draining = true;
      else console.warn('tokenbus bridge error', e);
    };
  }

  /**
   * Request/reply over the bridge. At most MAX_IN_FLIGHT wait for their answer; the rest queue (a tab that starts many
   * jobs at once stays under the gateway's per-socket limit). Waits for a socket that is opening.
   */
  request(address, body) {
    if (!this.eb && this.transport === 'sockjs') this.open(); // dismissed while idle: reopen for the next time
    return this.requests.send(address, body);
  }


  /**
   * Submits a job. A 503 (no_worker, overloaded, store_unavailable, draining) is a refusal that started nothing, so it
   * is tried again (after Retry-After, else backoff) until `submitRetryMs` has passed; `onRetry({attempt, delayMs,
   * error})` tells the page it waits. Other refusals (400, 413, 429) are thrown at once.
   */
  async submit(request, { onRetry } = {}) {
    const giveUpAt = performance.now() + this.submitRetryMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const reply = await this.submitOnce(request);
        this.save(reply.jobId, { token: reply.streamToken, request, at: Date.now() });
        return reply;
      } catch (e) {
        const delayMs = e.retryAfterMs ?? backoff(attempt);
        if (e.failureCode !== 503 || performance.now() + delayMs > giveUpAt) throw e;
        onRetry?.({ attempt, delayMs, error: e });
        await new Promise((r) => setTimeout(r, delayMs));
      }
    }
  }

  /** Over the bridge; over HTTP when the bridge did not answer at all (no socket, no reply). */
  async submitOnce(request) {
    try {
      return await this.request('jobs.submit', request);
    } catch (e) {
      if (e.failureCode) throw e;
    }
    const res = await fetch(`${this.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
    const reply = await res.json().catch(() => ({}));
    if (res.ok) return reply;
    const after = Number(res.headers.get('retry-after'));
    throw Object.assign(new Error(reply.message || `HTTP ${res.status}`), { failureCode: res.status, error: reply.error,
      code: reply.error, retryAfterMs: after > 0 ? after * 1000 : undefined });
  }

  stored(jobId) {
    try { return JSON.parse(this.storage.getItem(STORE_PREFIX + jobId)) || null; } catch { return null; }
  }

  save(jobId, patch) {
    const cur = this.stored(jobId) || {};
    this.storage.setItem(STORE_PREFIX + jobId, JSON.stringify({ ...cur, ...patch }));
  }

  /** Makes a job known to this tab (e.g. opened from a link carrying its token). */
  adopt(jobId, token) {
    if (!this.stored(jobId)) this.save(jobId, { token, at: Date.now() });
  }

  /** Jobs this tab knows (from sessionStorage): [{jobId, token, request, state}]. */
  storedJobs() {
    const out = [];
    for (let i = 0; i < this.storage.length; i++) {
      const k = this.storage.key(i);
      if (k.startsWith(STORE_PREFIX)) out.push({ jobId: k.slice(STORE_PREFIX.length), ...this.stored(k.slice(STORE_PREFIX.length)) });
    }
    return out.sort((a, b) => (a.at || 0) - (b.at || 0));
  }

  /**
   * Follows a job from its first chunk: after a reload the store replays it, every chunk with its metadata (step,
   * timestamp), so the page is rebuilt exactly as it was. handlers: onChunk(chunk), onProgress(event),
   * onStatus(event), onError(error). Returns a function that stops following.
   */
  follow(jobId, handlers = {}) {
    const s = this.stored(jobId) || {};
    this.unfollow(jobId);
    const j = { jobId, token: s.token, last: 0, handlers, done: false, pending: new Map(), sse: null };
    this.jobs.set(jobId, j);
    streamingTracker.start(jobId);
    this.describe(j);
    if (this.transport === 'sse') followSse(this, j);
    else if (this.eb && this.eb.state === window.EventBus.OPEN) this.subscribe(j);
    else if (!this.eb) this.open(); // subscribes on open
    this.setState(this.state === 'offline' ? 'offline' : 'connected');
    return () => this.unfollow(jobId);
  }

  /** GET /api/jobs/{id} once per follow: createdAt (for TTFT) and the job's type, state, ... to onInfo(info). */
  async describe(j) {
    try {
      const res = await fetch(`${this.url}/api/jobs/${encodeURIComponent(j.jobId)}`, {
        headers: { authorization: `Bearer ${j.token}` }, cache: 'no-store' });
      if (!res.ok) return; // the stream reports what is wrong
      const info = await res.json();
      if (typeof info.createdAt === 'number') streamingTracker.created(j.jobId, info.createdAt);
      j.handlers.onInfo?.(info);
    } catch { /* stats without TTFT */ }
  }

  unfollow(jobId) {
    const j = this.jobs.get(jobId);
    if (j) this.release(j);
  }

  /** Stops following: unregisters the job's addresses (or closes its SSE stream) and forgets it. */
  release(j) {
    if (this.jobs.get(j.jobId) === j) this.jobs.delete(j.jobId);
    j.sse?.close();
    if (this.eb && this.eb.state === window.EventBus.OPEN) {
      for (const kind of ['chunk', 'progress', 'status']) {
        const fn = j[`h_${kind}`];
        j[`h_${kind}`] = null;
        if (fn) { try { this.eb.unregisterHandler(`job.${j.jobId}.${kind}`, fn); } catch { /* gone with the socket */ } }
      }
    }
  }

  subscribe(j) {
    const headers = { token: j.token };
    const on = (kind, fn) => {
      const address = `job.${j.jobId}.${kind}`;
      if (j[`h_${kind}`]) { try { this.eb.unregisterHandler(address, j[`h_${kind}`]); } catch { /* gone with the socket */ } }
      j[`h_${kind}`] = (err, msg) => { if (err) this.trouble(j, err); else fn(msg.body); };
      this.eb.registerHandler(address, headers, j[`h_${kind}`]);
    };
    on('chunk', (c) => this.accept(j, c, perf.arrived()));
    on('progress', (p) => j.handlers.onProgress?.(p));
    on('status', (s) => this.finish(j, s));
    // Set before asking, so chunks that come first (live) do not start a second, concurrent replay (409).
    j.replaying = false;
    this.startReplay(j);
  }

  startReplay(j) {
    if (j.done) return;
    if (j.replaying) { j.gapSeen = true; return; }
    j.replaying = true;
    j.gapSeen = false;
    this.replay(j);
  }

  /** Asks for everything after the last contiguous sequence; the gateway pushes the rest of a long history itself. */
  async replay(j) {
    const eb = this.eb;
    try {
      let more = true;
      while (more && !j.done) {
        const r = await this.request('job.replay', { jobId: j.jobId, token: j.token, afterSequence: j.last });
        const t = perf.arrived();
        r.chunks.forEach((c) => this.accept(j, c, t));
        more = !!r.hasMore;
        if (r.terminal && !more) this.finish(j, r.terminal);
      }
    } catch (e) {
      if (e.failureCode === 409) { /* a replay of this job already runs on the socket: its answer fills the gap */ }
      else if (PERMANENT.includes(e.failureCode)) this.fail(j, e);
      else if (!j.done && eb && eb === this.eb && eb.state === window.EventBus.OPEN) {
        // Retryable (503 store_unavailable, 429, no answer): again after a pause. A new socket replays by itself.
        setTimeout(() => { if (this.eb === eb && !j.done) this.startReplay(j); }, backoff(j.retry = (j.retry || 0) + 1));
      }
    } finally {
      j.replaying = false;
      if (j.gapSeen && j.pending.size && !j.done) {
        // Chunks beyond a hole came in meanwhile. The gateway sends what the answer lacked right after it; ask again
        // only if that does not close the hole.
        const last = j.last;
        j.gapSeen = false;
        setTimeout(() => { if (j.last === last && j.pending.size && !j.done) this.startReplay(j); }, 1000);
      }
    }
  }

  /** An err frame on one of the job's addresses: permanent ones end the job for this client; others are retried. */
  trouble(j, err) {
    if (PERMANENT.includes(err.failureCode)) this.fail(j, err);
    else if (!j.done && !j.retrying) {
      j.retrying = true; // e.g. 429 too_many_jobs on register: subscribe again later
      setTimeout(() => { j.retrying = false; if (!j.done && this.eb && this.eb.state === window.EventBus.OPEN) this.subscribe(j); },
        backoff(j.retry = (j.retry || 0) + 1));
    }
  }

  /** Following cannot go on (403, 404, 410 history_lost, ...): stop, tell once. */
  fail(j, err) {
    if (j.done) return;
    j.done = true;
    j.failed = true;
    this.release(j);
    const e = err instanceof Error ? err : Object.assign(new Error(err.message || String(err.failureCode)), err);
    if (!e.code && typeof e.message === 'string') e.code = e.message.split(':')[0];
    j.handlers.onError?.(e);
    this.setState(this.state === 'streaming' ? 'connected' : this.state);
  }

  accept(j, c, arrivedAt) {
    if (j.done || c.sequence <= j.last) return; // duplicate
    if (c.sequence > j.last + 1) {
      // A gap: hold it and ask the store for what is missing (unless a replay runs, which will).
      j.pending.set(c.sequence, c);
      this.startReplay(j);
      return;
    }
    this.deliver(j, c, arrivedAt);
    while (j.pending.has(j.last + 1)) {
      const next = j.pending.get(j.last + 1);
      j.pending.delete(j.last + 1);
      this.deliver(j, next, arrivedAt);
    }
    if (j.pendingStatus && j.last >= j.pendingStatus.lastSequence) this.finish(j, j.pendingStatus);
  }

  deliver(j, c, arrivedAt) {
    j.last = c.sequence;
    j.retry = 0;
    streamingTracker.addChunk(j.jobId, c);
    j.handlers.onChunk?.(c, arrivedAt);
    if (this.state === 'connected') this.setState('connected');
  }

  finish(j, s) {
    if (j.done) return;
    if (s.lastSequence > j.last) { // the end is known but chunks are missing: fetch them first
      j.pendingStatus = s;
      this.startReplay(j);
      return;
    }
    j.done = true;
    this.save(j.jobId, { state: s.type.slice(4) });
    streamingTracker.complete(j.jobId);
    this.release(j); // a finished job holds no registration: a long-lived tab never reaches the per-socket limit
    j.handlers.onStatus?.(s);
    this.setState(this.state === 'streaming' ? 'connected' : this.state);
  }


  async cancel(jobId) {
    const token = (this.stored(jobId) || {}).token;
    try {
      return await this.request('job.cancel', { jobId, token });
    } catch (e) {
      if (e.failureCode) throw e;
      const res = await fetch(`${this.url}/api/jobs/${jobId}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      return res.json();
    }
  }
}
