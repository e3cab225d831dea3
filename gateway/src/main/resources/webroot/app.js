// The tokenbus web UI: submit prompts, follow jobs (timeline, steps, answer), survive reloads. Uses the client library.
import { TokenbusClient, streamingTracker, perf } from '/client/tokenbus.js';
import { marked } from '/vendor/marked/marked.esm.js';

const $ = (id) => document.getElementById(id);
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
// Model output is untrusted: raw HTML is shown as text, links only to http(s), and images are links the user may
// follow, never fetched by the page (an image URL is a way to send data out). The CSP refuses other origins anyway.
const safeHref = (href) => (/^https?:\/\//i.test(href || '') ? href : '#');
marked.use({
  renderer: {
    html(token) { return escapeHtml(token.text ?? token.raw ?? ''); },
    link(token) {
      return `<a href="${escapeHtml(safeHref(token.href))}" rel="noopener noreferrer">${escapeHtml(token.text)}</a>`;
    },
    image(token) {
      const label = `image: ${token.text || token.href || ''}`;
      return `<a class="image-link" href="${escapeHtml(safeHref(token.href))}" rel="noopener noreferrer">${escapeHtml(label)}</a>`;
    },
  },
});

const client = new TokenbusClient();
window.__tokenbus = { client, perf, streamingTracker };
window.__tokenbusPerf = perf.groups;
const jobs = new Map(); // jobId -> view state
let selected = null;
let renderQueued = false;
let arrivals = [];

client.onState((s) => {
  const el = $('conn-state');
  el.textContent = s;
  el.className = `pill ${s}`;
});

function jobView(jobId, request, state = 'queued') {
  const v = { jobId, request: request || {}, state, steps: new Map(), text: '', progress: 0, step: null };
  jobs.set(jobId, v);
  const li = document.createElement('li');
  li.dataset.job = jobId;
  li.innerHTML = `<div class="row"><button class="select" type="button"></button>
    <span class="state" data-testid="job-state"></span>
    <button class="copy-link" type="button" aria-label="Copy a link to this job">Link</button>
    <button class="cancel" type="button" aria-label="Cancel job">Cancel</button></div>
    <div class="stats"><span class="chunks"></span> chunks · <span class="tps"></span> tokens/s · TTFT <span class="ttft"></span></div>
    <progress max="100" value="0" aria-label="Progress"></progress>`;
  v.li = li;
  label(v);
  li.querySelector('.select').addEventListener('click', () => select(jobId));
  // A link that opens this job in another tab or browser (it carries the stream token: share it like a password).
  const copy = li.querySelector('.copy-link');
  const stored = client.storedJobs().find((s) => s.jobId === jobId);
  copy.dataset.link = `${location.origin}/?job=${encodeURIComponent(jobId)}&token=${encodeURIComponent((stored && stored.token) || '')}`;
  copy.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(copy.dataset.link); copy.textContent = 'Copied'; } catch { window.prompt('Link to this job', copy.dataset.link); }
  });
  li.querySelector('.cancel').addEventListener('click', () => cancel(jobId));
  $('timeline').prepend(li);
  v.li = li;
  updateRow(v);
  return v;
}

/** "type: prompt" (the job id until the prompt is known); ellipsized by CSS, whole in the tooltip. */
function label(v) {
  const el = v.li ? v.li.querySelector('.select') : null;
  if (!el) return;
  const text = `${v.request.type || v.type || 'ask'}: ${v.request.prompt || v.prompt || v.jobId}`;
  el.textContent = text;
  el.title = text;
}

function updateRow(v) {
  const st = streamingTracker.get(v.jobId);
  v.li.querySelector('.state').textContent = v.state;
  v.li.querySelector('.chunks').textContent = st ? st.chunks : 0;
  v.li.querySelector('.tps').textContent = st ? st.tokensPerSec.toFixed(1) : '0.0';
  v.li.querySelector('.ttft').textContent = st && st.ttftMs != null ? `${Math.round(st.ttftMs)} ms` : '–';
  v.li.querySelector('progress').value = v.progress;
  v.li.querySelector('.cancel').disabled = ['completed', 'failed', 'cancelled', 'error'].includes(v.state);
}

function select(jobId) {
  selected = jobId;
  for (const li of $('timeline').children) li.classList.toggle('selected', li.dataset.job === jobId);
  $('output-job').textContent = jobId;
  $('answer').dataset.job = jobId;
  queueRender();
}

function follow(v) {
  v.stop = client.follow(v.jobId, {
    onChunk(c, arrivedAt) {
      if (v.state === 'queued') v.state = 'running';
      const step = c.metadata && c.metadata.step ? c.metadata.step : 'writing';
      v.step = step;
      v.steps.set(step, (v.steps.get(step) || '') + c.chunk);
      v.text += c.chunk;
      arrivals.push(arrivedAt);
      queueRender();
    },
    onInfo(info) { v.type = info.type; v.prompt = info.prompt; label(v); queueRender(); },
    onProgress(p) { v.progress = p.progress; if (p.step) v.step = p.step; queueRender(); },
    onStatus(s) {
      v.state = s.type.slice(4);
      if (s.type === 'job:completed') v.progress = 100;
      v.error = s.error;
      v.stop?.(); // finished: no registration left behind
      queueRender();
    },
    // Following cannot go on (unknown job, wrong token, history lost): say so instead of waiting forever.
    onError(e) { v.state = 'error'; v.error = { code: e.code || String(e.failureCode || 'error'), message: e.message || '' }; queueRender(); },
  });
}

