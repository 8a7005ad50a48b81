package io.vmesh;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;

/**
 * The retry and probe intervals of the shipped {@code camel-config/application.properties}, and the
 * time bounds tests derive from them. A bound is what the configuration promises plus what a loaded
 * two-core machine (several JVMs, Maven, the tests) adds to the work around it; an await ends as
 * soon as its condition holds, so a generous bound costs nothing when the behaviour is right.
 */
final class ShippedIntervals {

    /** What a loaded machine adds to a few requests and a JVM's work between two retries. */
    static final Duration LOAD_SLACK = Duration.ofSeconds(20);

    private static final Properties SHIPPED = load(Path.of("camel-config/application.properties"));

    private ShippedIntervals() {
    }

    static Duration initialBackoff() {
        return millis("vmesh.migration.initial-backoff");
    }

    static Duration maxBackoff() {
        return millis("vmesh.migration.max-backoff");
    }

    static Duration awayProbeInterval() {
        return millis("vmesh.migration.away-probe-interval");
    }

    static Duration probeTimeout() {
        return millis("vmesh.migration.probe-timeout-ms");
    }

    /**
     * How long a mailbox's change takes to reach the indicator's subscribers: route mwi-changed
     * publishes once per {@code vmesh.mwi.coalesce-ms}, plus {@link #LOAD_SLACK}.
     */
    static Duration indicatorWithin() {
        return millis("vmesh.mwi.coalesce-ms").plus(LOAD_SLACK);
    }

    /**
     * How long a message waiting for a home takes to reach it once the home answers again: the
     * longest back-off, the probe interval and a probe's timeout, twice (a retry scheduled just before
     * the home returned can fail once more), plus {@link #LOAD_SLACK}.
     */
    static Duration homeBackWithin() {
        return maxBackoff().plus(awayProbeInterval()).plus(probeTimeout()).multipliedBy(2).plus(LOAD_SLACK);
    }

    private static Duration millis(String key) {
        String value = SHIPPED.getProperty(key);
        if (value == null) {
            throw new IllegalStateException(key + " is not in the shipped application.properties");
        }
        return Duration.ofMillis(Long.parseLong(value.trim()));
    }

    private static Properties load(Path file) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return properties;
    }
}
