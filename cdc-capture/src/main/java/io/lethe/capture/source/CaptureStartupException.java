package io.lethe.capture.source;

import java.util.List;
import java.util.stream.Collectors;

/** Capture refused to start; the message lists every failed check and its fix. */
public final class CaptureStartupException extends IllegalStateException {
    private final List<CheckResult> failed;

    public CaptureStartupException(List<CheckResult> failed) {
        super("capture cannot start:\n" + failed.stream().map(r -> "  " + r).collect(Collectors.joining("\n")));
        this.failed = List.copyOf(failed);
    }

    public List<CheckResult> failed() {
        return failed;
    }
}
