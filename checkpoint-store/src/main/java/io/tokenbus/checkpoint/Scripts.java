package io.tokenbus.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The Lua scripts of the chunk log, read from resources. Their SHA1 is computed here, as Redis does, so EVALSHA can
 * be sent before (and regardless of) any SCRIPT LOAD answer; {@link ScriptCalls} loads them when Redis lacks them.
 */
enum Scripts {
  OPEN("open.lua"), APPEND("append.lua"), READ("read.lua"), LEASE("lease.lua"), CLAIM("claim.lua");

  final String source;
  final String sha;

  Scripts(String file) {
    try (InputStream in = Scripts.class.getResourceAsStream(file)) {
      source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
