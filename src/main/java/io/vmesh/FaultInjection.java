package io.vmesh;

/** Faults a test can switch on by configuration, to prove what a crash at that point does. Off in production. */
public final class FaultInjection {

    private FaultInjection() {
    }

    /** Dies at once, like {@code kill -9}: no shutdown hook, no answer sent. */
    public static void halt() {
        Runtime.getRuntime().halt(137);
    }
}
