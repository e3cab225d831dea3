package io.tokenbus.worker.run;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.Step;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What a job taken over from a dead worker had stored, handed back to its workflow as the workflow runs again from
 * the start: a step that is over (a later step has chunks) returns its stored text without calling the model; tool
 * text already stored is skipped; the step that was streaming is continued from its stored text. The workflows are
 * deterministic up to the model's output (same prompts, same search), which is what makes this exact.
 */
final class StoredAnswer {
  private final Map<Step, StringBuilder> text = new EnumMap<>(Step.class);
  private final Map<Step, Integer> tokens = new EnumMap<>(Step.class);
  private final Step lastStep;
  private final String all;

  StoredAnswer(List<ChunkEvent> chunks) {
    StringBuilder everything = new StringBuilder();
    Step last = null;
    for (ChunkEvent c : chunks) {
      Step step = stepOf(c);
      text.computeIfAbsent(step, s -> new StringBuilder()).append(c.chunk());
      tokens.merge(step, c.metadata().tokens() == null ? 1 : c.metadata().tokens(), Integer::sum);
      everything.append(c.chunk());
      last = step;
    }
    this.lastStep = last;
    this.all = everything.toString();
  }

  static Step stepOf(ChunkEvent c) {
    return c.metadata().step() == null ? Step.WRITING : c.metadata().step();
  }

  /** Every stored chunk's text in order: the start of the job's result. */
  String all() {
    return all;
  }

  /** Nothing stored is left to hand back: the job is past where its previous worker stopped. */
  boolean used() {
    return text.isEmpty();
  }

  /** The step that was streaming when the previous worker stopped. */
  boolean streaming(Step step) {
    return step == lastStep;
  }

  /** Takes the stored text of {@code step} ("" when none), with the number of tokens it held. */
  Taken take(Step step) {
    StringBuilder t = text.remove(step);
    Integer n = tokens.remove(step);
    return new Taken(t == null ? "" : t.toString(), n == null ? 0 : n);
  }

  /** Tool text produced again: what of it is not stored yet ("" when all of it is). */
  String skip(Step step, String produced) {
    StringBuilder stored = text.get(step);
    if (stored == null) {
      return produced;
    }
    int n = Math.min(stored.length(), produced.length());
    stored.delete(0, n);
    if (stored.length() == 0) {
      text.remove(step);
      tokens.remove(step);
    }
    return produced.substring(n);
  }

  record Taken(String text, int tokens) {}
}
