// tokenbus browser client: streams jobs over the SockJS event-bus bridge (SSE as fallback), exactly once, resumable.
// ES module, no build step. Needs window.SockJS and window.EventBus (served by the gateway under /vendor) for the
// bridge transport; the SSE transport needs nothing. Types: tokenbus.d.ts.

const TERMINAL = ['job:completed', 'job:failed', 'job:cancelled'];
const STORE_PREFIX = 'tokenbus.job.';
// Bridge requests waiting for an answer at once; the gateway answers 429 beyond TOKENBUS_MAX_REQUESTS_PER_SOCKET (16).
const MAX_IN_FLIGHT = 8;
const REQUEST_TIMEOUT_MS = 10000;
// A bridge socket silent this long while jobs stream is probed over HTTP (PROBE_MS); offline is then shown within 2 s.
const IDLE_MS = 1000;
const PROBE_MS = 800;
// Failure codes after which following a job cannot succeed (no token, wrong token, unknown job, history lost).
const PERMANENT = [400, 401, 403, 404, 410];
// HTTP answers worth retrying: limits and outages (Retry-After is honoured).
const RETRYABLE_HTTP = [408, 425, 429, 500, 502, 503, 504];
/** Exponential backoff: 250 ms doubling to 5 s, jittered. */
/** Reconnect delay (jittered ±50 %) after a draining gateway closed the socket: prompt, yet not all tabs at once. */
const DRAIN_RECONNECT_MS = 500;
const backoff = (attempt) => Math.min(5000, 250 * 2 ** Math.max(0, attempt - 1)) * (0.75 + Math.random() / 2);

/**
 * Per-job stats: chunks, tokens/s, time to first token. Derived from the chunks' own `timestamp`s (when the worker
 * formed them) and the job's `createdAt`, not from arrival times, so a job replayed after a reload shows the same
 * figures as when it streamed live. tokens/s = tokens / (last timestamp − first timestamp); TTFT = first timestamp −
 * createdAt (null until both are known).
 */
export const streamingTracker = (() => {
  const jobs = new Map();
  const view = (s) => {
    const secs = s.firstTs == null ? 0 : (s.lastTs - s.firstTs) / 1000;
    return { jobId: s.jobId, chunks: s.chunks, tokens: s.tokens,
      ttftMs: s.firstTs == null || s.createdAt == null ? null : Math.max(0, s.firstTs - s.createdAt),
      tokensPerSec: secs > 0 ? s.tokens / secs : 0, durationMs: (s.lastTs ?? Date.now()) - (s.createdAt ?? s.startedAt),
      complete: s.complete };
  };
  const get = (jobId) => jobs.get(jobId) ?? (jobs.set(jobId, { jobId, createdAt: null, startedAt: Date.now(), firstTs: null,
    lastTs: null, chunks: 0, tokens: 0, complete: false }), jobs.get(jobId));
  return {
    start(jobId, createdAt = null) {
      jobs.delete(jobId);
      const s = get(jobId);
      s.createdAt = createdAt;
      return view(s);
    },
    /** The job's createdAt (ms since the epoch, from GET /api/jobs/{id}). */
    created(jobId, createdAt) {
      const s = get(jobId);
      s.createdAt = createdAt;
      return view(s);
    },
    addChunk(jobId, chunk) {
      const s = get(jobId);
      const ts = chunk && typeof chunk.timestamp === 'number' ? chunk.timestamp : Date.now();
      if (s.firstTs == null) s.firstTs = ts;
      s.lastTs = Math.max(s.lastTs ?? ts, ts);
      s.chunks += 1;
      s.tokens += (chunk && chunk.metadata && chunk.metadata.tokens) || 1;
      return view(s);
    },
    complete(jobId) {
      const s = jobs.get(jobId);
      if (!s) return null;
      s.complete = true;
      return view(s);
    },
    get(jobId) {
      const s = jobs.get(jobId);
      return s ? view(s) : null;
    },
    all() {
      return [...jobs.values()].map(view);
    },
  };
})();

