// Types for tokenbus.js (the tokenbus browser client).

export interface ChunkMetadata { step?: 'thinking' | 'searching' | 'writing'; model?: string; tokens_per_sec?: number; tokens?: number }
export interface ModelChunk { type: 'model:chunk'; jobId: string; chunk: string; sequence: number; timestamp: number; metadata: ChunkMetadata }
export interface JobProgress { type: 'job:progress'; jobId: string; progress: number; step?: string; metadata?: Record<string, unknown> }
export interface JobStatus {
  type: 'job:completed' | 'job:failed' | 'job:cancelled'; jobId: string; lastSequence: number; result?: string;
  error?: { code: string; message: string };
}
export interface JobRequest {
  prompt: string; type?: 'ask' | 'research' | 'code' | 'analysis'; model?: string; backend?: string; batch?: number;
  priority?: 'interactive' | 'background';
}
export interface SubmitReply { jobId: string; streamToken: string; state: string; type?: string; backend?: string; model?: string }

export interface StreamingHandler {
  jobId: string;
  onChunk(chunk: ModelChunk): boolean;
  onComplete(cbOrEvent?: ((status: JobStatus, text: string) => void) | JobStatus): void;
  getText(): string;
  lastSequence(): number;
  reset(): void;
}
export function createStreamingHandler(jobId: string): StreamingHandler;

export function wrapFetchStream(fetchPromise: Promise<Response>, jobId: string, onChunk?: (chunk: ModelChunk) => void): Promise<string>;

export interface StreamItem { chunk: string; index: number; isComplete: boolean }
export function streamText(source: Response | string | TokenbusClient, options?: { jobId?: string }): AsyncGenerator<StreamItem>;

export interface TrackerStats { jobId: string; chunks: number; tokens: number; ttftMs: number | null; tokensPerSec: number; durationMs: number; complete: boolean }
export const streamingTracker: {
  start(jobId: string, createdAt?: number | null): TrackerStats;
  created(jobId: string, createdAt: number): TrackerStats;
  addChunk(jobId: string, chunk: ModelChunk): TrackerStats;
  complete(jobId: string): TrackerStats | null;
  get(jobId: string): TrackerStats | null;
  all(): TrackerStats[];
};

export const perf: { arrived(): number; painted(arrivedAt: number): void; groups: { chunks: number; meanMs: number; maxMs: number; p50Ms: number }[] };

export type ConnectionState = 'connected' | 'streaming' | 'reconnecting' | 'offline';
export interface FollowHandlers {
  onChunk?(chunk: ModelChunk, arrivedAt: number): void;
  onProgress?(event: JobProgress): void;
  onStatus?(event: JobStatus): void;
  /** Following cannot go on (401/403/404/410 history_lost): called once, then nothing more for this job. */
  /** The job as GET /api/jobs/{id} describes it (createdAt, type, state, ...), once per follow. */
  onInfo?(info: { jobId: string; state: string; type: string; createdAt: number; lastSequence: number; model?: string; prompt?: string }): void;
  onError?(error: Error & { failureCode?: number; code?: string }): void;
}
export class TokenbusClient {
  /** submitRetryMs: how long a submission refused with 503 is tried again (default 15000; 0: never). */
  constructor(options?: { url?: string; transport?: 'sockjs' | 'sse'; storage?: Storage; submitRetryMs?: number });
  state: ConnectionState;
  onState(fn: (state: ConnectionState) => void): () => void;
  connect(): Promise<void>;
  /** Retries 503 refusals (no_worker, overloaded, store_unavailable, draining) until submitRetryMs; onRetry says it waits. */
  submit(request: JobRequest, options?: { onRetry?(r: { attempt: number; delayMs: number; error: Error & { failureCode?: number; code?: string } }): void }): Promise<SubmitReply>;
  follow(jobId: string, handlers?: FollowHandlers): () => void;
  cancel(jobId: string): Promise<{ ok: boolean }>;
  adopt(jobId: string, token: string): void;
  storedJobs(): { jobId: string; token: string; request?: JobRequest; state?: string }[];
}
