package io.tokenbus.events.codec;

import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ProgressEvent;
import io.tokenbus.events.StatusEvent;
import io.tokenbus.events.internal.AppendBatch;
import io.tokenbus.events.internal.AppendBatchResult;
import io.tokenbus.events.internal.AppendRequest;
import io.tokenbus.events.internal.AppendResult;
import io.tokenbus.events.internal.InteractiveLate;
import io.tokenbus.events.internal.JobAssignment;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.JobClaim;
import io.tokenbus.events.internal.LeaseRenewal;
import io.tokenbus.events.internal.Takeover;
import io.tokenbus.events.internal.WatchedJobs;
import io.tokenbus.events.internal.ReplayRequest;
import io.vertx.core.eventbus.EventBus;
import java.util.function.Function;

/** Registers a default codec for every record that travels on the event bus. Safe to call once per verticle. */
public final class EventCodecs {
  private EventCodecs() {}

  public static void register(EventBus eb) {
    add(eb, ChunkEvent.class, new ChunkCodec());
    add(eb, JobSnapshot.class, new SnapshotCodec());
    add(eb, ProgressEvent.class, "tb.progress", ProgressEvent::toJson, ProgressEvent::fromJson);
    add(eb, StatusEvent.class, "tb.status", StatusEvent::toJson, StatusEvent::fromJson);
    add(eb, JobAssignment.class, "tb.assignment", JobAssignment::toJson, JobAssignment::fromJson);
    add(eb, AppendRequest.class, "tb.append", AppendRequest::toJson, AppendRequest::fromJson);
    add(eb, AppendResult.class, "tb.appended", AppendResult::toJson, AppendResult::fromJson);
    add(eb, AppendBatch.class, "tb.append-batch", AppendBatch::toJson, AppendBatch::fromJson);
    add(eb, AppendBatchResult.class, "tb.appended-batch", AppendBatchResult::toJson, AppendBatchResult::fromJson);
    add(eb, LeaseRenewal.class, "tb.lease", LeaseRenewal::toJson, LeaseRenewal::fromJson);
    add(eb, LeaseRenewal.Result.class, "tb.lease-result", LeaseRenewal.Result::toJson, LeaseRenewal.Result::fromJson);
    add(eb, JobClaim.class, "tb.claim", JobClaim::toJson, JobClaim::fromJson);
    add(eb, JobClaim.Result.class, "tb.claim-result", JobClaim.Result::toJson, JobClaim.Result::fromJson);
    add(eb, Takeover.class, "tb.takeover", Takeover::toJson, Takeover::fromJson);
    add(eb, Takeover.Result.class, "tb.takeover-result", Takeover.Result::toJson, Takeover.Result::fromJson);
    add(eb, ReplayRequest.class, "tb.replay", ReplayRequest::toJson, ReplayRequest::fromJson);
    add(eb, WatchedJobs.class, "tb.watched", WatchedJobs::toJson, WatchedJobs::fromJson);
    add(eb, InteractiveLate.class, "tb.interactive-late", InteractiveLate::toJson, InteractiveLate::fromJson);
  }

  private static <T> void add(EventBus eb, Class<T> type, String name, Function<T, io.vertx.core.json.JsonObject> to,
                              Function<io.vertx.core.json.JsonObject, T> from) {
    add(eb, type, new RecordCodec<>(name, to, from));
  }

  private static <T> void add(EventBus eb, Class<T> type, io.vertx.core.eventbus.MessageCodec<T, T> codec) {
    try {
      eb.registerDefaultCodec(type, codec);
    } catch (IllegalStateException alreadyRegistered) {
      // another verticle of this Vert.x instance registered it first
    }
  }
}
