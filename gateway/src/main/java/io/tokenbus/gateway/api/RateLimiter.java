package io.tokenbus.gateway.api;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Token bucket per client key (remote address), refilled continuously to {@code perMinute}. The key map is an LRU
 * bounded to {@code maxKeys}, so a flood of addresses cannot grow memory. Event-loop confined.
 */
public final class RateLimiter {
  private record Bucket(double tokens, long atNanos) {}

  private final double perNano;
  private final double capacity;
  private final Map<String, Bucket> buckets;

  public RateLimiter(int perMinute, int maxKeys) {
    this.capacity = perMinute;
    this.perNano = perMinute / 60e9;
    this.buckets = new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
        return size() > maxKeys;
      }
    };
  }

  public boolean tryAcquire(String key) {
    long now = System.nanoTime();
    Bucket b = buckets.get(key);
    double tokens = b == null ? capacity : Math.min(capacity, b.tokens() + (now - b.atNanos()) * perNano);
    if (tokens < 1) {
      buckets.put(key, new Bucket(tokens, now));
      return false;
    }
    buckets.put(key, new Bucket(tokens - 1, now));
    return true;
  }
}
