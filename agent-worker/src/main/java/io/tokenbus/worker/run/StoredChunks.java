package io.tokenbus.worker.run;

import io.tokenbus.events.Addresses;
import io.tokenbus.events.ChunkEvent;
import io.tokenbus.events.ErrorCode;
import io.tokenbus.events.TokenbusException;
import io.tokenbus.events.internal.JobSnapshot;
import io.tokenbus.events.internal.ReplayRequest;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import java.util.ArrayList;
import java.util.List;

/** Reads chunks 1..last of a job from the checkpoint store, page after page (what a takeover continues from). */
public final class StoredChunks {
  private StoredChunks() {}

  public static Future<List<ChunkEvent>> read(EventBus eb, String jobId, long last) {
    return page(eb, jobId, last, new ArrayList<>((int) Math.min(last, 100_000)));
  }

  private static Future<List<ChunkEvent>> page(EventBus eb, String jobId, long last, List<ChunkEvent> into) {
    long after = into.size();
    if (after >= last) {
      return Future.succeededFuture(into);
    }
    return eb.<JobSnapshot>request(Addresses.CHECKPOINT_REPLAY, new ReplayRequest(jobId, after, 0)).compose(m -> {
      List<ChunkEvent> chunks = m.body().chunks();
      if (chunks.isEmpty()) {
        return Future.failedFuture(new TokenbusException(ErrorCode.HISTORY_LOST,
          "job " + jobId + ": the store holds " + after + " of the " + last + " chunks it had"));
      }
      for (ChunkEvent c : chunks) {
        if (c.sequence() <= last) {
          into.add(c);
        }
      }
      return page(eb, jobId, last, into);
    });
  }
}
