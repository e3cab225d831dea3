package io.tokenbus.e2e;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Tests that drive a real headless Chromium (Debian {@code chromium} + {@code chromium-driver}). Like Testcontainers'
 * {@code disabledWithoutDocker}: on a machine without them the tests are skipped with the reason, unless the browser
 * is required ({@code CI=true} or {@code -Dtokenbus.requireBrowser=true}), where its absence fails the build.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(BrowserCondition.class)
public @interface RequiresBrowser {}
