// tokenbus browser client, its SSE transport: follows one job over GET /api/jobs/{id}/events.

import { TERMINAL, backoff, perf, sseEvents } from './streams.js';

// HTTP answers worth retrying: limits and outages (Retry-After is honoured).
const RETRYABLE_HTTP = [408, 425, 429, 500, 502, 503, 504];

/**
 * SSE transport over fetch (not EventSource, which gives up for good on any HTTP error and cannot tell which):
 * resumes after the last sequence; retries with backoff on network errors, cut streams and 429/5xx; stops and
 * reports on 401/403/404/410 and on `stream:error` (history_lost).
 */
export async function followSse(client, j) {
  while (!j.done && client.jobs.get(j.jobId) === j) {
    const ac = new AbortController();
    j.sse = { close: () => ac.abort() };
    let wait = null;
    let retries = 0; // the first retry: comes with every stream; a later one is a draining gateway's delay
    try {
      const res = await fetch(`${client.url}/api/jobs/${encodeURIComponent(j.jobId)}/events?after=${j.last}`, {
        headers: { authorization: `Bearer ${j.token}`, accept: 'text/event-stream' }, cache: 'no-store', signal: ac.signal });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        const err = Object.assign(new Error(body.message || `HTTP ${res.status}`), { failureCode: res.status, code: body.error });
        if (!RETRYABLE_HTTP.includes(res.status)) { client.fail(j, err); return; }
        const after = Number(res.headers.get('retry-after'));
        if (after > 0) wait = Math.min(after * 1000, 5000);
      } else {
        client.setState('connected');
        for await (const e of sseEvents(res.body)) {
          if (e.event === 'retry') { if (++retries > 1) wait = Number(e.data); }
          else if (e.event === 'model:chunk') client.accept(j, JSON.parse(e.data), perf.arrived());
          else if (e.event === 'job:progress') j.handlers.onProgress?.(JSON.parse(e.data));
          else if (TERMINAL.includes(e.event)) { client.finish(j, JSON.parse(e.data)); ac.abort(); return; }
          else if (e.event === 'stream:error') {
            const x = JSON.parse(e.data).error || {};
            client.fail(j, Object.assign(new Error(x.message || x.code), { failureCode: x.code === 'history_lost' ? 410 : 500, code: x.code }));
            ac.abort();
            return;
          }
        }
      }
    } catch (e) {
      if (j.done || client.jobs.get(j.jobId) !== j) return; // stopped
      // network error or the stream was cut: retry
    }
    if (j.done || client.jobs.get(j.jobId) !== j) return;
    client.setState(navigator.onLine === false ? 'offline' : 'reconnecting');
    await new Promise((r) => setTimeout(r, wait ?? backoff(j.retry = (j.retry || 0) + 1)));
  }
}
