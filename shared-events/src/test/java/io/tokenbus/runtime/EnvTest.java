package io.tokenbus.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvTest {
  @Test
  void unsetOrBlankReadsAsTheDefaultAndValuesAreTrimmed() {
    Map<String, String> env = Map.of("B", " ", "N", " 42 ", "T", "TRUE", "F", "False", "D", "0.5");
    assertEquals(7, Env.integer(env, "MISSING", 7));
    assertEquals(7, Env.integer(env, "B", 7));
    assertEquals(42, Env.integer(env, "N", 7));
    assertEquals(42L, Env.whole(env, "N", 7));
    assertEquals(0.5, Env.decimal(env, "D", 1));
    assertTrue(Env.flag(env, "T", false));
    assertFalse(Env.flag(env, "F", true));
    assertTrue(Env.flag(env, "B", true));
  }

  @Test
  void aValueThatDoesNotParseIsRefusedNamingItsVariable() {
    Map<String, String> env = Map.of("X", "yes", "Y", "1.5", "Z", "Infinity");
    assertEquals("X must be true or false, not 'yes'", assertThrows(IllegalArgumentException.class,
      () -> Env.flag(env, "X", false)).getMessage());
    assertEquals("Y must be a whole number, not '1.5'", assertThrows(IllegalArgumentException.class,
      () -> Env.integer(env, "Y", 0)).getMessage());
    assertEquals("Z must be a number, not 'Infinity'", assertThrows(IllegalArgumentException.class,
      () -> Env.decimal(env, "Z", 0)).getMessage());
  }
}
