package io.vmesh.migration;

/** A message that no retry will deliver (its extension left the directory, its spool copy is gone): dead-lettered with this reason. */
public final class Undeliverable extends RuntimeException {

    public Undeliverable(String message) {
        super(message, null, false, false);
    }
}
