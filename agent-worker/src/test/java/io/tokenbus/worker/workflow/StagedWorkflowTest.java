package io.tokenbus.worker.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tokenbus.events.JobRequest;
import io.tokenbus.events.JobType;
import io.tokenbus.events.Step;
import io.tokenbus.worker.backend.ChatMessage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The workflows against a recording runner: steps, progress, prompts from resources, and the search tool. */
class StagedWorkflowTest {
  static final long BUDGET_MS = 10_000;
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
  }

  /** Records what a workflow streams; each model step answers with a fixed text. */
  static final class Recording implements StepRunner {
    final List<String> events = new ArrayList<>();
    final List<List<ChatMessage>> prompts = new ArrayList<>();
    final LinkedHashSet<Step> steps = new LinkedHashSet<>();
    final StringBuilder searching = new StringBuilder();

    @Override
    public String model() {
      return "m";
    }

    @Override
    public Future<String> generate(Step step, List<ChatMessage> messages, int maxTokens) {
      prompts.add(messages);
      String answer = step == Step.THINKING ? "PLAN-TEXT" : "ANSWER";
      text(step, answer);
      return Future.succeededFuture(answer);
    }

    @Override
    public void text(Step step, String text) {
      steps.add(step);
      if (step == Step.SEARCHING) {
        searching.append(text);
      }
      events.add(step.wire() + ":" + text);
    }

    @Override
    public void progress(int percent, Step step) {
      events.add("progress:" + percent + ":" + step.wire());
    }

    List<String> progress() {
      return events.stream().filter(e -> e.startsWith("progress:")).toList();
    }
  }

  private static Recording run(Workflow w, JobType type, String prompt) {
    Recording r = new Recording();
    w.run(JobRequest.ask(prompt).withType(type), r).await();
    return r;
  }

  @Test
  void everyWorkflowHasAllItsPromptsInTheResourcesFile() {
    Prompts p = new Prompts();
    assertNotNull(p.text("ask.system", Map.of()));
    for (String type : List.of("research", "code", "analysis")) {
      for (String key : List.of(".thinking.system", ".thinking.user", ".writing.system", ".writing.user")) {
        assertFalse(p.text(type + key, Map.of()).isBlank(), type + key);
      }
    }
  }

  @Test
  void researchThinksSearchesAndWritesWithTheFindingsAndPlanInThePrompt() throws Exception {
    Path docs = Files.createTempDirectory("docs");
    Files.writeString(docs.resolve("a.md"), "# Tokens\n\nToken streaming sends tokens as they are made.\n\nGardening tips.\n");
    Files.writeString(docs.resolve("b.txt"), "How token streaming works: tokens go over SSE one by one.\n");
    Files.writeString(docs.resolve("ignored.bin"), "token streaming");
    Workflows w = new Workflows(new LocalDocsSearch(vertx, docs.toString(), BUDGET_MS));
    Recording r = run(w.forType(JobType.RESEARCH), JobType.RESEARCH, "how does token streaming work");
    assertEquals(List.of(Step.THINKING, Step.SEARCHING, Step.WRITING), new ArrayList<>(r.steps));
    assertEquals(List.of("progress:0:thinking", "progress:30:searching", "progress:60:writing", "progress:100:writing"),
      r.progress());
    String found = r.searching.toString();
    assertTrue(found.indexOf("b.txt") < found.indexOf("a.md") && found.indexOf("a.md") > 0, "best match first: " + found);
    assertFalse(found.contains("Gardening") || found.contains("ignored.bin"), found);
    String writer = r.prompts.get(1).toString();
    assertTrue(writer.contains("PLAN-TEXT") && writer.contains("b.txt") && writer.contains("how does token streaming work"),
      writer);
  }

  @Test
  void researchWithoutADocumentFolderSaysSoAndStillAnswers() {
    Recording r = run(new Workflows(new LocalDocsSearch(vertx, null, BUDGET_MS)).forType(JobType.RESEARCH), JobType.RESEARCH, "q?");
    assertTrue(r.searching.toString().contains("No document folder is configured"), r.searching.toString());
    assertEquals("progress:100:writing", r.progress().get(r.progress().size() - 1));
  }

  @Test
  void aFailingSearchIsReportedAndTheJobGoesOn() {
    SearchTool broken = (q, n) -> Future.failedFuture("index offline");
    Recording r = run(new Workflows(broken).forType(JobType.RESEARCH), JobType.RESEARCH, "q?");
    assertTrue(r.searching.toString().contains("index offline"));
    assertTrue(r.steps.contains(Step.WRITING));
    Recording missing = run(new Workflows(new LocalDocsSearch(vertx, "/nonexistent/tokenbus-docs", BUDGET_MS))
      .forType(JobType.RESEARCH), JobType.RESEARCH, "q?");
    assertTrue(missing.searching.toString().contains("The search failed"), missing.searching.toString());
  }

  @Test
  void aSearchThatStoppedEarlySaysSoAndTellsTheWriter() {
    String stopped = "The search stopped at its 5 ms budget, having read 1 of 9 files; these are the best matches among them.";
    SearchTool partial = (q, n) -> Future.succeededFuture(new SearchTool.Found(
      List.of(new SearchTool.Hit("a.md", "token streaming")), stopped));
    Recording r = run(new Workflows(partial).forType(JobType.RESEARCH), JobType.RESEARCH, "q?");
    assertTrue(r.searching.toString().contains("a.md: token streaming") && r.searching.toString().contains(stopped),
      r.searching.toString());
    assertTrue(r.prompts.get(1).toString().contains(stopped), "the writer is told");
  }

  @Test
  void codeAndAnalysisThinkThenWriteAndAskJustWrites() {
    for (JobType t : List.of(JobType.CODE, JobType.ANALYSIS)) {
      Recording r = run(new Workflows(new LocalDocsSearch(vertx, null, BUDGET_MS)).forType(t), t, "sort a list");
      assertEquals(List.of(Step.THINKING, Step.WRITING), new ArrayList<>(r.steps), t.wire());
      assertEquals(List.of("progress:0:thinking", "progress:40:writing", "progress:100:writing"), r.progress());
      assertTrue(r.prompts.get(1).toString().contains("PLAN-TEXT"));
    }
    Recording ask = run(new Workflows(new LocalDocsSearch(vertx, null, BUDGET_MS)).forType(JobType.ASK), JobType.ASK, "hi");
    assertEquals(List.of(Step.WRITING), new ArrayList<>(ask.steps));
    assertEquals(List.of("progress:0:writing", "progress:100:writing"), ask.progress());
  }
}
