package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.retry.Backoff;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The sweep worker without servers: a scripted sweeper. */
class PatternSweepsTest {
    private static final Applied SWEPT = new Applied(Map.of("deleted", 1), List.of());
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RegionMetrics metrics = new RegionMetrics(registry, "us-east");

    private static InvalidationEvent pattern(String glob, long version) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "e" + version, "product", Scope.PATTERN, null, glob, Action.DELETE, null,
                Long.toString(version), version, 1L, 0, 0, 0, null, Op.UPDATE, null, null);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(5);
        }
    }

    @Test
    void sweepsRunOldestFirstAndAGlobThatWaitsIsJoined() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<String> swept = new CopyOnWriteArrayList<>();
        List<List<InvalidationEvent>> sweptEvents = new CopyOnWriteArrayList<>();
        try (PatternSweeps sweeps = new PatternSweeps("us-east", (glob, events) -> {
            swept.add(glob);
            sweptEvents.add(events);
            assertTrue(release.await(10, TimeUnit.SECONDS));
            return SWEPT;
        }, metrics, new Backoff(Duration.ofMillis(1), Duration.ofMillis(5)), f -> {
        })) {
            assertEquals(1, sweeps.submit("a*", List.of(pattern("a*", 10))));
            await("the first sweep running", () -> swept.size() == 1);
            assertEquals(2, sweeps.submit("b*", List.of(pattern("b*", 11))));
            assertEquals(2, sweeps.submit("b*", List.of(pattern("b*", 13))), "a glob that waits, not started, is joined");
            assertEquals(2, sweeps.submit("b*", List.of(pattern("b*", 12))));
            assertEquals(3, sweeps.submit("a*", List.of(pattern("a*", 14))), "a glob already running is swept again");
            assertEquals(3, sweeps.submitted());
            assertEquals(3, sweeps.backlog());
            assertEquals(3.0, registry.get(RegionMeterNames.PATTERN_BACKLOG).gauge().value());
            assertEquals(0, sweeps.done(), "nothing is done while the first runs");
            release.countDown();
            await("every sweep done", () -> sweeps.done() == 3);
            assertEquals(List.of("a*", "b*", "a*"), swept);
            assertEquals(List.of(pattern("b*", 13)), sweptEvents.get(1), "the newest event of a namespace and scope is kept");
            PatternSweeps.Progress progress = sweeps.takeFinished();
            assertEquals(3, progress.done());
            assertEquals(3, progress.finished().size());
            assertEquals(0, sweeps.takeFinished().finished().size(), "taken once");
            assertEquals(0, sweeps.backlog());
            assertEquals(3, registry.get(RegionMeterNames.PATTERN_DURATION).timer().count());
        }
    }

    @Test
    void aFailedSweepIsSweptAgainNeverSkipped() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<Failure> reported = new CopyOnWriteArrayList<>();
        AtomicReference<PatternSweeps> holder = new AtomicReference<>();
        AtomicBoolean failingAtSecondCall = new AtomicBoolean();
        try (PatternSweeps sweeps = new PatternSweeps("us-east", (glob, events) -> {
            int n = calls.incrementAndGet();
            if (n == 1) {
                throw new ApplyFailure(Failure.retriable("timeout", null), "scripted timeout");
            }
            if (n == 2) {
                failingAtSecondCall.set(holder.get().failing());
                throw new ApplyFailure(Failure.fatal("authorization", "grant SCAN", null), "scripted NOPERM");
            }
            return SWEPT;
        }, metrics, new Backoff(Duration.ofMillis(1), Duration.ofMillis(5)), reported::add)) {
            holder.set(sweeps);
            sweeps.submit("a*", List.of(pattern("a*", 10)));
            await("the sweep done", () -> sweeps.done() == 1);
            assertTrue(failingAtSecondCall.get(), "failing while it is swept again (the region reports DOWN)");
            assertEquals(3, calls.get());
            assertTrue(!sweeps.failing(), "no longer failing once swept");
            assertEquals(1, reported.size(), "a configuration error is reported");
            assertEquals(1.0, registry.get("lethe.region.retries").tag("kind", "timeout").counter().count());
            assertEquals(1.0, registry.get("lethe.region.retries").tag("kind", "authorization").counter().count());
        }
    }
}
