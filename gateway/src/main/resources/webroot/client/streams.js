// tokenbus browser client, its stream helpers: stats, a sequence-keyed text buffer, the text/event-stream parser.
// They need no TokenbusClient; tokenbus.js re-exports them, so import from there.

export const TERMINAL = ['job:completed', 'job:failed', 'job:cancelled'];

/** Exponential backoff: 250 ms doubling to 5 s, jittered. */
export const backoff = (attempt) => Math.min(5000, 250 * 2 ** Math.max(0, attempt - 1)) * (0.75 + Math.random() / 2);

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
export async function* sseEvents(body) {
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
