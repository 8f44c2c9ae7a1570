package io.lethe.capture.source;

/**
 * The outcome of one start-up or doctor check.
 *
 * @param check   what was checked, e.g. {@code wal_level}
 * @param status  pass, warn or fail
 * @param message what was found, in plain words
 * @param fix     the exact command or change that fixes it; empty when it passed
 */
public record CheckResult(String check, Status status, String message, String fix) {
    public enum Status {
        PASS, WARN, FAIL
    }

    public static CheckResult pass(String check, String message) {
        return new CheckResult(check, Status.PASS, message, "");
    }

    public static CheckResult warn(String check, String message, String fix) {
        return new CheckResult(check, Status.WARN, message, fix);
    }

    public static CheckResult fail(String check, String message, String fix) {
        return new CheckResult(check, Status.FAIL, message, fix);
    }

    @Override
    public String toString() {
        return status + " " + check + ": " + message + (fix.isEmpty() ? "" : "\n      fix: " + fix);
    }
}
