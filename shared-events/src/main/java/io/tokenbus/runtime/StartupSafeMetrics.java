package io.tokenbus.runtime;

import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.core.metrics.MetricsOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.TCPMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;

/**
 * Works around a start-up race in Vert.x 5.0.x (seen with 5.0.7, unchanged up to 5.0.12): {@code NetServerImpl}
 * creates a server's metrics only once the socket is bound, in the bind listener on the acceptor thread, so a
 * connection accepted in between gets no socket metric ({@code null}), while its requests later find the server's
 * metrics in place and call {@code HttpServerMetrics.requestBegin(null, request)}. vertx-micrometer-metrics
 * dereferences it ("socketMetric is null"): the request is never answered (a probe or first client hanging about one
 * start in 30). This wrapper leaves such a connection unmeasured instead; every other call goes straight through.
 */
final class StartupSafeMetrics implements VertxMetricsFactory {
  private final VertxMetricsFactory delegate;

  StartupSafeMetrics(VertxMetricsFactory delegate) {
    this.delegate = delegate;
  }

  @Override
  public VertxMetrics metrics(VertxOptions options) {
    return wrap(delegate.metrics(options));
  }

  @Override
  public MetricsOptions newOptions() {
    return delegate.newOptions();
  }

  @Override
  public MetricsOptions newOptions(MetricsOptions options) {
    return delegate.newOptions(options);
  }

  @Override
  public MetricsOptions newOptions(JsonObject json) {
    return delegate.newOptions(json);
  }

  static VertxMetrics wrap(VertxMetrics m) {
    return (VertxMetrics) Proxy.newProxyInstance(StartupSafeMetrics.class.getClassLoader(), new Class<?>[] {VertxMetrics.class},
      (proxy, method, args) -> {
        try {
          Object r = method.invoke(m, args);
          if (r != null && method.getName().equals("createHttpServerMetrics")) {
            return new NullSafeHttpServer<>(cast(r));
          }
          if (r != null && method.getName().equals("createNetServerMetrics")) {
            return new NullSafeTcp<>(castTcp(r));
          }
          return r;
        } catch (InvocationTargetException e) {
          throw e.getCause();
        }
      });
  }

  @SuppressWarnings("unchecked")
  private static <R, W, S> HttpServerMetrics<R, W, S> cast(Object o) {
    return (HttpServerMetrics<R, W, S>) o;
  }

  @SuppressWarnings("unchecked")
  private static <S> TCPMetrics<S> castTcp(Object o) {
    return (TCPMetrics<S>) o;
  }

  /** TCP metrics that skip a connection without a socket metric (accepted before the server's metrics existed). */
  static class NullSafeTcp<S> implements TCPMetrics<S> {
    private final TCPMetrics<S> d;

    NullSafeTcp(TCPMetrics<S> d) {
      this.d = d;
    }

    @Override
    public S connected(SocketAddress remoteAddress, String remoteName) {
      return d.connected(remoteAddress, remoteName);
    }

    @Override
    public void disconnected(S socketMetric, SocketAddress remoteAddress) {
      if (socketMetric != null) {
        d.disconnected(socketMetric, remoteAddress);
      }
    }

    @Override
    public void bytesRead(S socketMetric, SocketAddress remoteAddress, long numberOfBytes) {
      if (socketMetric != null) {
        d.bytesRead(socketMetric, remoteAddress, numberOfBytes);
      }
    }

    @Override
    public void bytesWritten(S socketMetric, SocketAddress remoteAddress, long numberOfBytes) {
      if (socketMetric != null) {
        d.bytesWritten(socketMetric, remoteAddress, numberOfBytes);
      }
    }

    @Override
    public void exceptionOccurred(S socketMetric, SocketAddress remoteAddress, Throwable t) {
      if (socketMetric != null) {
        d.exceptionOccurred(socketMetric, remoteAddress, t);
      }
    }

    @Override
    public void close() {
      d.close();
    }
  }

  /** HTTP server metrics where a request on such a connection has no request metric, and is skipped throughout. */
  static final class NullSafeHttpServer<R, W, S> extends NullSafeTcp<S> implements HttpServerMetrics<R, W, S> {
    private final HttpServerMetrics<R, W, S> d;

    NullSafeHttpServer(HttpServerMetrics<R, W, S> d) {
      super(d);
      this.d = d;
    }

    @Override
    public R requestBegin(S socketMetric, HttpRequest request) {
      return socketMetric == null ? null : d.requestBegin(socketMetric, request);
    }

    @Override
    public void requestEnd(R requestMetric, HttpRequest request, long bytesRead) {
      if (requestMetric != null) {
        d.requestEnd(requestMetric, request, bytesRead);
      }
    }

    @Override
    public void requestReset(R requestMetric) {
      if (requestMetric != null) {
        d.requestReset(requestMetric);
      }
    }

    @Override
    public void responseBegin(R requestMetric, HttpResponse response) {
      if (requestMetric != null) {
        d.responseBegin(requestMetric, response);
      }
    }

    @Override
    public R responsePushed(S socketMetric, HttpMethod method, String uri, HttpResponse response) {
      return socketMetric == null ? null : d.responsePushed(socketMetric, method, uri, response);
    }

    @Override
    public void responseEnd(R requestMetric, HttpResponse response, long bytesWritten) {
      if (requestMetric != null) {
        d.responseEnd(requestMetric, response, bytesWritten);
      }
    }

    @Override
    public W connected(S socketMetric, R requestMetric, ServerWebSocket serverWebSocket) {
      return socketMetric == null ? null : d.connected(socketMetric, requestMetric, serverWebSocket);
    }

    @Override
    public void disconnected(W serverWebSocketMetric) {
      if (serverWebSocketMetric != null) {
        d.disconnected(serverWebSocketMetric);
      }
    }

    @Override
    public void requestRouted(R requestMetric, String route) {
      if (requestMetric != null) {
        d.requestRouted(requestMetric, route);
      }
    }
  }
}