function queueRender() {
  if (!renderQueued) { renderQueued = true; requestAnimationFrame(render); }
}

/**
 * Incremental Markdown: blocks that are finished (followed by another block) are parsed and added to the DOM once;
 * only the last, still growing block is parsed again per frame. So a frame's work is bounded by the last block, not
 * by the whole answer, however long it gets.
 */
const md = { jobId: null, done: 0, doneEl: null, tailEl: null, tailSrc: null, error: null };
function renderMarkdown(answer, jobId, text) {
  if (md.jobId !== jobId || text.length < md.done) {
    md.jobId = jobId;
    md.done = 0;
    md.tailSrc = null;
    md.doneEl = document.createElement('div');
    md.tailEl = document.createElement('div');
    md.error = document.createElement('p');
    md.error.className = 'error';
    answer.replaceChildren(md.doneEl, md.tailEl, md.error);
  }
  const tail = text.slice(md.done);
  if (tail === md.tailSrc) return;
  let tokens = marked.lexer(tail);
  let last = tokens.length - 1;
  while (last > 0 && tokens[last].type === 'space') last -= 1;
  if (last > 0) {
    const finished = tokens.slice(0, last);
    const raw = finished.map((t) => t.raw).join('');
    if (tail.startsWith(raw)) { // the lexer's raw text is the source (no \r\n normalised away): safe to commit
      md.doneEl.insertAdjacentHTML('beforeend', marked.parser(finished));
      md.done += raw.length;
      tokens = tokens.slice(last);
    }
  }
  md.tailSrc = text.slice(md.done);
  md.tailEl.innerHTML = marked.parser(tokens);
}

// One DOM update per frame however many chunks arrived: no flicker, bounded work.
function render() {
  renderQueued = false;
  let active = 0;
  for (const v of jobs.values()) { updateRow(v); if (v.state === 'running' || v.state === 'queued') active += 1; }
  $('active-streams').textContent = active;
  $('agg-rate').textContent = streamingTracker.all().filter((s) => !s.complete).reduce((a, s) => a + s.tokensPerSec, 0).toFixed(0);
  const v = selected && jobs.get(selected);
  if (v) {
    const steps = $('steps');
    const names = [...v.steps.keys()].filter((n) => n !== 'writing' || v.steps.size > 1);
    const sig = names.map((n) => `${n}:${v.steps.get(n).length}`).join() + `|${v.step}|${v.state}`;
    if (steps.dataset.sig !== sig) {
      steps.dataset.sig = sig;
      steps.replaceChildren(...names.map((n) => {
        const li = document.createElement('li');
        li.dataset.step = n;
        li.className = n === v.step && v.state === 'running' ? 'active' : '';
        li.innerHTML = `<span class="name">${escapeHtml(n)}</span>`;
        if (n !== 'writing') {
          const text = document.createElement('span');
          text.className = 'text';
          text.textContent = v.steps.get(n);
          li.append(text);
        }
        return li;
      }));
    }
    const answer = $('answer');
    renderMarkdown(answer, v.jobId, v.steps.get('writing') || ''); // the answer is the writing step; others are above it
    answer.setAttribute('aria-busy', String(v.state === 'running'));
    answer.dataset.state = v.state;
    const error = v.error ? `${v.error.code}: ${v.error.message}` : '';
    if (md.error.textContent !== error) md.error.textContent = error;
  }
  const painted = arrivals;
  arrivals = [];
  // The frame after this update is the one that shows it.
  requestAnimationFrame(() => painted.forEach((t) => perf.painted(t)));
}

async function cancel(jobId) {
  try { await client.cancel(jobId); } catch (e) { $('form-error').textContent = e.message; }
}

$('job-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('form-error').textContent = '';
  const request = { prompt: $('prompt').value, type: $('type').value, batch: Number($('batch').value) || 1 };
  try {
    // Refused for now (no worker, overloaded, a gateway draining): the client tries again; say why the page waits.
    const reply = await client.submit(request, { onRetry: ({ error, delayMs }) => {
      $('form-error').textContent = `${error.code || error.message.split(':')[0]}: trying again in ${(delayMs / 1000).toFixed(1)} s`;
    } });
    $('form-error').textContent = '';
    const v = jobView(reply.jobId, request);
    select(reply.jobId);
    follow(v);
  } catch (err) {
    $('form-error').textContent = err.message || String(err);
  }
});

// A reload: rebuild the timeline from this tab's session and resume every job where it stopped.
await client.connect();
const params = new URLSearchParams(location.search);
// A link to a job (?job=&token=) lets a second tab follow it too.
if (params.get('job') && params.get('token')) client.adopt(params.get('job'), params.get('token'));
const known = client.storedJobs();
for (const s of known) {
  // Every job, finished or not, is replayed from the store: steps, answer and stats come back from the chunks.
  follow(jobView(s.jobId, s.request, s.state || 'running'));
}
if (params.get('job')) select(params.get('job'));
else if (known.length) select(known[known.length - 1].jobId);