/** Accumulates one job's chunks by sequence: duplicates are ignored, text is the chunks in order. */
export function createStreamingHandler(jobId) {
  let parts = new Map();
  let completeCbs = [];
  let done = null;
  const handler = {
    jobId,
    /** Adds a model:chunk; returns true if it was new. */
    onChunk(chunk) {
      if (!chunk || typeof chunk.sequence !== 'number' || parts.has(chunk.sequence)) return false;
      parts.set(chunk.sequence, chunk.chunk);
      return true;
    },
    /** With a function: registers a completion callback. With an event: marks the job complete. */
    onComplete(arg) {
      if (typeof arg === 'function') {
        if (done) arg(done, handler.getText()); else completeCbs.push(arg);
        return;
      }
      done = arg || { type: 'job:completed' };
      completeCbs.forEach((cb) => cb(done, handler.getText()));
      completeCbs = [];
    },
    getText() {
      return [...parts.keys()].sort((a, b) => a - b).map((k) => parts.get(k)).join('');
    },
    lastSequence() {
      let n = 0;
      while (parts.has(n + 1)) n += 1;
      return n;
    },
    reset() {
      parts = new Map();
      done = null;
    },
  };
  return handler;
}

/** Parses a text/event-stream body into {event, id, data} records (WHATWG rules). */
async function* sseEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let ev = { event: 'message', id: null, data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let idx;
    while ((idx = buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = buf.slice(0, idx);
      buf = buf.slice(idx + (buf[idx] === '\r' && buf[idx + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (ev.data.length) yield { event: ev.event, id: ev.id, data: ev.data.join('\n') };
        ev = { event: 'message', id: null, data: [] };
      } else if (!line.startsWith(':')) {
        const c = line.indexOf(':');
        const field = c < 0 ? line : line.slice(0, c);
        let v = c < 0 ? '' : line.slice(c + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (field === 'data') ev.data.push(v);
        else if (field === 'event') ev.event = v;
        else if (field === 'id') ev.id = v;
        else if (field === 'retry' && /^\d+$/.test(v)) yield { event: 'retry', id: null, data: v };
      }
    }
  }
}

/** Reads a streamed fetch response (SSE from GET /api/jobs/{id}/events) and resolves with the job's full text. */
export async function wrapFetchStream(fetchPromise, jobId, onChunk) {
  const res = await fetchPromise;
  if (!res.ok) throw new Error(`stream answered ${res.status}`);
  const h = createStreamingHandler(jobId);
  for await (const e of sseEvents(res.body)) {
    if (e.event === 'model:chunk') {
      const c = JSON.parse(e.data);
      if (h.onChunk(c) && onChunk) onChunk(c);
    } else if (TERMINAL.includes(e.event)) {
      h.onComplete(JSON.parse(e.data));
      break;
    }
  }
  return h.getText();
}

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

/** Browser-side UI overhead: per chunk, time from its arrival to the next paint, aggregated per 10 chunks. */
export const perf = (() => {
  const samples = [];
  const groups = [];
  return {
    arrived() { return performance.now(); },
    painted(arrivedAt) {
      samples.push(performance.now() - arrivedAt);
      if (samples.length === 10) {
        const s = samples.splice(0).sort((a, b) => a - b);
        groups.push({ chunks: 10, meanMs: s.reduce((a, b) => a + b, 0) / 10, maxMs: s[9], p50Ms: s[5] });
      }
    },
    groups,
  };
})();

/**
 * Submits, follows and cancels jobs. Follows over the SockJS bridge (register job.<id>.*, then job.replay from the
 * last sequence it has), reconnecting with backoff; falls back to SSE. Keeps each job's token, request and final state
 * in sessionStorage (written on submit and at the end, never per chunk) so a reloaded page finds its jobs again.
 */
export class TokenbusClient {
  constructor({ url = location.origin, transport = 'sockjs', storage = window.sessionStorage } = {}) {
    this.url = url.replace(/\/$/, '');
    this.transport = transport === 'sse' || typeof window.EventBus !== 'function' ? 'sse' : 'sockjs';
    this.storage = storage;
    this.state = 'offline';
    this.jobs = new Map(); // jobId -> follow record
    this.listeners = new Set();
    this.eb = null;
    this.retry = 0;
    this.queue = []; // bridge requests not sent yet
    this.inFlight = new Set(); // sent, not answered
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
      this.pump();
    };
    eb.onclose = () => {
      if (this.eb !== eb) return;
      this.dropRequests(new Error('connection lost'));
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
    return new Promise((resolve, reject) => {
      if (!this.eb) { reject(new Error('not connected')); return; }
      const q = { address, body, resolve, reject };
      q.timer = setTimeout(() => this.settle(q, new Error(`${address}: no answer`)), REQUEST_TIMEOUT_MS);
      this.queue.push(q);
      this.pump();
    });
  }

  pump() {
    while (this.inFlight.size < MAX_IN_FLIGHT && this.queue.length && this.eb && this.eb.state === window.EventBus.OPEN) {
      const q = this.queue.shift();
      this.inFlight.add(q);
      this.eb.send(q.address, q.body, {}, (err, msg) => {
        if (err) this.settle(q, Object.assign(new Error(err.message || String(err.failureCode)), err));
        else this.settle(q, null, msg.body);
      });
    }
  }

  settle(q, err, value) {
    if (q.settled) return;
    q.settled = true;
    clearTimeout(q.timer);
    this.inFlight.delete(q);
    const i = this.queue.indexOf(q);
    if (i >= 0) this.queue.splice(i, 1);
    if (err) q.reject(err); else q.resolve(value);
    this.pump();
  }

  /** The socket is gone: nothing sent on it will be answered, and what waits is sent on the next one or fails over. */
  dropRequests(err) {
    for (const q of [...this.inFlight, ...this.queue]) this.settle(q, err);
  }

  async submit(request) {
    let reply;
    try {
      reply = await this.request('jobs.submit', request);
    } catch (e) {
      if (e.failureCode) throw e;
      const res = await fetch(`${this.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
      reply = await res.json();
      if (!res.ok) throw Object.assign(new Error(reply.message), { failureCode: res.status, error: reply.error });
    }
    this.save(reply.jobId, { token: reply.streamToken, request, at: Date.now() });
    return reply;
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
    if (this.transport === 'sse') this.followSse(j);
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

  /**
   * SSE transport over fetch (not EventSource, which gives up for good on any HTTP error and cannot tell which):
   * resumes after the last sequence; retries with backoff on network errors, cut streams and 429/5xx; stops and
   * reports on 401/403/404/410 and on `stream:error` (history_lost).
   */
  async followSse(j) {
    while (!j.done && this.jobs.get(j.jobId) === j) {
      const ac = new AbortController();
      j.sse = { close: () => ac.abort() };
      let wait = null;
      let retries = 0; // the first retry: comes with every stream; a later one is a draining gateway's delay
      try {
        const res = await fetch(`${this.url}/api/jobs/${encodeURIComponent(j.jobId)}/events?after=${j.last}`, {
          headers: { authorization: `Bearer ${j.token}`, accept: 'text/event-stream' }, cache: 'no-store', signal: ac.signal });
        if (!res.ok) {
          const body = await res.json().catch(() => ({}));
          const err = Object.assign(new Error(body.message || `HTTP ${res.status}`), { failureCode: res.status, code: body.error });
          if (!RETRYABLE_HTTP.includes(res.status)) { this.fail(j, err); return; }
          const after = Number(res.headers.get('retry-after'));
          if (after > 0) wait = Math.min(after * 1000, 5000);
        } else {
          this.setState('connected');
          for await (const e of sseEvents(res.body)) {
            if (e.event === 'retry') { if (++retries > 1) wait = Number(e.data); }
            else if (e.event === 'model:chunk') this.accept(j, JSON.parse(e.data), perf.arrived());
            else if (e.event === 'job:progress') j.handlers.onProgress?.(JSON.parse(e.data));
            else if (TERMINAL.includes(e.event)) { this.finish(j, JSON.parse(e.data)); ac.abort(); return; }
            else if (e.event === 'stream:error') {
              const x = JSON.parse(e.data).error || {};
              this.fail(j, Object.assign(new Error(x.message || x.code), { failureCode: x.code === 'history_lost' ? 410 : 500, code: x.code }));
              ac.abort();
              return;
            }
          }
        }
      } catch (e) {
        if (j.done || this.jobs.get(j.jobId) !== j) return; // stopped
        // network error or the stream was cut: retry
      }
      if (j.done || this.jobs.get(j.jobId) !== j) return;
      this.setState(navigator.onLine === false ? 'offline' : 'reconnecting');
      await new Promise((r) => setTimeout(r, wait ?? backoff(j.retry = (j.retry || 0) + 1)));
    }
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
