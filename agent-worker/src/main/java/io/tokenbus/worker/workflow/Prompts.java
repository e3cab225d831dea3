package io.tokenbus.worker.workflow;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;

/** The workflow prompts from {@code prompts.properties}, with {@code {name}} placeholders filled in. */
public final class Prompts {
  private final Properties props = new Properties();

  public Prompts() {
    try (InputStream in = Prompts.class.getResourceAsStream("prompts.properties")) {
      props.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String text(String key, Map<String, String> values) {
    String t = props.getProperty(key);
    if (t == null) {
      throw new IllegalArgumentException("no prompt " + key);
    }
    for (Map.Entry<String, String> e : values.entrySet()) {
      t = t.replace("{" + e.getKey() + "}", e.getValue());
    }
    return t;
  }

  public int maxTokens(String key) {
    return Integer.parseInt(props.getProperty(key + ".maxTokens", "0"));
  }
}
