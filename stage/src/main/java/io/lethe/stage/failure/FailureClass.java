package io.lethe.stage.failure;

/** What a stage does about an error: the one decision every retry loop takes from {@link Failure}. */
public enum FailureClass {
    /** Transient (a timeout, a lost connection, a server loading or failing over): wait and try the same again. */
    RETRIABLE,
    /**
     * This record can never succeed as it is (too large, wrong type, refused by a script): widen
     * what it invalidates where that is possible, dead-letter it with the reason, and go on with
     * the rest of the batch.
     */
    POISON,
    /**
     * The deployment is wrong (credentials refused, an ACL denies a command or a topic): nothing
     * succeeds until someone fixes it. The stage keeps retrying so it recovers by itself once
     * fixed, turns its health DOWN and logs the fix.
     */
    FATAL_CONFIG
}
