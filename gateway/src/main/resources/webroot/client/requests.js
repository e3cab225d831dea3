// tokenbus browser client, its bridge requests: request/reply over the SockJS event bus with a bound on what waits.

// Bridge requests waiting for an answer at once; the gateway answers 429 beyond TOKENBUS_MAX_REQUESTS_PER_SOCKET (16).
const MAX_IN_FLIGHT = 8;
const REQUEST_TIMEOUT_MS = 10000;

/**
 * At most MAX_IN_FLIGHT requests wait for their answer; the rest queue (a tab that starts many jobs at once stays
 * under the gateway's per-socket limit) and are sent as answers come or when a socket opens. Every request has a
 * deadline. socket() gives the current EventBus (or null).
 */
export class BridgeRequests {
  constructor(socket) {
    this.socket = socket;
    this.queue = []; // not sent yet
    this.inFlight = new Set(); // sent, not answered
  }

  send(address, body) {
    return new Promise((resolve, reject) => {
      if (!this.socket()) { reject(new Error('not connected')); return; }
      const q = { address, body, resolve, reject };
      q.timer = setTimeout(() => this.settle(q, new Error(`${address}: no answer`)), REQUEST_TIMEOUT_MS);
      this.queue.push(q);
      this.pump();
    });
  }

  pump() {
    const eb = this.socket();
    while (this.inFlight.size < MAX_IN_FLIGHT && this.queue.length && eb && eb.state === window.EventBus.OPEN) {
      const q = this.queue.shift();
      this.inFlight.add(q);
      eb.send(q.address, q.body, {}, (err, msg) => {
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
  dropAll(err) {
    for (const q of [...this.inFlight, ...this.queue]) this.settle(q, err);
  }
}
