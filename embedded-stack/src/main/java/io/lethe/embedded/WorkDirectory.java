package io.lethe.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Where an {@link EmbeddedStack} keeps its servers' data, and how they are stopped. */
final class WorkDirectory {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedStack.class);

    private WorkDirectory() {
    }

    /** {@code requested} (new or empty: servers cannot reuse old data), or a new temporary directory when null. */
    static Path create(Path requested) {
        try {
            if (requested != null && Files.isDirectory(requested)) {
                try (Stream<Path> entries = Files.list(requested)) {
                    if (entries.findAny().isPresent()) {
                        throw new IllegalArgumentException("the work directory " + requested
                                + " is not empty; give a new or empty directory (servers cannot reuse old data)");
                    }
                }
            }
            return requested != null ? Files.createDirectories(requested) : Files.createTempDirectory("lethe-stack-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the work directory", e);
        }
    }

    /** Stops each server in order (nulls are servers never started); a failure is logged and the next is stopped. */
    static void stopInOrder(List<AutoCloseable> servers) {
        for (AutoCloseable server : servers) {
            if (server == null) {
                continue;
            }
            try {
                server.close();
            } catch (Exception e) {
                LOG.warn("stopping {} failed: {}", server.getClass().getSimpleName(), e.toString());
            }
        }
    }

    static void delete(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", dir, e.toString());
        }
    }
}
