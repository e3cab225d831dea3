package io.tokenbus.worker;

import static io.tokenbus.worker.backend.Recorded.NDJSON;
import static io.tokenbus.worker.backend.Recorded.OPENAI_DONE;
import static io.tokenbus.worker.backend.Recorded.OPENAI_FINISH;
import static io.tokenbus.worker.backend.Recorded.OPENAI_ROLE;
import static io.tokenbus.worker.backend.Recorded.SSE;
import static io.tokenbus.worker.backend.Recorded.ollamaLine;
import static io.tokenbus.worker.backend.Recorded.openAiText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.checkpoint.CheckpointConfig;
import io.tokenbus.checkpoint.CheckpointVerticle;
import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ChunkMetadata;
import io.tokenbus.events.JobError;
import io.tokenbus.events.JobIds;
import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobState;
import io.tokenbus.events.JobType;
import io.tokenbus.events.Priority;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.Step;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.ReplayRequest;
import io.tokenbus.events.internal.Takeover;
import io.tokenbus.runtime.Node;
import io.tokenbus.testing.Patience;
import io.tokenbus.testing.TestRedis;
import io.tokenbus.worker.backend.BackendConfig;
import io.tokenbus.worker.backend.FakeProvider;
import io.tokenbus.worker.backend.FakeProvider.Answer;
import io.tokenbus.worker.backend.FakeProvider.End;
import io.tokenbus.worker.backend.FakeProvider.Write;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A job taken over from a dead worker continues on an HTTP backend from its stored text, as each server continues a
 * partial answer (docs/backends.md): the fake provider, speaking the real wire format, records what it was asked.
 */
class ContinuationTest {
  private static final Duration LEASE = Duration.ofMillis(300);
  private static final String STORED = "Stored part. ";
  private static TestRedis redis;
  private static Node node;
  private static Vertx providers;

  @BeforeAll
  static void start() {
    redis = TestRedis.start();
    node = Node.local();
    providers = Vertx.vertx();
    node.vertx().deployVerticle(new CheckpointVerticle(CheckpointConfig.defaults(redis.url()).withInitialLease(LEASE),
      node.registry())).await();
  }

  @AfterAll
  static void stop() {
    providers.close().await();
    node.close().await();
    redis.close();
  }

  /** @param continuation the backend's setting, "" for the kind's default */
  @ParameterizedTest
  @CsvSource({"ollama, '', true", "openai, continue_final_message, true", "openai, prefill, true", "openai, '', false"})
  void theStoredTextIsContinuedOrTheJobEndsWorkerLost(String kind, String continuation, boolean continues) throws Exception {
    boolean ollama = BackendConfig.OLLAMA.equals(kind);
    Answer answer = ollama
      ? FakeProvider.ok(NDJSON, new Write(ollamaLine("and ", false)), new Write(ollamaLine("the rest.", false)),
        new Write(ollamaLine("", true)), new End())
      : FakeProvider.ok(SSE, new Write(OPENAI_ROLE), new Write(openAiText("and ")), new Write(openAiText("the rest.")),
        new Write(OPENAI_FINISH), new Write(OPENAI_DONE), new End());
    try (FakeProvider fake = new FakeProvider(providers, List.of(answer))) {
      BackendConfig backend = new BackendConfig("fake", kind, fake.baseUrl(), "m", null, 2000, 5000, 0,
        BackendConfig.DEFAULT_MAX_RETRY_AFTER_SECONDS, continuation.isEmpty() ? null : continuation);
      String worker = node.vertx().deployVerticle(new AgentWorkerVerticle(
        WorkerConfig.defaults().withBackends(List.of(backend), "fake"), node.registry())).await();
      try {
        String id = deadWorkersJob();
        CompletableFuture<StatusEvent> ended = new CompletableFuture<>();
        node.vertx().eventBus().<StatusEvent>consumer(Addresses.status(id), m -> ended.complete(m.body())).completion().await();
        assertEquals(Takeover.Result.CONTINUED, Takeovers.whenLeaseRanOut(node.vertx().eventBus(), id, LEASE));
        StatusEvent published = ended.get(Patience.SECONDS, TimeUnit.SECONDS);
        JobSnapshot end = read(id, ReplayRequest.STATE_ONLY);
        assertEquals(end.terminal().state(), published.state(), "the stored terminal is the one published");
        if (continues) {
          assertEquals(JobState.COMPLETED, end.state(), String.valueOf(end.terminal()));
          assertEquals(STORED + "and the rest.", text(id));
          JsonArray messages = fake.bodies.get(0).getJsonArray("messages");
          JsonObject last = messages.getJsonObject(messages.size() - 1);
          assertEquals(new JsonObject().put("role", "assistant").put("content", STORED), last, "the stored text, to continue");
          boolean flagged = "continue_final_message".equals(continuation);
          assertEquals(flagged, fake.bodies.get(0).getBoolean("continue_final_message", false));
          assertEquals(flagged ? Boolean.FALSE : null, fake.bodies.get(0).getBoolean("add_generation_prompt"));
        } else {
          assertEquals(JobState.FAILED, end.state());
          assertEquals(JobError.WORKER_LOST, end.terminal().error().code());
          assertTrue(end.terminal().error().message().contains("cannot continue"), end.terminal().error().message());
          assertEquals(STORED, text(id), "what was stored stays");
          assertEquals(0, fake.bodies.size(), "a server that cannot continue is not asked");
        }
      } finally {
        node.vertx().undeploy(worker).await();
      }
    }
  }

  /** A job whose worker stored two chunks and died: its lease runs out. */
  private static String deadWorkersJob() {
    String id = JobIds.newId(new SecureRandom());
    JobRequest request = new JobRequest("continue me", JobType.ASK, null, "fake", 1, Priority.INTERACTIVE);
    node.vertx().eventBus().request(Addresses.CHECKPOINT_OPEN, new JobAssignment(id, request, 1)).await();
    ChunkMetadata writing = new ChunkMetadata(Step.WRITING, "m", null, 1);
    node.vertx().eventBus().request(Addresses.CHECKPOINT_APPEND, new AppendRequest(id, List.of(
      new ChunkEvent(id, "Stored ", 1, 1, writing), new ChunkEvent(id, "part. ", 2, 2, writing)), null, 1)).await();
    return id;
  }

  private static JobSnapshot read(String id, int limit) {
    return node.vertx().eventBus().<JobSnapshot>request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(id, 0, limit)).await().body();
  }

  private static String text(String id) {
    StringBuilder b = new StringBuilder();
    read(id, 0).chunks().forEach(c -> b.append(c.chunk()));
    return b.toString();
  }
}
